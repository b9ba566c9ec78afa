"""Encoder-side refinement (wincli/refine.py): the stored 8-bit image is chosen for the fixed
inverse. It must never be worse than the plain forward output on its own objective, stay on the
8-bit grid, leave the network untouched, be deterministic, and - with the shipped x2 model on a
real photo - restore the HR image clearly better."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import DATA, needs_data, smooth_image
from wincli.checkpoint import load_model
from wincli.cli import app
from wincli.converter import Converter
from wincli.evaluate import measure
from wincli.imaging import round8
from wincli.io import from_uint8
from wincli.refine import Refine, default_refine, refine_stored

runner = CliRunner()


def _objective(conv, x, stored, weight):
    task = conv.config.spec
    rec = conv.inverse(stored, size=tuple(x.shape[-2:]))
    err = np.mean(
        [
            ((a - b) ** 2).mean().item()
            for a, b in zip(task.restored(rec), task.restored(x), strict=True)
        ]
    )
    return err + weight * ((stored - task.target(x)) ** 2).mean().item()


@pytest.mark.parametrize("name", ["rescaling-x2", "rescaling-x4", "decolorization", "hiding-1"])
def test_refinement_is_never_worse_and_stays_8bit(checkpoints, name):
    net = load_model(checkpoints[name])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    task = net.config.spec
    x = task.pack([from_uint8(smooth_image(40, 56, seed=s)) for s in range(task.images_per_sample)])
    refine = Refine(iters=6, lr=0.004, stored_weight=0.2)
    conv = Converter(net=net, device=torch.device("cpu"), refine=refine)
    plain = conv.forward(x, refine=Refine())
    refined = conv.forward(x)
    assert refined.shape == plain.shape
    assert torch.equal(refined, round8(refined)), "the refined image is not on the 8-bit grid"
    assert _objective(conv, x, refined, 0.2) <= _objective(conv, x, plain, 0.2) + 1e-8
    assert torch.equal(conv.forward(x), refined), "two runs differ"
    with torch.inference_mode():  # callers may be in inference mode
        assert torch.equal(conv.forward(x), refined)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed"
        assert all(p.grad is None for p in net.parameters())
    assert torch.equal(conv.forward(x, quantize=False), conv.forward(x, False, Refine()))


def test_zero_iterations_is_the_forward_output(checkpoints):
    net = load_model(checkpoints["rescaling-x2"])
    x = from_uint8(smooth_image(32, 32))
    conv = Converter(net=net, device=torch.device("cpu"))
    assert conv.refine.iters == 0  # a bare converter does not refine
    assert torch.equal(refine_stored(net, x, Refine()), round8(net(x)))


def test_defaults_and_choices():
    from wincli.tasks import TASK_NAMES, parse_task

    x2, hiding = parse_task("rescaling-x2"), parse_task("hiding-1")
    assert default_refine(x2) == Refine(**x2.refine_search())
    for name in TASK_NAMES:  # the default is the one-pass encoder, never the search
        assert default_refine(parse_task(name)).iters == 0
    assert default_refine(hiding).iters == 0
    assert default_refine(x2, 0).iters == 0
    assert default_refine(x2, 5) == replace(Refine(**x2.refine_search()), iters=5)
    assert default_refine(x2, 5).stored_weight == 0.05 and default_refine(x2, 5).decay
    assert default_refine(hiding, Refine(3)) == Refine(3)


def test_tiled_refinement_matches_whole_image(checkpoints):
    net = load_model(checkpoints["rescaling-x2"])
    x = from_uint8(smooth_image(96, 96, seed=3))
    refine = Refine(iters=4, lr=0.004)
    whole = Converter(net=net, device=torch.device("cpu"), refine=refine).forward(x)
    tiled = Converter(net=net, device=torch.device("cpu"), refine=refine, tile=64).forward(x)
    assert tiled.shape == whole.shape
    # tiles see less context at their seams: a few levels there, nothing systematic
    assert (tiled - whole).abs().mean().item() * 255 < 0.5


@needs_data
@pytest.mark.data
def test_refinement_restores_a_real_photo_better():
    """The shipped x2 model on a crop of a Set5 photo, through 8-bit files as the CLI stores
    them: refined HR at least 0.5 dB above the plain forward output, LR not worse by > 0.3 dB."""
    conv = Converter.load("rescaling", scale=2, device="cpu", allow_download=False, encoder="none")
    img = Image.open(DATA / "eval" / "Set5" / "butterfly.png").convert("RGB")
    x = from_uint8(np.asarray(img)[64:192, 64:192])
    task = conv.config.spec
    got = {}
    for label, refine in (
        ("plain", Refine()),
        ("refined", default_refine(conv.config.spec, 40)),
    ):
        lr = conv.forward(x, refine=refine)
        got[label] = measure(task, x, lr, [conv.inverse(lr, size=(128, 128))])
    assert got["refined"]["hr_psnr"] >= got["plain"]["hr_psnr"] + 0.5, got
    assert got["refined"]["lr_psnr"] >= got["plain"]["lr_psnr"] - 0.3, got


def test_cli_refine_zero_stores_the_forward_output(tmp_path, image_file, checkpoints):
    src = image_file(h=40, w=48)
    ckpt = str(checkpoints["rescaling-x2"])
    outs = {}
    for n in ("0", "3"):
        out = tmp_path / f"lr{n}.png"
        r = runner.invoke(
            app, ["downscale", str(src), "--weights", ckpt, "--refine", n, "-o", str(out)]
        )
        assert r.exit_code == 0, r.output
        outs[n] = np.asarray(Image.open(out))
    net = load_model(checkpoints["rescaling-x2"])
    plain = Converter(net=net, device=torch.device("cpu")).forward(
        from_uint8(np.asarray(Image.open(src)))
    )
    assert np.array_equal(
        outs["0"], (plain[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    )
    assert not np.array_equal(outs["0"], outs["3"])


def _stored_psnr(task, x, stored) -> float:
    # against the float target, as the floor's hinge measures it (metrics.psnr rounds both)
    return 10 * np.log10(1 / ((stored - task.target(x)) ** 2).mean().item())


def test_stored_floor_holds_the_stored_image_close_to_its_target():
    """The shipped x2 model on noise, where its LR strays far from bicubic: with a floor 3 dB
    above the forward output's LR PSNR the refined LR reaches it (within 0.5 dB); without one, it
    does not move there; a floor below the forward output changes nothing."""
    conv = Converter.load(
        "rescaling", scale=2, device="cpu", allow_download=False, refine=0, encoder="none"
    )
    task = conv.config.spec
    rng = np.random.default_rng(7)
    x = from_uint8(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    plain = _stored_psnr(task, x, conv.forward(x))
    base = Refine(iters=30, lr=0.004, stored_weight=0.05, decay=True)
    got = {
        f: _stored_psnr(task, x, conv.forward(x, refine=replace(base, stored_floor=f)))
        for f in (0.0, plain + 3, plain - 10)
    }
    assert got[plain + 3] >= plain + 2.5, (plain, got)
    assert got[0.0] < plain + 1.5, (plain, got)
    assert got[plain - 10] == pytest.approx(got[0.0], abs=1e-9), (plain, got)
