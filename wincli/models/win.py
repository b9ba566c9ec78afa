"""WIN and WIN-Naive (Huang & Huang, arXiv 2508.02111; docs/method.md).

>>> net = WIN(ModelConfig(task="hiding", secrets=1))      # doctest: +SKIP
>>> stego = net(torch.cat([cover, secret], 1))             # (B, 6, H, W) -> (B, 3, H, W)
>>> recovered = net.inverse(stego)                         # (B, 6, H, W): [cover, secret]

WIN, hiding / decolorization (one stage)::

    x (c_in, H, W) -squeeze-> (4 c_in, H/2) -WIC-> SM -WIM_1..M-> [m_1..m_M, h] -coupling->
      -unsqueeze-> ((SM + M LM) / 4, H, W) -WIC fusion-> y (c_out, H, W)

WIN, rescaling x2 / x4 (one stage per factor 2, no unsqueeze)::

    x -[squeeze -WIC-> SM -WIMs-> concat -coupling]x log2(s)-> -WIC fusion-> y (c_out, H/s)

WIN-Naive: squeeze (log2 s times for rescaling), ``naive_couplings`` coupling layers at constant
width, unsqueeze (not for rescaling), final WIC. Like the reference code, and unlike the paper's
text, it puts no WIC between the couplings.

The only channel-reducing layer is the final fusion WIC (c_in > c_out); every other WIC is
well-posed (c_in <= c_out), so ``inverse`` is deterministic: no latent is ever sampled.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wincli.layers import WIC, WIM, AffineCoupling
from wincli.models.config import ModelConfig
from wincli.models.restorer import Restorer


def _stage_width(width: int, ratio: float, channels: int) -> int:
    """Raise ``width`` to the next power of two when its SM cannot hold ``channels``."""
    if int(ratio * width) >= channels:
        return width
    w = 1
    while int(ratio * w) < channels:
        w *= 2
    return w


class WINStage(nn.Module):
    """WIC(c -> SM), M WIMs, concat of the memories with h, one coupling layer."""

    def __init__(
        self,
        channels: int,
        width: int,
        ratio: float,
        modules: int,
        couplings: int,
        growth: int,
        depth: int,
    ) -> None:
        super().__init__()
        width = _stage_width(width, ratio, channels)
        self.wims = nn.ModuleList(
            WIM(width, ratio, couplings, growth, depth) for _ in range(modules)
        )
        self.short = self.wims[0].short
        self.memory = self.wims[0].memory
        self.expand = WIC(channels, self.short)
        self.out_channels = self.short + modules * self.memory
        self.final = AffineCoupling(self.out_channels, growth=growth, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.expand(x)
        memories = []
        for wim in self.wims:
            memory, h = wim(h)
            memories.append(memory)
        return self.final(torch.cat(memories + [h], 1))

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        z = self.final.inverse(z)
        m = self.memory
        h = z[:, len(self.wims) * m :]
        for i in reversed(range(len(self.wims))):
            h = self.wims[i].inverse(z[:, i * m : (i + 1) * m], h)
        return self.expand.inverse(h)


class InvertibleNet(nn.Module):
    """Shared contract of WIN and WIN-Naive.

    ``forward``: (B, c_in, H, W) -> (B, c_out, H / s, W / s); ``inverse`` the other way;
    ``forward_train`` also returns the fusion WIC's augmented channels for the shift loss.
    H and W must be multiples of ``config.multiple``.
    """

    config: ModelConfig
    fusion: WIC
    restorer: Restorer | None  # a robust model's clean-up before the inverse

    def _add_restorer(self) -> None:
        c = self.config
        self.restorer = Restorer(c.c_out, c.restorer) if c.restorer else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before the fusion WIC."""
        raise NotImplementedError

    def features_inverse(self, f: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fusion(self.features(self._in_format(x)))

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fusion.forward_train(self.features(self._in_format(x)))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """The stored image back to x; a robust model's restorer cleans ``y`` up first, so its
        inverse is exact only up to that correction."""
        if self.restorer is not None:
            y = self.restorer(self._in_format(y))
        return self.features_inverse(self._in_format(self.fusion.inverse(y)))

    def _in_format(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the memory format of the convolutions' weights. A 1-channel image or a 1x1
        WIC product is ambiguous and comes out channels-first; fed to channels-last weights,
        every convolution after it would copy its input (1.4x slower inverse)."""
        w = next(m.weight for m in self.modules() if isinstance(m, nn.Conv2d))
        if w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous():
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def wics(self) -> list[WIC]:
        return [m for m in self.modules() if isinstance(m, WIC)]

    def log_det_penalty(self) -> torch.Tensor:
        """L_det: sum over every WIC of |log det(W^T W)|."""
        return torch.stack([w.log_det().abs() for w in self.wics()]).sum()

    @torch.no_grad()
    def init_task_aware(self, x: torch.Tensor, target: torch.Tensor) -> float:
        """Data-driven start: returns the PSNR of the fitted output.

        Well-posed WICs become identity embeddings (channels pass through in order, so the
        sub-pixel grouping survives the un-squeeze); with the couplings at identity the forward
        map is then linear, and the fusion WIC's first c_out rows are set to the float64
        least-squares fit of ``target`` (B, c_out, H', W') from the features of ``x``.
        """
        for wic in self.wics():
            if wic is not self.fusion and wic.k == 1:
                wic.init_embedding()
        if target.shape[1] != self.fusion.c_out:  # x4: every group starts at the target
            target = target.repeat(1, self.fusion.c_out // target.shape[1], 1, 1)
        feats = self.features(x).double()
        f = feats.permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
        t = target.double().permute(0, 2, 3, 1).reshape(-1, target.shape[1])
        rows = (torch.linalg.pinv(f) @ t).T
        self.fusion.init_rows(rows)
        mse = ((f @ rows.T - t) ** 2).mean().clamp_min(1e-20)
        return float(-10 * torch.log10(mse))


class WIN(InvertibleNet):
    """Well-posed Invertible Network built from a :class:`ModelConfig`."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config.c_in
        stages = []
        for s in range(config.stages):
            c *= 4
            late = s > 0
            stage = WINStage(
                c,
                (config.late_width or config.width) if late else config.width,
                config.ratio,
                (config.late_modules or config.modules) if late else config.modules,
                (config.late_couplings or config.couplings) if late else config.couplings,
                config.growth,
                config.depth,
            )
            stages.append(stage)
            c = stage.out_channels
        self.stages = nn.ModuleList(stages)
        self.unsqueeze = config.spec.unsqueeze
        if self.unsqueeze:
            if c % 4:
                raise ValueError(f"SM + M*LM = {c} must be divisible by 4 to un-squeeze")
            c //= 4
        self.fusion = WIC(c, config.c_out)
        self._add_restorer()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            x = stage(F.pixel_unshuffle(x, 2))
        return F.pixel_shuffle(x, 2) if self.unsqueeze else x

    def features_inverse(self, f: torch.Tensor) -> torch.Tensor:
        x = F.pixel_unshuffle(f, 2) if self.unsqueeze else f
        for stage in reversed(self.stages):
            x = F.pixel_shuffle(stage.inverse(x), 2)
        return x


class WINNaive(InvertibleNet):
    """WIN-Naive: squeeze, constant-width couplings, (un-squeeze,) final WIC."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config.c_in * 4**config.stages
        self.couplings = nn.ModuleList(
            AffineCoupling(c, growth=config.growth, depth=config.depth)
            for _ in range(config.naive_couplings)
        )
        self.unsqueeze = config.spec.unsqueeze
        self.fusion = WIC(config.c_in if self.unsqueeze else c, config.c_out)
        self._add_restorer()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pixel_unshuffle(x, self.config.multiple)
        for coupling in self.couplings:
            x = coupling(x)
        return F.pixel_shuffle(x, 2) if self.unsqueeze else x

    def features_inverse(self, f: torch.Tensor) -> torch.Tensor:
        x = F.pixel_unshuffle(f, 2) if self.unsqueeze else f
        for coupling in reversed(self.couplings):
            x = coupling.inverse(x)
        return F.pixel_shuffle(x, self.config.multiple)
