"""The Python API gives what the file path gives: records travel with the images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import wincli
from tests.conftest import smooth_image
from wincli.cli import app
from wincli.errors import InputError


def test_an_odd_photo_comes_back_at_its_size_through_the_api_and_through_a_cli_file(
    tmp_path, checkpoints
):
    w = str(checkpoints["rescaling-x2"])
    photo = Image.fromarray(smooth_image(37, 53, 5))
    lr = wincli.downscale(photo, scale=2, weights=w)
    assert lr.size == (27, 19)
    assert wincli.upscale(lr, scale=2, weights=w).size == photo.size  # not 54x38
    assert wincli.upscale(lr, scale=2, size=(50, 36), weights=w).size == (50, 36)  # PIL's (W, H)

    src, lr_file, hr_file = tmp_path / "p.png", tmp_path / "lr.png", tmp_path / "hr.png"
    photo.save(src)
    runner = CliRunner()
    assert (
        runner.invoke(app, ["downscale", str(src), "-o", str(lr_file), "--weights", w]).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["upscale", str(lr_file), "-o", str(hr_file), "--weights", w]).exit_code
        == 0
    )
    api = wincli.upscale(Image.open(lr_file), scale=2, weights=w)  # reads the file's records
    assert np.array_equal(np.asarray(api), np.asarray(Image.open(hr_file)))


def test_the_api_refuses_what_the_cli_refuses(checkpoints):
    photo = Image.fromarray(smooth_image(40, 48, 6))
    lr = wincli.downscale(photo, scale=2, weights=str(checkpoints["rescaling-x2"]))
    with pytest.raises(InputError, match="downscaled x2; use scale=2"):
        wincli.upscale(lr, scale=4, weights=str(checkpoints["rescaling-x4"]))
    gray = wincli.decolorize(photo, weights=str(checkpoints["decolorization"]))
    with pytest.raises(InputError, match="other weights"):
        wincli.colorize(gray)  # the shipped weights did not make it


def test_hide_and_reveal_both_ways_on_an_odd_cover_a_non_srgb_and_a_mismatched_secret(
    tmp_path, checkpoints
):
    """The API hides what `win hide` hides, byte for byte, and refuses what it refuses."""
    from tests.test_metadata import wide_gamut_profile

    w = str(checkpoints["hiding-1"])
    cover, wide, other = tmp_path / "c.png", tmp_path / "p3.png", tmp_path / "o.png"
    Image.fromarray(smooth_image(37, 53, 1)).save(cover)
    Image.fromarray(smooth_image(37, 53, 2)).save(wide, icc_profile=wide_gamut_profile())
    Image.fromarray(smooth_image(30, 61, 3)).save(other)  # another aspect ratio
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, [str(a) for a in args])

    stego = tmp_path / "s.png"
    assert cli("hide", cover, wide, "-o", stego, "--weights", w).exit_code == 0
    api = wincli.hide(Image.open(cover), [Image.open(wide)], weights=w)
    assert np.array_equal(np.asarray(api), np.asarray(Image.open(stego)))  # converted to sRGB
    out = tmp_path / "rev"
    assert cli("reveal", stego, "-o", out, "--weights", w).exit_code == 0
    _, found = wincli.reveal(Image.open(stego), weights=w)
    assert np.array_equal(np.asarray(found[0]), np.asarray(Image.open(out / "secret1.png")))

    r = cli("hide", cover, other, "-o", tmp_path / "x.png", "--weights", w)
    with pytest.raises(InputError) as err:
        wincli.hide(Image.open(cover), [Image.open(other)], weights=w)
    assert r.exit_code == 2 and r.output.strip() == f"error: {err.value}"
    cropped = tmp_path / "crop.png"
    assert cli("hide", cover, other, "-o", cropped, "--fit", "crop", "--weights", w).exit_code == 0
    api = wincli.hide(Image.open(cover), [Image.open(other)], fit="crop", weights=w)
    assert np.array_equal(np.asarray(api), np.asarray(Image.open(cropped)))


def test_decolorize_and_colorize_both_ways_on_an_odd_non_srgb_photo(tmp_path, checkpoints):
    from tests.test_metadata import wide_gamut_profile

    w = str(checkpoints["decolorization"])
    src, gray, colour = tmp_path / "p3.png", tmp_path / "g.png", tmp_path / "c.png"
    Image.fromarray(smooth_image(37, 53, 4)).save(src, icc_profile=wide_gamut_profile())
    runner = CliRunner()
    assert (
        runner.invoke(app, ["decolorize", str(src), "-o", str(gray), "--weights", w]).exit_code == 0
    )
    assert (
        runner.invoke(app, ["colorize", str(gray), "-o", str(colour), "--weights", w]).exit_code
        == 0
    )
    api_gray = wincli.decolorize(Image.open(src), weights=w)
    assert np.array_equal(np.asarray(api_gray), np.asarray(Image.open(gray)))
    for stored in (api_gray, Image.open(gray)):  # the API's result and the CLI's file
        back = wincli.colorize(stored, weights=w)
        assert np.array_equal(np.asarray(back), np.asarray(Image.open(colour)))
