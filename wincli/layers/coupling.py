"""Affine coupling layer with dense sub-networks (docs/method.md, "Building blocks").

>>> layer = AffineCoupling(24, growth=32)          # doctest: +SKIP
>>> x = torch.rand(1, 24, 16, 16)
>>> torch.allclose(layer.inverse(layer(x)), x)      # identity at init, invertible always
True
"""

from __future__ import annotations

import torch
from torch import nn

from wincli.precision import low_precision_input


class DenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing the block input and all earlier outputs.

    LeakyReLU(0.2) after convs 1-4; conv 5 is zero-initialised so that the block outputs zeros
    at init (the coupling layer starts as the identity); convs 1-4 are Xavier-normal * 0.1.
    ``depth`` counts all convolutions including the last one (5 in the paper).
    """

    def __init__(self, c_in: int, c_out: int, growth: int = 32, depth: int = 5) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError("DenseBlock depth must be >= 2")
        self.hidden = nn.ModuleList(
            nn.Conv2d(c_in + k * growth, growth, 3, padding=1) for k in range(depth - 1)
        )
        self.last = nn.Conv2d(c_in + (depth - 1) * growth, c_out, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        for conv in self.hidden:
            nn.init.xavier_normal_(conv.weight)
            conv.weight.data.mul_(0.1)
            nn.init.zeros_(conv.bias)
        nn.init.zeros_(self.last.weight)
        nn.init.zeros_(self.last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W) in the input's dtype (under autocast the
        convolutions run in its dtype and only the result is cast back)."""
        feats = [low_precision_input(x)]
        for conv in self.hidden:
            feats.append(self.act(conv(torch.cat(feats, 1))))
        return self.last(torch.cat(feats, 1)).to(x.dtype)


class AffineCoupling(nn.Module):
    """Affine coupling on ``channels`` split into ``c1 + c2`` (default: half and half).

    forward:  y1 = x1 + phi(x2);  s = alpha (2 sigmoid(rho(y1)) - 1);  y2 = x2 exp(s) + eta(y1)
    inverse:  s = alpha (2 sigmoid(rho(y1)) - 1);  x2 = (y2 - eta(y1)) exp(-s);  x1 = y1 - phi(x2)

    Tensors: (B, channels, H, W), any real range.
    """

    def __init__(
        self,
        channels: int,
        split: int | None = None,
        growth: int = 32,
        depth: int = 5,
        alpha: float = 1.0,
    ) -> None:
        super().__init__()
        self.c1 = channels // 2 if split is None else split
        self.c2 = channels - self.c1
        if self.c1 <= 0 or self.c2 <= 0:
            raise ValueError(f"cannot split {channels} channels into {self.c1} + {self.c2}")
        self.alpha = alpha
        self.phi = DenseBlock(self.c2, self.c1, growth, depth)
        self.rho = DenseBlock(self.c1, self.c2, growth, depth)
        self.eta = DenseBlock(self.c1, self.c2, growth, depth)

    def _scale(self, y1: torch.Tensor) -> torch.Tensor:
        return self.alpha * (2.0 * torch.sigmoid(self.rho(y1)) - 1.0)

    record: bool = False  # training diagnostics: keep min/max of s and of phi, eta in .stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x = [x1, x2] -> y = [y1, y2]
        x1, x2 = x[:, : self.c1], x[:, self.c1 :]
        shift1 = self.phi(x2)
        y1 = x1 + shift1
        s, shift2 = self._scale(y1), self.eta(y1)
        y2 = x2 * torch.exp(s) + shift2
        if self.record:
            with torch.no_grad():
                self.stats = {
                    "s_min": float(s.min()),
                    "s_max": float(s.max()),
                    "add_max": float(torch.maximum(shift1.abs().max(), shift2.abs().max())),
                }
        return torch.cat([y1, y2], 1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        # y = [y1, y2] -> x = [x1, x2]
        y1, y2 = y[:, : self.c1], y[:, self.c1 :]
        x2 = (y2 - self.eta(y1)) * torch.exp(-self._scale(y1))
        x1 = y1 - self.phi(x2)
        return torch.cat([x1, x2], 1)
