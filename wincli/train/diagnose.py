"""Training diagnostics written to ``log.jsonl`` (one record per log interval).

>>> probe = Probe(net)                  # doctest: +SKIP
>>> probe.arm()                         # the next forward records coupling and WIM statistics
>>> record = probe.read(image, grad_norms)

What each field is (all measured on the last training batch of the interval):
- ``grad_norm`` / ``grad_norm_max``: mean / max over the interval of the gradient norm before
  clipping (clip at 10).
- ``s_min`` / ``s_max``: per coupling, the extremes of the scale term s (bounded by alpha = 1).
- ``add_max``: per coupling, the largest |phi| or |eta| (the additive terms; unbounded).
- ``wim_act_max``: per WIM, the largest |activation| it outputs.
- ``wic_cond``: per WIC, the condition number of W (how much its left inverse amplifies the
  8-bit rounding error).
- ``out_of_range``: the fraction of stored-image values outside [0, 1] before rounding (the
  clamp destroys what they carry).
"""

from __future__ import annotations

import torch

from wincli.layers.coupling import AffineCoupling
from wincli.layers.wim import WIM


class Probe:
    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net
        self.couplings = [m for m in net.modules() if isinstance(m, AffineCoupling)]
        self.wims = [m for m in net.modules() if isinstance(m, WIM)]
        self.wim_max: dict[int, float] = {}
        for i, wim in enumerate(self.wims):
            wim.register_forward_hook(self._hook(i))
        self.armed = False

    def _hook(self, i: int):
        def hook(_module, _inputs, outputs):
            if self.armed:
                with torch.no_grad():
                    self.wim_max[i] = max(float(t.abs().max()) for t in outputs)

        return hook

    def arm(self, on: bool = True) -> None:
        self.armed = on
        for c in self.couplings:
            c.record = on

    def read(self, image: torch.Tensor, grad_norms: list[float]) -> dict:
        self.arm(False)
        stats = [getattr(c, "stats", {}) for c in self.couplings]
        wics = [m for m in self.net.modules() if hasattr(m, "condition")]
        return {
            "grad_norm": sum(grad_norms) / max(len(grad_norms), 1),
            "grad_norm_max": max(grad_norms, default=0.0),
            "s_min": [round(s.get("s_min", 0.0), 4) for s in stats],
            "s_max": [round(s.get("s_max", 0.0), 4) for s in stats],
            "add_max": [round(s.get("add_max", 0.0), 4) for s in stats],
            "wim_act_max": [round(self.wim_max.get(i, 0.0), 4) for i in range(len(self.wims))],
            "wic_cond": [round(w.condition(), 3) for w in wics],
            "out_of_range": float(((image < 0) | (image > 1)).float().mean()),
        }
