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
from wincli.tasks import PRESETS, Task, as_task

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

# What the cpu preset changes from ModelConfig's defaults (which are the paper's sizes); each
# task adds its own fields (``Task.preset_fields``: hiding's widths, x4's second stage).
_CPU = dict(width=32, modules=2, couplings=1, growth=16, naive_couplings=2)


def preset_config(
    task: Task | str,
    *,
    secrets: int = 1,
    scale: int = 2,
    variant: str = "win",
    preset: str = "paper",
) -> ModelConfig:
    """The :class:`ModelConfig` of a named preset for a task (a Task, or its kind with
    ``secrets`` / ``scale``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    spec = as_task(task, secrets=secrets, scale=scale)
    cfg = ModelConfig(variant=variant, **spec.kwargs())
    if preset == "cpu":
        cfg = replace(cfg, **_CPU)
    return replace(cfg, **spec.preset_fields(preset))
