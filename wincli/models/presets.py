"""Named sizes of every network: ``paper`` (the paper's parameter counts) and ``cpu``.

>>> preset_config("rescaling", scale=2, preset="cpu").growth
16

``paper`` matches the published parameter counts within 15% (tests check it); where the paper
does not give the widths of the multi-secret and x4 networks, the widths below were chosen to
land on its counts. ``cpu`` is a few hundred thousand parameters, trainable on 2 CPU cores.
"""

from __future__ import annotations

from dataclasses import replace

from wincli.models.config import ModelConfig
from wincli.tasks import PRESETS, Hiding, make_task

# Published parameter counts (millions), keyed by (task name, variant).
PAPER_PARAMS = {
    ("hiding-1", "win"): 2.3,
    ("hiding-1", "win-naive"): 2.0,
    ("hiding-2", "win"): 2.8,
    ("hiding-3", "win"): 3.8,
    ("hiding-4", "win"): 4.2,
    ("rescaling-x2", "win"): 2.3,
    ("rescaling-x4", "win"): 7.3,
    ("decolorization", "win"): 2.3,
}

# Stage widths of the hiding networks: SM = 0.75 n must hold the 12 (n + 1) squeezed channels.
_HIDING_WIDTH = {1: 32, 2: 48, 3: 64, 4: 80}

_PAPER = {
    "hiding": dict(width=32, modules=2, couplings=4, growth=32),
    "rescaling": dict(width=32, modules=2, couplings=4, growth=32),
    "decolorization": dict(width=32, modules=2, couplings=4, growth=32),
}
_PAPER_X4_LATE = dict(late_width=256, late_modules=1, late_couplings=3)
_PAPER_HIDING_GROWTH = {1: 32, 2: 32, 3: 36, 4: 34}

_CPU = dict(width=32, modules=2, couplings=1, growth=16, naive_couplings=2)
_CPU_X4_LATE = dict(late_width=256, late_modules=1, late_couplings=1)


def preset_config(
    task: str,
    *,
    secrets: int = 1,
    scale: int = 2,
    variant: str = "win",
    preset: str = "paper",
) -> ModelConfig:
    """The :class:`ModelConfig` of a named preset."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    spec = make_task(task, secrets=secrets, scale=scale)
    base = ModelConfig(variant=variant, **spec.kwargs())
    cfg = replace(base, **(_PAPER[task] if preset == "paper" else _CPU))
    if spec.stages == 2:  # x4: the second stage has its own width
        cfg = replace(cfg, **(_PAPER_X4_LATE if preset == "paper" else _CPU_X4_LATE))
    if isinstance(spec, Hiding):  # the stage must hold 12 (n + 1) squeezed channels
        cfg = replace(cfg, width=_HIDING_WIDTH[secrets])
        if preset == "paper":
            cfg = replace(cfg, growth=_PAPER_HIDING_GROWTH[secrets])
    return cfg
