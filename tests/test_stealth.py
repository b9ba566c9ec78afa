"""Adaptive hiding (``wincli.stealth``, ``win hide --method stealth``): syndrome-trellis codes
under HILL costs, keyed and authenticated."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import smooth_image
from wincli import stealth
from wincli.classical import NOTHING, hide_lsb
from wincli.cli import app
from wincli.errors import InputError


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A cover with texture in one half and a flat sky in the other."""
    img = smooth_image(h, w, seed).astype(np.int16)
    rng = np.random.default_rng(seed)
    img[:, : w // 2] += rng.integers(-12, 13, size=(h, w // 2, 3), dtype=np.int16)
    img[:, w // 2 :] = 180
    return np.clip(img, 0, 255).astype(np.uint8)


COVER = _photo(192, 256, seed=1)
SECRET = smooth_image(64, 48, seed=5)


def _run(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def test_trellis_writes_the_message_with_few_changes():
    """Uniform costs: every syndrome comes out and each change carries far more than the two
    bits per change of plain LSB replacement (the bound at rate 1/10 is 7.7)."""
    rng = np.random.default_rng(0)
    k, width, m = 64, 10, 100
    cols = stealth._columns(rng, width)
    x = rng.integers(0, 2, (k, m * width), dtype=np.uint8)
    msg = rng.integers(0, 2, (k, m), dtype=np.uint8)
    y = stealth.stc_embed(x, np.ones(x.shape, np.float32), msg, cols)
    assert np.array_equal(stealth.stc_extract(y, cols), msg)
    assert msg.size / (y != x).sum() > 5.5


def test_round_trip_gives_the_coded_bytes_with_small_changes_where_the_texture_is():
    stego, coded = stealth.hide_stealth(COVER, [SECRET, SECRET[:40]], passphrase="pw")
    got = stealth.reveal_stealth(stego, passphrase="pw")
    assert [c.stream for c in got] == [c.stream for c in coded]
    assert np.array_equal(got[1].decode(), coded[1].decode())
    diff = stego.astype(int) - COVER
    assert np.abs(diff).max() == 1
    changed = diff != 0
    assert changed.mean() < 0.05
    w = COVER.shape[1] // 2
    assert changed[:, :w].sum() > 20 * changed[:, w:].sum()  # the flat sky is left alone


def test_wrong_passphrase_plain_photo_and_other_method_are_refused():
    stego, _ = stealth.hide_stealth(COVER, [SECRET], passphrase="pw")
    for image, key in [(stego, "px"), (stego, None), (COVER, "pw"), (COVER, None)]:
        with pytest.raises(InputError, match=NOTHING):
            stealth.reveal_stealth(image, passphrase=key)
    lsb, _ = hide_lsb(COVER, [SECRET], passphrase="pw")
    assert not stealth.carries(lsb, passphrase="pw")
    assert stealth.carries(stego, passphrase="pw")


def test_key_derived_order_is_the_same_on_every_numpy():
    """The slot order comes from NumPy's frozen legacy stream: a stego written today reveals
    with any later NumPy."""
    order = stealth._order(1000, 12345)
    assert sorted(order.tolist()) == list(range(1000))
    digest = hashlib.sha256(order.astype("<i8").tobytes()).hexdigest()[:16]
    assert digest == GOLDEN_ORDER


GOLDEN_ORDER = "380a88a327a0b9f7"  # sha256 of _order(1000, 12345), little-endian int64


def test_capacity_and_payload_are_checked():
    with pytest.raises(InputError, match="too small"):
        stealth.hide_stealth(COVER[:32, :32], [SECRET])
    with pytest.raises(InputError, match="--payload must be above 0"):
        stealth.hide_stealth(COVER, [SECRET], payload=0.7)
    small = stealth.capacity(COVER.shape, 0.05)
    assert 0 < small < stealth.capacity(COVER.shape, 0.1) < stealth.capacity(COVER.shape, 0.2)


def test_cli_stealth_round_trip_and_refusals(tmp_path):
    cover, secret = tmp_path / "cover.png", tmp_path / "s.png"
    Image.fromarray(COVER).save(cover)
    Image.fromarray(SECRET).save(secret)
    stego = tmp_path / "stego.png"
    r = _run("hide", cover, secret, "-o", stego, "--method", "stealth", "--passphrase", "k",
             "--payload", "0.2", "--check")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "reveals at" in r.output and "encrypted with the passphrase" in r.output
    out = tmp_path / "out"
    r = _run("reveal", stego, "--method", "stealth", "-o", out, env={"WIN_PASSPHRASE": "k"})
    assert r.exit_code == 0, r.output
    assert Image.open(out / "secret1.png").size == (48, 64)

    before = sorted(p.name for p in tmp_path.iterdir())
    r = _run("reveal", stego, "--method", "stealth", "--passphrase", "x", "-o", tmp_path / "o2")
    assert (r.exit_code, r.output.strip()) == (2, f"error: {NOTHING}")
    r = _run("reveal", stego, "--method", "lsb", "--passphrase", "k", "-o", tmp_path / "o3")
    assert r.exit_code == 2
    assert r.output.strip() == f"error: {stego}: was hidden with --method stealth; reveal it " \
        "with --method stealth"  # fmt: skip
    lsb = tmp_path / "lsb.png"
    assert _run("hide", cover, secret, "-o", lsb, "--method", "lsb").exit_code == 0
    r = _run("reveal", lsb, "--method", "stealth", "-o", tmp_path / "o4")
    assert r.exit_code == 2 and "was hidden with --method lsb" in r.output
    for bad, msg in [
        (
            ["--payload", "0", "--method", "stealth"],
            "--payload must be above 0 and at most 0.5, not 0.0",
        ),
        (["--payload", "0.2", "--method", "lsb"], "--payload is for --method stealth"),
        (["--payload", "0.2"], "--payload is for --method stealth"),
        (["--bits", "2", "--method", "stealth"], "--bits is for --method lsb"),
    ]:
        r = _run("hide", cover, secret, "-o", tmp_path / "bad.png", *bad)
        assert r.exit_code == 2, r.output
        assert r.output.strip().startswith(f"error: {msg}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["lsb.png"])


def test_api_stealth():
    import wincli

    stego = wincli.hide(Image.fromarray(COVER), [Image.fromarray(SECRET)], method="stealth",
                        payload=0.2, passphrase="p")  # fmt: skip
    _, found = wincli.reveal(stego, method="stealth", passphrase="p")
    assert found[0].size == (48, 64)
    with pytest.raises(InputError, match=NOTHING):
        wincli.reveal(stego, method="stealth", passphrase="q")


def test_a_flat_cover_is_warned_about_and_a_textured_one_is_not():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stealth.hide_stealth(COVER, [SECRET], passphrase="pw")  # half of it is a flat sky
    white = np.full((128, 160, 3), 255, dtype=np.uint8)
    with pytest.warns(UserWarning, match="flat regions of the cover"):
        stego, coded = stealth.hide_stealth(white, [SECRET[:16, :16]], passphrase="pw")
    assert stealth.reveal_stealth(stego, passphrase="pw")[0].stream == coded[0].stream


def test_folders_keep_going_past_a_bad_file_both_ways(tmp_path):
    covers, secrets, out = tmp_path / "covers", tmp_path / "secrets", tmp_path / "out"
    covers.mkdir()
    secrets.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(COVER).save(covers / name)
        Image.fromarray(SECRET).save(secrets / name)
    (covers / "0.png").write_text("not an image")
    Image.fromarray(SECRET).save(secrets / "0.png")
    r = _run("hide", covers, secrets, "-o", out, "--method", "stealth", "--payload", "0.2", "-k")
    assert r.exit_code == 2 and "covers/0.png" in r.output and "1 of 3 inputs failed" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    (out / "0.png").write_text("not an image")
    r = _run("reveal", out, "--method", "stealth", "-o", tmp_path / "rev", "-k")
    assert r.exit_code == 2 and "1 of 3 inputs failed" in r.output
    assert (tmp_path / "rev" / "b" / "secret1.png").is_file()
