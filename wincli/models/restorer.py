"""The decoder-side restorer of the JPEG-robust models: a received stored image is cleaned up
before the inverse.

>>> r = Restorer(channels=3, width=32)
>>> cleaned = r(received)          # (B, C, h, w) -> the same shape: received + r's correction

A file that was shared as JPEG reaches ``win upscale`` / ``reveal`` / ``colorize`` with block
and ringing errors that the invertible network's inverse amplifies (it reads detail out of the
stored image's small variations). A robust model puts a small convolutional network in front of
its inverse, trained jointly with the network through a real JPEG (``win train --jpeg ...
--restorer 32``). It is not invertible and does not need to be: the forward pass never uses it.
It works at half resolution (pixel-unshuffled by 2; odd sizes are padded by replication) and
adds a correction whose last convolution starts at zero, so a network grown with a new restorer
restores exactly as before its first training step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Restorer(nn.Module):
    """y + g(y): g a residual CNN (``blocks`` blocks of two 3x3 convolutions, ``width``
    channels) on the pixel-unshuffled y. (B, channels, h, w) in [0, 1] -> the same shape."""

    def __init__(self, channels: int, width: int, blocks: int = 3) -> None:
        super().__init__()
        c = 4 * channels
        self.head = nn.Conv2d(c, width, 3, padding=1)
        self.body = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(width, width, 3, padding=1),
            )
            for _ in range(blocks)
        )
        self.tail = nn.Conv2d(width, c, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        h, w = y.shape[-2:]
        p = F.pad(y, (0, w % 2, 0, h % 2), mode="replicate") if h % 2 or w % 2 else y
        f = self.head(F.pixel_unshuffle(p, 2))
        for block in self.body:
            f = f + block(F.leaky_relu(f, 0.2))
        out = p + F.pixel_shuffle(self.tail(F.leaky_relu(f, 0.2)), 2)
        return out[..., :h, :w]
