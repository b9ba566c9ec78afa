"""Shipped checkpoints on ../shared/data/eval: the floors of the training issue, and `win eval`
numbers equal to those recorded in the weights registry (both through 8-bit images)."""

from __future__ import annotations

import pytest

from tests.conftest import DATA, needs_data
from wincli.evaluate import flat_metrics
from wincli.weights import load_record, load_registry

FLOORS = {  # task name -> {set/section/metric: minimum dB}
    "rescaling-x2": {"Set5/8bit/hr_psnr": 33.8, "Set14/8bit/hr_psnr": 30.0},
    "rescaling-x4": {"Set5/8bit/hr_psnr": 27.7},
    "decolorization": {"Kodak24/8bit/color_psnr": 33.0, "Kodak24/8bit/gray_psnr": 33.0},
    "hiding-1": {"Kodak24/8bit/stego_psnr": 33.0, "Kodak24/8bit/secret_psnr": 31.0},
}

DEFAULTS = [r for r in load_registry() if r.default]


@needs_data
@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("rec", DEFAULTS, ids=[r.name for r in DEFAULTS])
def test_shipped_checkpoint_quality(rec):
    from scripts.ship_checkpoint import measure

    net, _, _ = load_record(rec, allow_download=False)
    measured = flat_metrics(measure(net, DATA))
    for k, v in flat_metrics(rec.metrics).items():
        assert measured[k] == pytest.approx(v, abs=0.02), f"{k}: registry {v}, measured now"
    for k, floor in FLOORS.get(rec.spec.name, {}).items():
        assert measured[k] >= floor, f"{rec.name} {k} = {measured[k]} < floor {floor}"
    if rec.spec.name == "hiding-1":
        total = measured["Kodak24/8bit/stego_psnr"] + measured["Kodak24/8bit/secret_psnr"]
        assert total >= 67.5, f"stego + secret = {total:.2f} dB, not above 4-bit LSB"
