"""Colour profiles and EXIF survive every verb; secrets are colour-managed; a stored image
records the weights that made it."""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import smooth_image
from wincli.cli import app

runner = CliRunner()
DATE = "2024:05:01 10:00:00"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def wide_gamut_profile(name: str = "Display P3 (test)", gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 RGB display profile with Display P3 primaries (not sRGB)."""
    desc = name.encode("ascii") + b"\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(desc)) + desc + b"\0" * 8 + b"\0" * 70
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", desc), (b"cprt", b"text" + b"\0" * 4 + b"none\0"),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", _xyz(0.5151, 0.2412, -0.0011)),
        (b"gXYZ", _xyz(0.2920, 0.6922, 0.0419)), (b"bXYZ", _xyz(0.1571, 0.0666, 0.7841)),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]  # fmt: skip
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", start + len(data), len(body))
        data += body
    data += b"\0" * (-len(data) % 4)
    header = struct.pack(">I", start + len(data)) + b"\0" * 4 + bytes([2, 0x10, 0, 0])
    header += b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28
    header += _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def photo(path, icc: bytes, h: int = 40, w: int = 48, seed: int = 0, orientation: int = 1):
    exif = Image.Exif()
    exif[0x0132] = DATE
    exif[0x0112] = orientation
    Image.fromarray(smooth_image(h, w, seed)).save(path, icc_profile=icc, exif=exif.tobytes())
    return path


def meta_of(path):
    im = Image.open(path)
    return im.info.get("icc_profile"), im.getexif()


def test_the_test_profile_is_a_real_non_srgb_profile():
    from wincli.io import is_srgb

    assert not is_srgb(wide_gamut_profile())
    from io import BytesIO

    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert is_srgb(srgb) and is_srgb(None)
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(BytesIO(srgb)))


def test_profile_and_exif_survive_every_verb(tmp_path, checkpoints):
    icc = wide_gamut_profile()
    src = photo(tmp_path / "in.png", icc)
    steps = [
        ("downscale", src, "lr.png", "rescaling-x2"),
        ("upscale", tmp_path / "lr.png", "hr.png", "rescaling-x2"),
        ("decolorize", src, "gray.png", "decolorization"),
        ("colorize", tmp_path / "gray.png", "color.png", "decolorization"),
    ]
    for verb, inp, out, ck in steps:
        res = run(verb, inp, "-o", tmp_path / out, "--weights", checkpoints[ck])
        assert res.exit_code == 0, res.output
        got_icc, exif = meta_of(tmp_path / out)
        if out != "gray.png":  # a gray PNG cannot embed an RGB profile: it carries it in text
            assert got_icc == icc, f"{verb}: colour profile lost"
        assert exif.get(0x0132) == DATE, f"{verb}: EXIF date lost"
        assert 0x0112 not in exif  # orientation was applied to the pixels
    res = run("hide", src, src, "-o", tmp_path / "stego.png", "--weights", checkpoints["hiding-1"])
    assert res.exit_code == 0, res.output
    got_icc, exif = meta_of(tmp_path / "stego.png")
    assert got_icc == icc and exif.get(0x0132) == DATE  # the stego looks like its cover
    res = run("reveal", tmp_path / "stego.png", "-o", tmp_path / "rev", "--cover",
              "--weights", checkpoints["hiding-1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert meta_of(tmp_path / "rev" / "cover.png")[0] == icc
    assert meta_of(tmp_path / "rev" / "secret1.png")[0] is None  # hidden as sRGB


def test_strip_metadata(tmp_path, checkpoints):
    src = photo(tmp_path / "in.png", wide_gamut_profile())
    out = tmp_path / "lr.png"
    res = run("downscale", src, "-o", out, "--weights", checkpoints["rescaling-x2"],
              "--strip-metadata")  # fmt: skip
    assert res.exit_code == 0, res.output
    icc, exif = meta_of(out)
    assert icc is None and len(exif) == 0


def test_secret_with_a_profile_is_converted_to_srgb_with_a_note(tmp_path, checkpoints):
    cover = tmp_path / "cover.png"
    Image.fromarray(smooth_image(40, 48, 3)).save(cover)
    secret = photo(tmp_path / "secret.png", wide_gamut_profile(), seed=4)
    res = run("hide", cover, secret, "-o", tmp_path / "s.png", "--weights", checkpoints["hiding-1"])
    assert res.exit_code == 0, res.output
    assert "converted from its colour profile to sRGB" in res.output


def test_transparent_secret_is_warned_about(tmp_path, checkpoints):
    cover = tmp_path / "cover.png"
    Image.fromarray(smooth_image(40, 48, 3)).save(cover)
    rgba = np.dstack([smooth_image(40, 48, 5), np.full((40, 48), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "secret.png")
    res = run("hide", cover, tmp_path / "secret.png", "-o", tmp_path / "s.png",
              "--weights", checkpoints["hiding-1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "transparency is not hidden" in res.output


def test_restoring_with_other_weights_is_an_error(tmp_path, checkpoints):
    from tests.conftest import perturb
    from wincli.checkpoint import load_model, save_model

    other = tmp_path / "other.safetensors"
    save_model(perturb(load_model(checkpoints["decolorization"]), 0.01, seed=5), other)
    src = tmp_path / "in.png"
    Image.fromarray(smooth_image(32, 32)).save(src)
    gray = tmp_path / "g.png"
    assert (
        run("decolorize", src, "-o", gray, "--weights", checkpoints["decolorization"]).exit_code
        == 0
    )
    res = run("colorize", gray, "-o", tmp_path / "c.png", "--weights", other)
    assert res.exit_code == 2 and "other weights" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "c.png").exists()


def test_colorize_of_a_foreign_gray_says_it_is_a_guess(tmp_path, checkpoints):
    gray = tmp_path / "g.png"
    Image.fromarray(smooth_image(32, 32)[..., 0]).save(gray)
    res = run(
        "colorize", gray, "-o", tmp_path / "c.png", "--weights", checkpoints["decolorization"]
    )
    assert res.exit_code == 0, res.output
    assert "not made by `win decolorize`" in res.output


def test_lsb_carries_each_secret_profile_in_its_payload(tmp_path):
    icc = wide_gamut_profile()
    cover = tmp_path / "cover.png"
    Image.fromarray(smooth_image(96, 128, 3)).save(cover)
    tagged = photo(tmp_path / "tagged.png", icc, h=24, w=32, seed=4)
    plain = tmp_path / "plain.png"
    Image.fromarray(smooth_image(24, 32, 5)).save(plain)
    stego = tmp_path / "s.png"
    res = run("hide", cover, tagged, plain, "-o", stego, "--method", "lsb", "--bits", "2")
    assert res.exit_code == 0, res.output
    res = run("reveal", stego, "--method", "lsb", "-o", tmp_path / "rev")
    assert res.exit_code == 0, res.output
    assert meta_of(tmp_path / "rev" / "secret1.png")[0] == icc  # its profile came back
    assert meta_of(tmp_path / "rev" / "secret2.png")[0] is None  # untagged stays untagged


def test_lsb_payloads_without_profiles_still_read(tmp_path):
    """A payload written before profiles travelled (no flag) reveals as it did."""
    from wincli.classical import Coded, pack_payload, unpack_payload

    c = Coded("webp", b"stream", (4, 3), 80)
    assert pack_payload([c])[0] == 1  # no profile, no alpha: the old layout, byte for byte
    (back,) = unpack_payload(pack_payload([c]))
    assert back.stream == b"stream" and back.icc is None and back.alpha is None
    c.icc, c.alpha = b"profile", b"alpha"
    (back,) = unpack_payload(pack_payload([c]))
    assert back.icc == b"profile" and back.alpha == b"alpha"


def test_lsb_carries_a_secret_transparency(tmp_path):
    cover = tmp_path / "cover.png"
    Image.fromarray(smooth_image(96, 128, 3)).save(cover)
    alpha = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))
    Image.fromarray(np.dstack([smooth_image(24, 32, 5), alpha])).save(tmp_path / "secret.png")
    stego = tmp_path / "s.png"
    res = run("hide", cover, tmp_path / "secret.png", "-o", stego, "--method", "lsb")
    assert res.exit_code == 0, res.output
    assert run("reveal", stego, "--method", "lsb", "-o", tmp_path / "rev").exit_code == 0
    back = Image.open(tmp_path / "rev" / "secret1.png")
    assert back.mode == "RGBA"
    assert np.array_equal(np.asarray(back)[..., 3], alpha)  # lossless
