"""Classical codec-in-LSB hiding (``wincli.classical``, ``win hide --method lsb``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import DATA, needs_data, smooth_image
from wincli.classical import (
    NOTHING,
    capacity,
    code_secret,
    has_avif,
    hide_lsb,
    reveal_coded,
    reveal_lsb,
)
from wincli.cli import app
from wincli.errors import InputError

COVER = smooth_image(160, 192, seed=1)


def _secrets(n: int) -> list[np.ndarray]:
    sizes = [(48, 64), (64, 40), (33, 57), (40, 40)]  # mixed sizes and aspect ratios
    return [smooth_image(h, w, seed=10 + i) for i, (h, w) in enumerate(sizes[:n])]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_round_trip_recovers_each_codec_output_exactly(n):
    secrets = _secrets(n)
    stego, coded = hide_lsb(COVER, secrets, bits=1, passphrase="pw")
    got = reveal_lsb(stego, passphrase="pw")
    assert len(got) == n
    for g, c, s in zip(got, coded, secrets, strict=True):
        assert g.shape == s.shape  # each secret's own size and aspect ratio
        assert np.array_equal(g, c.decode())
    assert [c.stream for c in reveal_coded(stego, passphrase="pw")] == [c.stream for c in coded]


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_bits_and_lsb_matching(bits):
    stego, coded = hide_lsb(COVER, _secrets(1), bits=bits, codec="jpeg")
    diff = stego.astype(int) - COVER.astype(int)
    assert np.abs(diff).max() <= 1 << (bits - 1)  # the nearest value with the right low bits
    assert np.array_equal(reveal_lsb(stego)[0], coded[0].decode())
    if bits == 1:  # matching, not replacement: even values move both up and down
        even = COVER % 2 == 0
        assert (diff[even] == 1).any() and (diff[even] == -1).any()


def test_fresh_salt_and_nonce_but_deterministic_reveal():
    a, _ = hide_lsb(COVER, _secrets(1), passphrase="pw")
    b, _ = hide_lsb(COVER, _secrets(1), passphrase="pw")
    assert not np.array_equal(a, b)
    assert np.array_equal(reveal_lsb(a, passphrase="pw")[0], reveal_lsb(b, passphrase="pw")[0])
    assert np.array_equal(reveal_lsb(a, passphrase="pw")[0], reveal_lsb(a, passphrase="pw")[0])


def test_payload_spread_over_the_whole_cover():
    stego, _ = hide_lsb(COVER, _secrets(1), passphrase="pw")
    changed = (stego != COVER).any(-1)
    h = COVER.shape[0]
    top, bottom = changed[: h // 4].mean(), changed[-h // 4 :].mean()
    assert top > 0.05 and bottom > 0.05  # not written in raster order from the top


def test_wrong_passphrase_plain_photo_truncated_and_corrupt():
    stego, _ = hide_lsb(COVER, _secrets(2), passphrase="right")
    for bad in (
        lambda: reveal_lsb(stego, passphrase="wrong"),
        lambda: reveal_lsb(stego),  # hidden with a passphrase, revealed without
        lambda: reveal_lsb(COVER),  # a plain photo
        lambda: reveal_lsb(stego[:120], passphrase="right"),  # truncated (cropped) stego
    ):
        with pytest.raises(InputError, match=NOTHING):
            bad()
    corrupt = stego.copy()
    corrupt[80:] ^= 1  # flip the LSBs of the lower half: the payload no longer authenticates
    with pytest.raises(InputError, match=NOTHING):
        reveal_lsb(corrupt, passphrase="right")


def test_small_cover_refused_and_big_secret_shrunk():
    with pytest.raises(InputError, match="too small"):
        hide_lsb(smooth_image(16, 16), _secrets(1))
    big = smooth_image(400, 600, seed=3)
    stego, coded = hide_lsb(smooth_image(64, 64), [big], bits=1)
    out = reveal_lsb(stego)[0]
    assert out.shape == big.shape  # coded smaller, restored to its own size
    assert Image.open(__import__("io").BytesIO(coded[0].stream)).size != (600, 400)


def test_code_secret_fits_budget_and_picks_the_better_codec():
    img = smooth_image(96, 96, seed=5)
    for codec in ("webp", "jpeg", "auto"):
        c = code_secret(img, 2000, codec)
        assert len(c.stream) <= 2000
    assert code_secret(img, 10**6, "webp").quality == -1  # lossless when it fits
    assert np.array_equal(code_secret(img, 10**6, "webp").decode(), img)
    assert capacity((512, 512, 3), 2) == (512 * 512 * 3 - 272) * 2 // 8  # header: 272 slots


runner = CliRunner()


def _run(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def test_cli_hide_reveal_lsb(tmp_path, image_file):
    cover = image_file("cover.png", 96, 128, seed=1)
    s1 = image_file("s1.png", 40, 60, seed=2)
    s2 = image_file("s2.png", 64, 64, seed=3)
    stego = tmp_path / "stego.png"
    r = _run("hide", cover, s1, s2, "-o", stego, "--method", "lsb", "--passphrase", "k", "--check")
    assert r.exit_code == 0, r.output
    assert "check" in r.output
    out = tmp_path / "out"
    r = _run("reveal", stego, "--method", "lsb", "-o", out, env={"WIN_PASSPHRASE": "k"})
    assert r.exit_code == 0, r.output
    assert Image.open(out / "secret1.png").size == (60, 40)
    assert Image.open(out / "secret2.png").size == (64, 64)

    before = sorted(p.name for p in tmp_path.iterdir())
    r = _run("reveal", stego, "--method", "lsb", "--passphrase", "x", "-o", tmp_path / "o2")
    assert r.exit_code == 2
    assert r.output.strip() == f"error: {NOTHING}"
    r = _run(
        "hide", image_file("tiny.png", 16, 16), s1, "-o", tmp_path / "t.png", "--method", "lsb"
    )
    assert r.exit_code == 2 and "too small" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before + ["tiny.png"]


def test_api_lsb():
    import wincli

    cover = Image.fromarray(COVER)
    secret = Image.fromarray(_secrets(1)[0])
    stego = wincli.hide(cover, [secret], method="lsb", passphrase="p")
    _, found = wincli.reveal(stego, method="lsb", passphrase="p")
    assert found[0].size == secret.size
    with pytest.raises(InputError):
        wincli.reveal(stego, method="lsb", passphrase="q")


def test_authentic_but_malformed_payload_is_a_clean_error():
    from wincli.classical import embed_bytes, extract_bytes

    stego = embed_bytes(COVER, b"\x02\x00garbage")  # anyone can write with the public key
    assert extract_bytes(stego) == b"\x02\x00garbage"
    with pytest.raises(InputError, match="malformed"):
        reveal_lsb(stego)


@needs_data
@pytest.mark.skipif(not has_avif(), reason="this Pillow cannot write AVIF")
def test_avif_secret_is_coded_with_more_effort_than_the_encoders_default():
    """On a photo, the AVIF stream fits its budget and decodes closer than the best quality
    that fits at the encoder's default effort."""
    import io

    from wincli.metrics import psnr

    with Image.open(DATA / "eval" / "Kodak24" / "kodim07.png") as im:
        rgb = np.asarray(im.convert("RGB"))[:256, :256].copy()
    budget = 1500
    coded = code_secret(rgb, budget, "avif")
    assert coded.codec == "avif" and len(coded.stream) <= budget

    def default(q: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "AVIF", quality=q)
        return buf.getvalue()

    lo, hi, fits = 0, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        if len(data := default(q)) <= budget:
            fits, lo = data, q + 1
        else:
            hi = q - 1
    with Image.open(io.BytesIO(fits)) as im:
        base = psnr(np.asarray(im.convert("RGB")), rgb)
    assert psnr(coded.decode(), rgb) > base + 0.1
