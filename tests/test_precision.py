"""bf16 inference and training: same bytes across runs, files that restore across precisions,
and ``--precision`` choices that say why."""

from __future__ import annotations

import pytest
import torch

from wincli.converter import Converter
from wincli.errors import InputError
from wincli.metrics import psnr
from wincli.options import InferenceOptions
from wincli.precision import bf16_hardware, pick_precision, training_precision

CPU = torch.device("cpu")
needs_bf16 = pytest.mark.skipif(not bf16_hardware(CPU)[0], reason="this CPU has no bf16 units")


def _photo_like(h: int = 96, w: int = 128) -> torch.Tensor:
    """A smooth image with edges and texture (deterministic)."""
    g = torch.Generator().manual_seed(3)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([xx, yy, 0.5 + 0.4 * torch.sin(9 * xx + 5 * yy)])
    edges = (torch.sin(23 * xx) > 0.3).float() * 0.2
    noise = torch.nn.functional.avg_pool2d(torch.rand(3, h, w, generator=g)[None], 3, 1, 1)[0]
    return ((0.6 * base + edges + 0.2 * noise).clamp(0, 1))[None]


def _x2(precision: str) -> Converter:
    return Converter.load("rescaling", scale=2, options=InferenceOptions(precision=precision))


@needs_bf16
def test_bf16_gives_the_same_bytes_every_run_and_restores_across_precisions():
    x = _photo_like()
    fp32, bf16 = _x2("fp32"), _x2("bf16")
    assert (fp32.precision.name, bf16.precision.name) == ("fp32", "bf16")
    lr = bf16.forward(x)
    assert torch.equal(lr, bf16.forward(x))  # deterministic
    ref = psnr(fp32.inverse(fp32.forward(x)), x)
    for decoder in (fp32, bf16):  # a bf16 file restores in fp32 and the reverse
        assert psnr(decoder.inverse(lr), x) > ref - 0.3
    assert psnr(bf16.inverse(fp32.forward(x)), x) > ref - 0.3
    assert ref > 33.0


def test_precision_choices_say_why():
    assert pick_precision("fp32", CPU, None).name == "fp32"
    unmeasured = pick_precision("auto", CPU, None)
    assert unmeasured.name == "fp32" and unmeasured.reason
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        pick_precision("fp16", CPU, True)
    with pytest.raises(ValueError, match="must be one of"):
        pick_precision("int4", CPU, True)
    with pytest.raises(ValueError, match="not supported"):
        training_precision("fp16", CPU)
    with pytest.raises(InputError, match="--half is --precision fp16"):
        Converter.load("rescaling", scale=2, options=InferenceOptions(half=True, precision="bf16"))
    with pytest.raises(InputError, match="needs a CUDA device"):
        _x2("fp16")


@needs_bf16
def test_auto_without_a_measured_loss_stays_fp32():
    """A record without a measured bf16 loss: auto must not silently move the bytes."""
    from wincli.weights import default_record

    conv = _x2("auto")
    if default_record("rescaling", scale=2).bf16_ok is None:
        assert conv.precision.name == "fp32" and "never measured" in conv.precision.reason
    else:
        assert conv.precision.name == (
            "bf16" if default_record("rescaling", scale=2).bf16_ok else "fp32"
        )
