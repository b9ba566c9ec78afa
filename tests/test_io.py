"""Image I/O at the edge: modes, EXIF, alpha, 16-bit, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import smooth_image
from wincli.errors import InputError, OutputError
from wincli.io import check_output_path, read_gray, read_image, write_image


def test_rgb_round_trip_is_exact(tmp_path):
    arr = smooth_image(20, 30)
    Image.fromarray(arr).save(tmp_path / "a.png")
    x, meta = read_image(tmp_path / "a.png")
    assert x.shape == (1, 3, 20, 30) and x.dtype == torch.float32
    write_image(tmp_path / "b.png", x, meta)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), arr)


def test_modes(tmp_path):
    arr = smooth_image(20, 20)
    base = Image.fromarray(arr)
    base.convert("P").save(tmp_path / "p.png")
    base.convert("L").save(tmp_path / "l.png")
    base.convert("CMYK").save(tmp_path / "c.jpg")
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.full((20, 20), 77, np.uint8)))
    rgba.save(tmp_path / "rgba.png")
    for name in ("p.png", "l.png", "c.jpg", "rgba.png"):
        x, meta = read_image(tmp_path / name)
        assert x.shape == (1, 3, 20, 20)
    _, meta = read_image(tmp_path / "rgba.png")
    assert meta.alpha is not None and int(meta.alpha[0, 0]) == 77
    write_image(tmp_path / "out.png", torch.rand(1, 3, 20, 20), meta)
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "RGBA" and np.asarray(out)[..., 3].max() == 77  # alpha unchanged
    g, _ = read_gray(tmp_path / "l.png")
    assert g.shape == (1, 1, 20, 20)


def test_sixteen_bit_is_reduced_with_warning(tmp_path):
    arr = (np.linspace(0, 65535, 32 * 32).reshape(32, 32)).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "d.png")
    with pytest.warns(UserWarning, match="reduced to 8 bits"):
        x, _ = read_image(tmp_path / "d.png")
    assert x.shape == (1, 3, 32, 32) and abs(float(x.max()) - 1.0) < 1e-6


def test_exif_orientation_applied(tmp_path):
    im = Image.fromarray(smooth_image(20, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    im.save(tmp_path / "r.jpg", exif=exif)
    x, _ = read_image(tmp_path / "r.jpg")
    assert x.shape[-2:] == (40, 20)


def test_output_path_rules(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="overwrite an input"):
        check_output_path(src, [src])
    with pytest.raises(OutputError, match="lossy"):
        check_output_path(tmp_path / "o.jpg", [src])
    assert check_output_path(tmp_path / "o.jpg", [src], force_lossy=True)
    assert check_output_path(tmp_path / "o.webp", [src])  # written lossless
    for bad in ("o.ico", "o.pdf", "o.xyz", "noext", "-", "x" * 300 + ".png"):
        with pytest.raises(OutputError):  # size-changing, unreadable, unknown, odd names
            check_output_path(tmp_path / bad if bad != "-" else bad, [src], force_lossy=True)
    with pytest.raises(OutputError, match="lossy"):
        check_output_path(tmp_path / "o.gif", [src])  # a palette: lossy, allowed when forced
    assert check_output_path(tmp_path / "o.gif", [src], force_lossy=True)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "no" / "o.png", [src])


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def boom(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OutputError, match="cannot write"):
        write_image(tmp_path / "o.png", torch.rand(1, 3, 8, 8))
    assert list(tmp_path.iterdir()) == []


def test_colour_image_is_not_a_gray(tmp_path):
    Image.fromarray(smooth_image(20, 20)).save(tmp_path / "c.png")
    with pytest.raises(InputError, match="colour image"):
        read_gray(tmp_path / "c.png")


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp", ".webp", ".ppm"])
def test_lossless_outputs_round_trip_exactly(tmp_path, suffix):
    x = torch.from_numpy(smooth_image(24, 32)).permute(2, 0, 1)[None].float() / 255
    out = tmp_path / f"o{suffix}"
    write_image(out, x)
    back, _ = read_image(out)
    assert torch.equal(back, x)


def test_outputs_honour_the_umask_and_write_through_symlinks(tmp_path):
    import os

    x = torch.zeros(1, 3, 16, 16)
    old = os.umask(0o022)
    try:
        write_image(tmp_path / "a.png", x)
    finally:
        os.umask(old)
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o644
    target = tmp_path / "real.png"
    target.write_bytes(b"old")
    (tmp_path / "link.png").symlink_to(target)
    write_image(tmp_path / "link.png", x)
    assert (tmp_path / "link.png").is_symlink()
    assert read_image(target)[0].shape == (1, 3, 16, 16)
