"""Task definitions: 8-bit rounding, targets, losses."""

from __future__ import annotations

import math

import pytest
import torch

from wincli.imaging import bicubic_down, lab_lightness, quantize_8bit
from wincli.metrics import psnr, ssim
from wincli.models import build_model
from wincli.tasks import Hiding
from wincli.train.objective import compute_losses


def test_quantize_rounds_and_passes_gradient_inside_the_range_only():
    for ste, grad in (("clamp", [0.0, 1.0, 1.0, 0.0]), ("identity", [1.0, 1.0, 1.0, 1.0])):
        y = torch.tensor([-0.2, 0.1234, 0.5, 1.3], requires_grad=True)
        q = quantize_8bit(y, ste)
        assert torch.equal(q.detach(), torch.round(y.detach().clamp(0, 1) * 255) / 255)
        q.sum().backward()
        assert torch.equal(y.grad, torch.tensor(grad))  # straight through the rounding


def test_noise_and_mix_estimators_stay_within_half_a_level():
    """`--ste noise` and `--ste mix`: a training proxy for the rounding, within half a level of
    the clamped value, with the clamped estimator's gradient (1 inside [0, 1], 0 outside);
    mix rounds some samples exactly and leaves others off the grid."""
    torch.manual_seed(0)
    y = (torch.rand(64, 3, 8, 8) * 1.2 - 0.1).requires_grad_(True)
    clamped = y.detach().clamp(0, 1)
    for ste in ("noise", "mix"):
        q = quantize_8bit(y, ste)
        assert float((q.detach() - clamped).abs().max()) <= 0.5 / 255 + 1e-7
        (g,) = torch.autograd.grad(q.sum(), y)
        out = (y.detach() < 0) | (y.detach() > 1)
        inside = (y.detach() > 1 / 255) & (y.detach() < 1 - 1 / 255)  # noise cannot clip there
        assert torch.equal(g[out], torch.zeros_like(g[out]))
        assert float(g[inside].min()) == 1.0
        on_grid = (q.detach() * 255 - torch.round(q.detach() * 255)).abs().amax((1, 2, 3)) < 1e-4
        if ste == "noise":
            assert not on_grid.any()
        else:
            assert 10 < int(on_grid.sum()) < 54  # about half of 64 samples rounded exactly
    with pytest.raises(ValueError, match="ste must be one of"):
        quantize_8bit(y, "magic")


def test_clamped_ste_stops_the_out_of_range_runaway():
    """The divergence mechanism in miniature: a stored value above 1, an L1 forward loss
    holding it (weight 0.5) and a reverse loss that wants a brighter stored value (weight 1).
    With the identity estimator the reverse gradient reaches the out-of-range value, beats the
    bounded L1 pull and drives it away for good; with the clamped estimator it cannot."""
    ends = {}
    for ste in ("identity", "clamp"):
        y = torch.tensor([1.05], requires_grad=True)
        opt = torch.optim.Adam([y], lr=1e-2)
        for _ in range(300):
            loss = 0.5 * (y - 1.0).abs().sum() - quantize_8bit(y, ste).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        ends[ste] = float(y.detach())
    assert ends["identity"] > 3.0  # ran away: the forward loss grows without bound
    assert ends["clamp"] < 1.06  # held at the edge of the range


def test_lab_lightness_known_values():
    white = torch.ones(1, 3, 2, 2)
    black = torch.zeros(1, 3, 2, 2)
    grey = torch.full((1, 3, 1, 1), 0.5)  # sRGB 0.5 -> L* = 53.39
    assert torch.allclose(lab_lightness(white), torch.ones(1, 1, 2, 2), atol=1e-5)
    assert torch.allclose(lab_lightness(black), torch.zeros(1, 1, 2, 2), atol=1e-6)
    assert abs(float(lab_lightness(grey)) - 0.5339) < 1e-3


def test_bicubic_down_of_constant_is_constant():
    x = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(bicubic_down(x, 2), torch.full((1, 3, 8, 8), 0.3), atol=1e-6)
    assert bicubic_down(x, 4).shape == (1, 3, 4, 4)


def test_targets_and_losses_for_every_task():
    torch.manual_seed(0)
    for task, kw in [
        ("hiding", dict(secrets=2)),
        ("rescaling", dict(scale=4)),
        ("decolorization", {}),
    ]:
        net = build_model(task, preset="cpu", **kw)
        x = torch.rand(2, net.config.c_in, 32, 32)
        t = net.config.spec.target(x)
        if task == "hiding":
            assert torch.equal(t, x[:, :3])
        terms = compute_losses(net, x)
        for k in ("forward", "reverse", "shift", "det"):
            assert torch.isfinite(terms[k]) and float(terms[k].detach()) >= 0
        terms["total"].backward()
        assert all(p.grad is not None for p in net.parameters())


def test_pack_and_psnr():
    c, s = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert Hiding(2).pack([c, s, s]).shape == (1, 9, 4, 4)
    a = torch.zeros(1, 3, 8, 8)
    assert abs(psnr(a, a + 0.2) - 20 * math.log10(5)) < 1e-9  # 51 levels: 255 / 51 = 5
    assert abs(psnr(a, a + 0.1) - 20 * math.log10(255 / 26)) < 1e-9  # 25.5 rounds to 26 levels


def test_ssim_hand_computed_values():
    """Constant images: SSIM = (2 A B + C1) / (A^2 + B^2 + C1) (the structure terms are C2 / C2);
    one bright pixel in an 11x11 window: the weighted mean and variance of the window."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    a, b = torch.full((1, 3, 11, 11), 100 / 255), torch.full((1, 3, 11, 11), 110 / 255)
    want = (2 * 100 * 110 + c1) / (100**2 + 110**2 + c1)
    assert abs(ssim(a, b) - want) < 1e-12 and abs(want - 0.995476) < 1e-6
    spot = a.clone()
    spot[..., 5, 5] = 200 / 255
    w = math.exp(0) / sum(math.exp(-(k**2) / 4.5) for k in range(-5, 6)) ** 2  # centre weight
    mu = 100 + 100 * w
    var = w * 200**2 + (1 - w) * 100**2 - mu**2
    want = (2 * mu * 100 + c1) * c2 / ((mu**2 + 100**2 + c1) * (var + c2))
    assert abs(ssim(spot, a) - want) < 1e-9


def test_a_new_task_is_one_class_and_its_registry_entry(tmp_path, monkeypatch):
    """A toy task defined here (the stored image is the input mirrored) trains for a few steps,
    is saved, listed, loaded and run through the converter, without touching other modules."""
    import json
    from dataclasses import dataclass

    from PIL import Image
    from typer.testing import CliRunner

    from tests.conftest import smooth_image
    from wincli import tasks as T
    from wincli import weights as W
    from wincli.cli import app
    from wincli.converter import Converter
    from wincli.models import count_params
    from wincli.train import TrainOptions, train

    @dataclass(frozen=True)
    class Mirror(T.Task):
        kind = "mirror"
        stored_name = "mirrored"
        restored_name = "image"
        restored_verb = "unmirrored"

        def target(self, x):
            return x.flip(-1)

    monkeypatch.setitem(T.TASK_CLASSES, "mirror", Mirror)
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(48, 48, seed=i)).save(imgs / f"{i}.png")
    run = tmp_path / "run"
    opts = dict(steps=4, batch=2, patch=32, holdout=1, val_size=32, log_every=2, val_every=2)
    train(TrainOptions(task="mirror", data=[str(imgs)], out=str(run), threads=1, **opts))

    folder = tmp_path / "weights"
    folder.mkdir()
    (run / "model.safetensors").rename(folder / "mirror.safetensors")
    net = W.load_weights_file(folder / "mirror.safetensors")
    record = dict(
        name="mirror-cpu", task="mirror", variant="win", preset="cpu", default=True,
        config=net.config.to_dict(), file="mirror.safetensors", params=count_params(net),
        sha256=W.sha256_file(folder / "mirror.safetensors"),
    )  # fmt: skip
    (folder / "registry.json").write_text(json.dumps({"hub": {}, "models": [record]}))
    monkeypatch.setattr(W, "bundled_dir", lambda: folder)
    listed = CliRunner().invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "mirror-cpu" in listed.output

    conv = Converter.load("mirror", device="cpu", tile=None)
    assert conv.config.spec == Mirror() and conv.source.startswith("mirror-cpu")
    x = torch.rand(1, 3, 32, 40)
    stored = conv.forward(x)
    assert stored.shape == x.shape and conv.inverse(stored).shape == x.shape

    from wincli.evaluate import evaluate, summary

    rows = summary(evaluate(conv, Mirror(), sorted(imgs.glob("*.png")), frontier=True))
    assert set(rows) == {"WIN 8-bit", "WIN float", *(f"WIN 8-bit, mirrored as JPEG q{q}"
                                                       for q in (95, 90, 75, 50))}  # fmt: skip
    assert all(m["image_psnr"] > 0 and m["mirrored_psnr"] > 0 for m in rows.values())
