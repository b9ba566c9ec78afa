"""Squeeze / unsqueeze: lossless space-to-depth by a factor of 2.

>>> Squeeze()(torch.zeros(1, 3, 8, 8)).shape   # doctest: +SKIP
torch.Size([1, 12, 4, 4])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Squeeze(nn.Module):
    """(B, C, H, W) -> (B, 4C, H/2, W/2); channel ``4c + p`` holds sub-pixel ``p`` of ``c``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(x, 2)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(y, 2)


class Unsqueeze(nn.Module):
    """(B, 4C, H, W) -> (B, C, 2H, 2W); the inverse of :class:`Squeeze`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(x, 2)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return F.pixel_unshuffle(y, 2)
