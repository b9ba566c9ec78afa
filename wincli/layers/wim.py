"""WIM: the well-posed invertible module with long-term memory (docs/method.md, "Building blocks").

>>> wim = WIM(width=32, ratio=0.75, couplings=4, growth=32)    # doctest: +SKIP
>>> memory, h = wim(h)          # h: (B, 24, H, W) -> memory (B, 8, H, W), h (B, 24, H, W)
>>> h0 = wim.inverse(memory, h)

h -> WIC(SM -> n) -> [m (LM channels) | rest (SM channels)] -> B couplings on rest.
"""

from __future__ import annotations

import torch
from torch import nn

from wincli.layers.coupling import AffineCoupling
from wincli.layers.wic import WIC


class WIM(nn.Module):
    """One module of width ``n``: SM = floor(ratio n) short-term, LM = n - SM memory channels."""

    def __init__(
        self, width: int, ratio: float = 0.75, couplings: int = 4, growth: int = 32, depth: int = 5
    ) -> None:
        super().__init__()
        self.width = width
        self.short = int(ratio * width)
        self.memory = width - self.short
        if self.short <= 1 or self.memory <= 0:
            raise ValueError(f"width {width} with ratio {ratio} leaves no memory or short channels")
        self.wic = WIC(self.short, width)
        self.couplings = nn.ModuleList(
            AffineCoupling(self.short, growth=growth, depth=depth) for _ in range(couplings)
        )

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, SM, H, W) -> (memory (B, LM, H, W), h (B, SM, H, W))."""
        z = self.wic(h)
        memory, h = z[:, : self.memory], z[:, self.memory :]
        for coupling in self.couplings:
            h = coupling(h)
        return memory, h

    def inverse(self, memory: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        for coupling in reversed(self.couplings):
            h = coupling.inverse(h)
        return self.wic.inverse(torch.cat([memory, h], 1))
