"""The one-pass encoder: the refined stored image at the cost of one small network.

>>> enc = load_encoder("weights/rescaling-x2-win-cpu-encoder.safetensors", net)   # doctest: +SKIP
>>> stored = round8(enc(x, task.to_image(net(x))))

The inverse that `win upscale` / `colorize` runs is fixed, so any 8-bit stored image is allowed
and the best one is the one whose inverse is closest to the input (``wincli.refine`` searches for
it with gradient steps, one image at a time). The one-pass encoder learns that search: a small
convolutional network, not invertible, looks at the input x and the forward output y0 and adds a
correction to y0. It is trained end to end through the straight-through 8-bit rounding and the
frozen inverse of one specific checkpoint, on the refinement's own objective

    mean over restored parts ||clamp(inverse(round8(y0 + g(x, y0)))) - x||^2
        + stored_weight * ||round8(y0 + g(x, y0)) - y*||^2

and so serves that checkpoint only: its file records the content hash of the inverse it was
trained for, and loading it for another network is an error.

The network works at the stored image's resolution where that is lower than x's (rescaling:
x is pixel-unshuffled by the scale) and at half resolution otherwise (decolorization, hiding:
both x and y0 are unshuffled by 2 and the correction is shuffled back), so its cost per input
pixel is a fraction of the invertible network's. Its last convolution starts at zero: an
untrained encoder stores exactly the forward output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from wincli.errors import WeightsError

FORMAT = "wincli-encoder-1"


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of a one-pass encoder; ``c_in`` / ``c_out`` / ``down`` come from the task."""

    c_in: int
    c_out: int
    down: int
    width: int = 48
    blocks: int = 4
    # The correction is bound * tanh(raw / bound) when bound > 0: at most that far (in [0, 1]
    # pixel units) from the forward output, which keeps training out of the clamp's dead zone.
    bound: float = 0.0

    @property
    def unit(self) -> int:
        """The factor x is pixel-unshuffled by: the stored image's, or 2 at full resolution."""
        return self.down if self.down > 1 else 2

    @property
    def fold(self) -> int:
        """The factor y0 is unshuffled by (and the correction shuffled back)."""
        return self.unit // self.down


class _Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(width, width, 3, padding=1)
        self.b = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.b(F.leaky_relu(self.a(h), 0.1))


class OnePassEncoder(nn.Module):
    """g(x, y0): (B, c_in, H, W), (B, c_out, H/down, W/down) -> y0 + correction (float)."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        u, f = config.unit, config.fold
        c = config.c_in * u * u + config.c_out * f * f
        self.head = nn.Conv2d(c, config.width, 3, padding=1)
        self.body = nn.Sequential(*(_Block(config.width) for _ in range(config.blocks)))
        self.tail = nn.Conv2d(config.width, config.c_out * f * f, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor, y0: torch.Tensor) -> torch.Tensor:
        u, f = self.config.unit, self.config.fold
        yf = F.pixel_unshuffle(y0, f) if f > 1 else y0
        h = F.leaky_relu(self.head(torch.cat([F.pixel_unshuffle(x, u), yf], 1)), 0.1)
        r = self.tail(self.body(h))
        b = self.config.bound
        if b > 0:
            r = b * torch.tanh(r / b)
        return y0 + (F.pixel_shuffle(r, f) if f > 1 else r)


def inverse_id(net) -> str:
    """The identity of an invertible network's weights (the content hash its files carry)."""
    from wincli.checkpoint import content_hash

    return content_hash({k: v.float() for k, v in net.state_dict().items()})


def build_encoder(net, width: int = 48, blocks: int = 4, bound: float = 0.0) -> OnePassEncoder:
    """A fresh encoder (storing the forward output as it is) for ``net``'s task."""
    task = net.config.spec
    cfg = EncoderConfig(task.c_in, task.stored_channels, task.down, width, blocks, bound)
    return OnePassEncoder(cfg)


def save_encoder(enc: OnePassEncoder, path: str | Path, serves: str, meta: dict) -> None:
    """Weights + config + the inverse it serves (``inverse_id``) in the safetensors header."""
    from wincli.checkpoint import save_tensors

    info = {"format": FORMAT, "config": json.dumps(asdict(enc.config)), "serves": serves}
    info.update({k: str(v) for k, v in meta.items()})
    save_tensors({k: v.float() for k, v in enc.state_dict().items()}, path, info)


def read_encoder(path: str | Path, trusted: bool = False) -> OnePassEncoder:
    """The encoder in ``path`` as it is, whatever inverse it was trained for (a starting point
    for training another network's encoder; to run one, use :func:`load_encoder`)."""
    return _read(path, trusted)[0]


def load_encoder(path: str | Path, net, trusted: bool = False) -> OnePassEncoder:
    """The encoder in ``path``, checked to serve exactly ``net``'s inverse."""
    enc, meta = _read(path, trusted)
    if meta.get("serves", "") != inverse_id(net):
        raise WeightsError(
            f"{path}: this encoder was trained for another network's inverse "
            f"({meta.get('serves_name', 'unknown')}), not for {net.config.name}; "
            "pass the encoder that belongs to these weights, or --encoder none"
        )
    return enc


def _read(path: str | Path, trusted: bool) -> tuple[OnePassEncoder, dict]:
    from wincli.checkpoint import load_state, read_metadata

    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a one-pass encoder file")
    enc = OnePassEncoder(EncoderConfig(**json.loads(meta["config"])))
    try:
        enc.load_state_dict(load_state(path, trusted), strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{path}: weights do not fit its config ({exc})") from None
    return enc.eval(), meta
