"""The JPEG channel: real Pillow values, a surrogate close to them with a gradient, the
training-time channel, and `--robust` on the command line (a registry with a robust record)."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import perturb, smooth_image
from wincli.io import from_uint8
from wincli.jpeg import (
    JpegChannel,
    jpeg_ste,
    jpeg_surrogate,
    parse_qualities,
    pillow_jpeg,
    quant_table,
)
from wincli.metrics import psnr


def _photo(h=48, w=72, seed=0) -> torch.Tensor:
    return from_uint8(smooth_image(h, w, seed))


def test_quant_tables_follow_libjpeg_scaling():
    assert quant_table(50)[0, 0] == 16 and quant_table(50, chroma=True)[0, 0] == 17
    assert (quant_table(100) == 1).all()
    assert quant_table(90)[0, 0] == 3  # (16 * 20 + 50) // 100
    assert (quant_table(75) <= quant_table(50)).all()


def test_pillow_jpeg_is_what_saving_the_file_as_jpeg_does(tmp_path):
    arr = smooth_image(40, 56, 3)
    png = tmp_path / "a.png"
    Image.fromarray(arr).save(png)
    buf = io.BytesIO()
    Image.open(png).save(buf, "JPEG", quality=75)
    by_hand = from_uint8(np.asarray(Image.open(buf).convert("RGB")))
    assert torch.equal(pillow_jpeg(from_uint8(arr), 75), by_hand)
    gray = from_uint8(arr[..., 0])
    assert pillow_jpeg(gray, 75).shape == gray.shape


@pytest.mark.parametrize("q", [95, 90, 75])
def test_surrogate_is_close_to_the_real_codec(q):
    x = _photo()
    real = pillow_jpeg(x, q)
    assert psnr(jpeg_surrogate(x, [q]), real) > psnr(x, real) + 3  # nearer the codec than x
    assert psnr(jpeg_surrogate(x, [q]), real) > 40
    g = x[:, :1]
    assert psnr(jpeg_surrogate(g, [q]), pillow_jpeg(g, q)) > 40


def test_ste_has_pillow_values_and_a_gradient():
    x = _photo().repeat(2, 1, 1, 1).requires_grad_()
    y = jpeg_ste(x, [90, 60])
    assert torch.equal(y.detach()[1:], pillow_jpeg(x[1:].detach(), 60))
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_channel_codes_its_share_and_keeps_the_rest():
    x = torch.cat([_photo(32, 32, s) for s in range(4)])
    torch.manual_seed(1)
    out = JpegChannel(70, 95, share=0.5)(x)
    same = [torch.equal(out[i], x[i]) for i in range(4)]
    assert sum(same) == 2
    torch.manual_seed(1)
    again = JpegChannel(70, 95, share=0.5)(x)
    assert torch.equal(out, again)
    with pytest.raises(ValueError):
        JpegChannel(95, 70)


def test_parse_qualities():
    assert parse_qualities("70-95") == (70, 95) and parse_qualities("90") == (90, 90)
    for bad in ("95-70", "0-50", "x", "70-101"):
        with pytest.raises(ValueError):
            parse_qualities(bad)


# ------------------------------------------------------------------ --robust on the CLI


@pytest.fixture
def robust_registry(tmp_path, checkpoints, monkeypatch):
    """A registry with a plain and a JPEG-robust rescaling-x2 and decolorization (other
    weights)."""
    from wincli import weights as W
    from wincli.checkpoint import load_model, read_metadata, save_model

    folder = tmp_path / "weights"
    folder.mkdir()
    records = []
    for task, extra in (("rescaling-x2", {"scale": 2}), ("decolorization", {})):
        plain = folder / f"{task}.safetensors"
        shutil.copy(checkpoints[task], plain)
        robust = folder / f"{task}-robust.safetensors"
        save_model(perturb(load_model(plain), 0.001, seed=3), robust)
        cfg = json.loads(read_metadata(plain)["config"])
        for path, kind in (
            (plain, {"default": True}),
            (robust, {"robust": {"jpeg": "70-95", "share": 0.5}}),
        ):
            records.append(
                dict(name=path.stem, task=cfg["task"], variant="win", preset="cpu", config=cfg,
                     file=path.name, sha256=W.sha256_file(path), params=1, **extra, **kind)
            )  # fmt: skip
    (folder / "registry.json").write_text(json.dumps({"hub": {}, "models": records}))
    monkeypatch.setattr(W, "bundled_dir", lambda: folder)
    return folder


def run(*args):
    from wincli.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_robust_store_and_restore(tmp_path, image_file, robust_registry):
    src = image_file("photo.png", 64, 64)
    lr = tmp_path / "lr.png"
    res = run("downscale", src, "--robust", "-o", lr, "--check")
    assert res.exit_code == 0, res.output
    assert "hr after JPEG q90" in res.output  # --check reports the shared file too
    assert Image.open(lr).text.get("win:robust") == "1"
    res = run("upscale", lr, "-o", tmp_path / "hr.png")
    assert res.exit_code == 2 and "was stored with --robust; restore it with --robust" in res.output
    assert run("upscale", lr, "--robust", "-o", tmp_path / "hr.png").exit_code == 0
    plain = tmp_path / "plain.png"
    assert run("downscale", src, "-o", plain).exit_code == 0
    res = run("upscale", plain, "--robust", "-o", tmp_path / "hr2.png")
    assert res.exit_code == 2 and "without --robust" in res.output


def test_jpeg_input_gets_a_hint_and_the_robust_model_says_nothing(
    tmp_path, image_file, robust_registry
):
    src = image_file("photo.png", 64, 64)
    lr = tmp_path / "lr.png"
    assert run("downscale", src, "--robust", "-o", lr).exit_code == 0
    jpg = tmp_path / "shared.jpg"
    Image.open(lr).save(jpg, quality=90)
    res = run("upscale", jpg, "-o", tmp_path / "a.png")
    assert res.exit_code == 0 and "restore it with --robust" in res.output
    res = run("upscale", jpg, "--robust", "-o", tmp_path / "b.png")
    assert res.exit_code == 0 and "note:" not in res.output, res.output
    res = run("upscale", lr, "--robust", "-o", tmp_path / "c.png")
    assert res.exit_code == 0 and "note:" not in res.output, res.output


def test_a_shared_gray_is_recoloured_by_the_robust_model_without_notes(
    tmp_path, image_file, robust_registry
):
    src = image_file("photo.png", 64, 64)
    gray = tmp_path / "gray.png"
    assert run("decolorize", src, "--robust", "-o", gray, "--check").exit_code == 0
    jpg = tmp_path / "gray.jpg"
    Image.open(gray).save(jpg, quality=90)  # the text chunks do not survive
    res = run("colorize", jpg, "--robust", "-o", tmp_path / "c.png")
    assert res.exit_code == 0 and "note:" not in res.output, res.output
    res = run("colorize", jpg, "-o", tmp_path / "d.png")
    assert res.exit_code == 0 and "--robust" in res.output


def test_robust_writes_jpeg_without_force_lossy(tmp_path, image_file, robust_registry):
    src = image_file("photo.png", 64, 64)
    assert run("downscale", src, "-o", tmp_path / "a.jpg").exit_code == 2
    assert run("downscale", src, "--robust", "-o", tmp_path / "b.jpg").exit_code == 0


def test_robust_without_a_robust_model_is_one_clear_line(tmp_path, image_file, robust_registry):
    src = image_file("photo.png", 64, 64)
    res = run("downscale", src, "--scale", "4", "--robust", "-o", tmp_path / "x.png")
    assert res.exit_code != 0 and "no JPEG-robust rescaling-x4" in res.output
    assert "rescaling-x2" in res.output and not (tmp_path / "x.png").exists()
    res = run("hide", src, src, "--method", "lsb", "--robust", "-o", tmp_path / "s.png")
    assert res.exit_code == 2 and "--robust" in res.output
