"""One sample's numbers under the paper's protocol: the measurement every report shares.

>>> measure(task, x, stored, task.restored(conv.inverse(stored)))   # doctest: +SKIP
{"lr_psnr": ..., "hr_psnr": ..., "lr_ssim": ..., "hr_ssim": ...}

Used by `win eval` (``wincli.evaluate``), the classical frontier (``wincli.frontier``), training's
validation and the scripts; it knows the task objects and the metrics, nothing of models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from wincli.metrics import psnr, ssim
from wincli.tasks import Task


@dataclass
class Row:
    """One method's numbers on one sample (``image``: the sample's name)."""

    image: str
    method: str
    metrics: dict[str, float] = field(default_factory=dict)


def measure(
    task: Task, x: torch.Tensor, stored, restored, metrics=(psnr, ssim)
) -> dict[str, float | None]:
    """The protocol's numbers for one sample, all on 8-bit images: the stored image against y*
    (``stego``/``lr``/``gray``) and the mean over the restored parts against the originals
    (``secret``/``hr``/``color``; rescaling shaves ``scale`` border pixels). ``stored`` or
    ``restored`` may be None (nothing to show, or a payload that did not survive). The one
    measurement of `win eval`, the registry, training's validation and the held-out script
    (``metrics=(psnr,)`` where SSIM is not wanted)."""
    m: dict[str, float | None] = {}
    target = task.target(x) if stored is not None else None
    for metric in metrics:
        m[f"{task.stored_name}_{metric.__name__}"] = (
            None if stored is None else float(metric(stored, target))
        )
        m[f"{task.restored_name}_{metric.__name__}"] = (
            None if restored is None else float(np.mean(part_scores(task, x, restored, metric)))
        )
    if psnr in metrics:
        m.update(task.derived_metrics(m))
    return m


def part_scores(task: Task, x: torch.Tensor, restored, metric=psnr) -> list[float]:
    """``metric`` of each restored part (secret 1..n; the HR; the colour image) against its
    original in ``x``, shaved as the protocol says (rescaling: ``scale`` border pixels): the
    per-part numbers ``measure`` averages and ``--check`` prints."""
    shave = task.down if task.down > 1 else 0
    return [metric(g, t, shave) for g, t in zip(restored, task.restored(x), strict=True)]
