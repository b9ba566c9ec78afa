"""Task definitions: 8-bit rounding, targets, losses."""

from __future__ import annotations

import torch

from wincli.models import build_model
from wincli.models.tasks import (
    bicubic_down,
    compute_losses,
    forward_target,
    lab_lightness,
    pack_hiding,
    psnr,
    quantize_8bit,
)


def test_quantize_rounds_and_passes_gradient_inside_the_range_only():
    for ste, grad in (("clamp", [0.0, 1.0, 1.0, 0.0]), ("identity", [1.0, 1.0, 1.0, 1.0])):
        y = torch.tensor([-0.2, 0.1234, 0.5, 1.3], requires_grad=True)
        q = quantize_8bit(y, ste)
        assert torch.equal(q.detach(), torch.round(y.detach().clamp(0, 1) * 255) / 255)
        q.sum().backward()
        assert torch.equal(y.grad, torch.tensor(grad))  # straight through the rounding


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
        t = forward_target(net.config, x)
        if task == "hiding":
            assert torch.equal(t, x[:, :3])
        terms = compute_losses(net, x)
        for k in ("forward", "reverse", "shift", "det"):
            assert torch.isfinite(terms[k]) and float(terms[k]) >= 0
        terms["total"].backward()
        assert all(p.grad is not None for p in net.parameters())


def test_pack_and_psnr():
    c, s = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert pack_hiding(c, [s, s]).shape == (1, 9, 4, 4)
    a = torch.zeros(1, 3, 8, 8)
    assert abs(psnr(a, a + 0.1) - 20.0) < 1e-9
