"""Tiling: full coverage of the grid and tiled == untiled within a measured tolerance."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import perturb
from wincli.converter import Converter, pad_to
from wincli.models import build_model
from wincli.tiling import auto_tile, count_tiles, tile_spans, tiled_apply


@pytest.mark.parametrize("n,tile,halo", [(10, 3, 1), (16, 16, 4), (17, 5, 0), (1, 4, 2)])
def test_tile_spans_cover_exactly_once(n, tile, halo):
    covered = []
    for a, b, e0, e1 in tile_spans(n, tile, halo):
        assert 0 <= e0 <= a < b <= e1 <= n
        assert a - e0 <= halo and e1 - b <= halo
        covered.extend(range(a, b))
    assert covered == list(range(n))
    assert len(list(tile_spans(n, tile, halo))) == math.ceil(n / tile)


def test_tiled_identity_and_scale_units():
    x = torch.rand(1, 3, 24, 40)
    assert torch.equal(tiled_apply(lambda t: t, x, 5, 2, 1, 1), x)
    down = tiled_apply(lambda t: t[..., ::2, ::2], x, 4, 1, unit_in=2, unit_out=1)
    assert torch.equal(down, x[..., ::2, ::2])
    up = tiled_apply(
        lambda t: t.repeat_interleave(2, -1).repeat_interleave(2, -2),
        x,
        7,
        2,
        unit_in=1,
        unit_out=2,
    )
    assert up.shape == (1, 3, 48, 80)
    with pytest.raises(ValueError):
        tiled_apply(lambda t: t, torch.rand(1, 3, 5, 5), 2, 1, unit_in=2)


def test_tile_count_and_auto_tile():
    assert count_tiles(10, 10, 4) == 9
    assert 16 <= auto_tile(torch.device("cpu"), 2500.0, 2) <= 1024


@pytest.mark.parametrize(
    "task,kw", [("hiding", {"secrets": 1}), ("rescaling", {"scale": 2}), ("decolorization", {})]
)
def test_tiled_matches_untiled(task, kw):
    """Receptive field of the cpu preset is larger than the halo, so tiles differ slightly;
    measured PSNR between tiled and untiled output stays above 50 dB (float, before rounding)."""
    torch.manual_seed(0)
    net = perturb(build_model(task, preset="cpu", **kw), 0.01).eval()
    c = Converter(net=net, device=torch.device("cpu"))
    t = Converter(net=net, device=torch.device("cpu"), tile=64, halo=16)
    x = torch.rand(1, net.config.c_in, 160, 192)
    x = torch.nn.functional.avg_pool2d(pad_to(x, 1), 5, 1, 2)  # smoother, photo-like
    ya, yb = c.forward(x, quantize=False), t.forward(x, quantize=False)
    mse = float(((ya - yb) ** 2).mean())
    assert mse == 0 or -10 * math.log10(mse) > 50
    ra, rb = c.inverse(ya), t.inverse(ya)
    mse = float(((ra - rb) ** 2).mean())
    assert mse == 0 or -10 * math.log10(mse) > 50


def test_auto_tile_fits_the_memory_budget_and_the_cap(monkeypatch):
    import torch

    from wincli import tiling

    cpu = torch.device("cpu")
    for free in (1 << 30, 64 << 30, 1 << 40):  # 1 GiB, 64 GiB, 1 TiB "free"
        monkeypatch.setattr(tiling, "available_memory", lambda d, f=free: f)
        for unit in (1, 2, 4):
            t = tiling.auto_tile(cpu, 2500.0, unit)
            side = t * unit
            budget = min(free * 0.25, 1 << 30)
            assert side * side * 2500.0 <= budget or t == 16  # 16 units is the floor
    from wincli.cli.common import parse_tile as _tile

    assert _tile(None) == "auto" and _tile("0") is None and _tile("512") == 512


def test_auto_tile_plans_with_the_models_measured_memory(tmp_path):
    """A registry checkpoint carries its measured bytes per pixel and --tile auto plans with it
    (times TILE_SAFETY); a bare file falls back to its preset's figure, recognised by its
    architecture rather than its parameter count (the cpu x4 model has 2M parameters)."""
    from wincli.checkpoint import save_model
    from wincli.converter import BYTES_PER_PIXEL, TILE_SAFETY
    from wincli.weights import default_record

    rec = default_record("rescaling", scale=4)
    assert rec.bytes_per_pixel and 100 < rec.bytes_per_pixel < 5000
    conv = Converter.load("rescaling", scale=4, device="cpu", allow_download=False)
    assert conv.planned_bytes_per_pixel() == TILE_SAFETY * rec.bytes_per_pixel
    for preset in ("cpu", "paper"):
        f = tmp_path / f"{preset}.safetensors"
        save_model(build_model("rescaling", scale=4, preset=preset), f)
        conv = Converter.load("rescaling", scale=4, weights=str(f), device="cpu")
        assert conv.planned_bytes_per_pixel() == BYTES_PER_PIXEL[preset]
