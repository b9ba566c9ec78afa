"""Hiding that survives JPEG (``wincli.lattice``, ``win hide --method jpeg``)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import DATA, needs_data, smooth_image
from wincli.classical import NOTHING
from wincli.cli import app
from wincli.errors import InputError
from wincli.lattice import Lattice, capacity, hide_jpeg, read_shared, reveal_jpeg

runner = CliRunner()
COVER = smooth_image(192, 256, seed=4)
SECRET = smooth_image(48, 64, seed=5)


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _jpeg(rgb: np.ndarray, quality: int, path) -> np.ndarray:
    Image.fromarray(rgb).save(path, "JPEG", quality=quality)
    return np.asarray(Image.open(path).convert("RGB"))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / mse))


@pytest.mark.parametrize("quality", [75, 80, 85, 90, 95, 100])
def test_payload_survives_jpeg_at_or_above_q75(tmp_path, quality):
    stego, coded = hide_jpeg(COVER, [SECRET], passphrase="k")
    assert _psnr(stego, COVER) > 35
    path = tmp_path / "shared.jpg"
    pixels = _jpeg(stego, quality, path)
    found = reveal_jpeg(pixels, passphrase="k", shared=read_shared(path))
    assert found[0].stream == coded[0].stream  # the very bytes that were hidden
    assert found[0].decode().shape == SECRET.shape


def test_lower_quality_wrong_key_and_plain_images_say_nothing_is_there(tmp_path):
    stego, _ = hide_jpeg(COVER, [SECRET], passphrase="k")
    path = tmp_path / "low.jpg"
    with pytest.raises(InputError, match="below q75"):
        reveal_jpeg(_jpeg(stego, 50, path), passphrase="k", shared=read_shared(path))
    with pytest.raises(InputError) as e:
        reveal_jpeg(stego, passphrase="x")
    assert str(e.value) == NOTHING
    with pytest.raises(InputError):
        reveal_jpeg(COVER)


@pytest.mark.parametrize(
    "crop",
    [(1, 0, 0, 0), (0, 7, 0, 0), (0, 0, 8, 0), (0, 0, 0, 9), (15, 15, 15, 15), (16, 3, 16, 5)],
)
def test_a_stego_cropped_by_up_to_16_px_on_any_side_gives_back_the_very_bytes(crop):
    """The payload sits two blocks in from every side and reveal finds its corner: a crop that
    keeps its blocks (top, bottom, left, right in px) loses nothing."""
    stego, coded = hide_jpeg(COVER, [SECRET], passphrase="k")
    top, bottom, left, right = crop
    h, w = stego.shape[:2]
    cropped = np.ascontiguousarray(stego[top : h - bottom, left : w - right])
    assert reveal_jpeg(cropped, passphrase="k")[0].stream == coded[0].stream


@pytest.mark.parametrize("crop", [(17, 0), (0, 17), (40, 40)])
def test_a_crop_into_the_payload_is_refused_in_one_line_not_misread(crop):
    stego, _ = hide_jpeg(COVER, [SECRET], passphrase="k")
    top, right = crop
    cropped = np.ascontiguousarray(stego[top:, : stego.shape[1] - right])
    with pytest.raises(InputError, match="cropping by more than 16 px lost it"):
        reveal_jpeg(cropped, passphrase="k")


def test_a_crop_by_whole_blocks_survives_a_jpeg_of_the_cropped_stego(tmp_path):
    stego, coded = hide_jpeg(COVER, [SECRET], passphrase="k")
    path = tmp_path / "shared.jpg"
    pixels = _jpeg(np.ascontiguousarray(stego[8:, 16:-3]), 85, path)
    found = reveal_jpeg(pixels, passphrase="k", shared=read_shared(path))
    assert found[0].stream == coded[0].stream


def test_stegos_of_the_earlier_layout_are_still_revealed():
    """Earlier versions wrote the frame (no block counts) over every whole block from the
    image's corner, in one public order."""
    from reedsolo import RSCodec

    from wincli.classical import pack_payload, seal
    from wincli.lattice import DATA, PARITY, QUALITY

    _, coded = hide_jpeg(COVER, [SECRET])
    header, cipher, _ = seal(pack_payload(coded), QUALITY, "k")
    plain = header + cipher
    plain += bytes(-len(plain) % DATA)
    bits = np.unpackbits(np.frombuffer(bytes(RSCodec(PARITY).encode(plain)), dtype=np.uint8))
    old = Lattice(COVER.shape, legacy=True).write(COVER, bits)
    assert reveal_jpeg(old, passphrase="k")[0].stream == coded[0].stream


def test_only_the_payload_blocks_change_and_the_slots_are_public():
    small = smooth_image(32, 32, seed=6)
    stego, _ = hide_jpeg(COVER, [small])
    lattice = Lattice(COVER.shape)
    assert lattice.n_slots == (192 // 8 - 4) * (256 // 8 - 4) * 14
    diff = np.abs(stego.astype(int) - COVER.astype(int))
    assert 0 < diff.max() < 40
    inner = diff[16:-16, 16:-16].copy()
    diff[16:-16, 16:-16] = 0
    assert diff.max() == 0 and inner.max() > 0  # the two-block margin is left as it was
    assert not np.array_equal(hide_jpeg(COVER, [small])[0], stego)  # fresh salt and nonce
    assert capacity((16, 16, 3)) == 0


def test_cli_hide_reveal_jpeg_through_a_shared_file(tmp_path, image_file):
    cover = tmp_path / "cover.png"
    Image.fromarray(COVER).save(cover)
    secret = image_file("s.png", 48, 64, seed=5)
    stego = tmp_path / "stego.png"
    r = _run("hide", cover, secret, "-o", stego, "--method", "jpeg", "--check", "--passphrase", "k")
    assert r.exit_code == 0, r.output
    assert "after JPEG q90" in r.output
    shared = tmp_path / "shared.jpg"
    Image.open(stego).save(shared, quality=80)
    r = _run("reveal", shared, "--method", "jpeg", "--passphrase", "k", "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    got = np.asarray(Image.open(tmp_path / "out" / "secret1.png").convert("RGB"))
    assert got.shape == (48, 64, 3) and _psnr(got, np.asarray(Image.open(secret))) > 30

    cropped = tmp_path / "cropped.png"
    Image.open(stego).crop((5, 11, 256 - 2, 192 - 13)).save(cropped)  # left, top, right, bottom
    r = _run("reveal", cropped, "--method", "jpeg", "--passphrase", "k", "-o", tmp_path / "oc")
    assert r.exit_code == 0, r.output
    again = np.asarray(Image.open(tmp_path / "oc" / "secret1.png").convert("RGB"))
    assert np.array_equal(again, np.asarray(Image.open(tmp_path / "out" / "secret1.png")))

    before = sorted(p.name for p in tmp_path.iterdir())
    Image.open(stego).save(tmp_path / "q40.jpg", quality=40)
    r = _run("reveal", tmp_path / "q40.jpg", "--method", "jpeg", "-o", tmp_path / "o2")
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "below q75" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["q40.jpg"])


def test_api_jpeg(tmp_path):
    import wincli

    stego = wincli.hide(Image.fromarray(COVER), [Image.fromarray(SECRET)], method="jpeg")
    buf = io.BytesIO()
    stego.save(buf, "JPEG", quality=90)
    path = tmp_path / "s.jpg"
    path.write_bytes(buf.getvalue())
    _, found = wincli.reveal(Image.open(path), method="jpeg")
    assert found[0].size == (64, 48)


def test_a_stego_revealed_the_wrong_way_names_the_method_that_hid_it(tmp_path, image_file):
    """Revealing a classical stego with the WIN model (or the other classical method) would
    write noise: each says which method hid it instead, and writes nothing."""
    from wincli.classical import hide_lsb
    from wincli.verbs import classical_payload

    cover = tmp_path / "cover.png"
    Image.fromarray(COVER).save(cover)
    secret = image_file("s.png", 48, 64, seed=5)
    lsb, lattice = tmp_path / "lsb.png", tmp_path / "lattice.png"
    assert _run("hide", cover, secret, "-o", lsb, "--method", "lsb").exit_code == 0
    assert _run("hide", cover, secret, "-o", lattice, "--method", "jpeg").exit_code == 0
    shared = tmp_path / "shared.jpg"
    Image.open(lattice).save(shared, quality=85)
    cases = [
        (lsb, "win", "lsb"),
        (lattice, "win", "jpeg"),
        (shared, "win", "jpeg"),
        (lsb, "jpeg", "lsb"),
        (lattice, "lsb", "jpeg"),
    ]
    for stego, method, hidden in cases:
        out = tmp_path / f"out-{stego.stem}-{method}"
        r = _run("reveal", stego, "--method", method, "-o", out)
        assert r.exit_code == 2, (stego, method, r.output)
        hint = f"was hidden with --method {hidden}; reveal it with --method {hidden}"
        assert r.output == f"error: {stego}: {hint}\n"
        assert not out.exists()
    # the covers themselves and a classical stego's wrong passphrase say nothing of the kind
    assert classical_payload(cover, COVER) is None
    for side in (1, 4, 9):  # too small for either header
        assert classical_payload(None, np.zeros((side, side, 3), np.uint8)) is None
    assert classical_payload(None, hide_lsb(COVER, [SECRET], passphrase="k")[0]) == "lsb"
    r = _run("reveal", lattice, "--method", "jpeg", "--passphrase", "x", "-o", tmp_path / "o")
    assert r.exit_code == 2 and "was hidden with" not in r.output


def test_api_win_reveal_of_a_classical_stego_raises(tmp_path):
    import wincli

    stego = wincli.hide(Image.fromarray(COVER), [Image.fromarray(SECRET)], method="lsb")
    with pytest.raises(InputError, match="method='lsb'"):
        wincli.reveal(stego)


@needs_data
@pytest.mark.data
@pytest.mark.slow
def test_kodak_pairs_meet_the_shared_hiding_floors(tmp_path):
    """Kodak24 pairs (512 px): stego >= 35 dB and secret >= 27.5 dB after JPEG q90 of the stego,
    secret >= 25 after q75, through the files the CLI writes and reads (the two-block margin
    that lets a crop keep the payload costs a tenth of the room, about 0.5 dB of secret)."""
    from wincli.evaluate import hiding_groups, load_rgb
    from wincli.io import list_images, to_uint8, write_image

    scores: dict[str, list[float]] = {}
    for k, pair in enumerate(hiding_groups(list_images([DATA / "eval" / "Kodak24"]), 1)):
        cover, secret = (load_rgb(p, 512) for p in pair)
        paths = [tmp_path / f"{k}_{n}.png" for n in ("c", "s")]
        for p, x in zip(paths, (cover, secret), strict=True):
            write_image(p, x)
        stego = tmp_path / f"{k}_stego.png"
        assert _run("hide", *paths, "-o", stego, "--method", "jpeg").exit_code == 0
        for q in (90, 75):
            shared = tmp_path / f"{k}_q{q}.jpg"
            Image.open(stego).save(shared, quality=q)
            out = tmp_path / f"{k}_rev{q}"
            r = _run("reveal", shared, "--method", "jpeg", "-o", out)
            assert r.exit_code == 0, f"{pair[0].stem} q{q}: {r.output}"
            got = np.asarray(Image.open(out / "secret1.png").convert("RGB"))
            scores.setdefault(f"secret q{q}", []).append(_psnr(got, to_uint8(secret)))
            seen = np.asarray(Image.open(shared).convert("RGB"))
            scores.setdefault(f"stego q{q}", []).append(_psnr(seen, to_uint8(cover)))
    means = {k: float(np.mean(v)) for k, v in scores.items()}
    assert means["stego q90"] >= 35.0, means
    assert means["secret q90"] >= 27.5, means
    assert means["secret q75"] >= 25.0, means
