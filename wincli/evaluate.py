"""The paper's evaluation protocol, with classical baselines in the same run
(``wincli.frontier``), and the registry's nested metrics and their schema.

>>> rows = evaluate(conv, "rescaling", find_images(["Set5/"]), scale=2)    # doctest: +SKIP
>>> summary(rows)          # {method: {metric: mean}}

Protocol (docs/evaluation.md): PSNR on all RGB channels of 8-bit images; SSIM with an 11x11
Gaussian window (sigma 1.5) on [0, 255], valid region, averaged over channels; rescaling crops HR
to a multiple of the scale and shaves ``scale`` border pixels; hiding pairs a sorted folder
(cover = image k (n + 1), secrets = the next n) with an optional center crop. Every WIN number is
given twice: ``8-bit`` (the stored image is rounded, what a user receives) and ``float`` (the
forward output is not rounded, the paper's hiding protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from wincli.frontier import task_baselines, task_frontier
from wincli.jpeg import QUALITIES, pillow_jpeg
from wincli.measure import Row, measure, part_scores  # noqa: F401  (the protocol's names)
from wincli.tasks import Task


@dataclass(frozen=True)
class Benchmark:
    """A set under ``data/eval`` and its protocol: center ``crop`` (None: whole images)."""

    name: str
    crop: int | None = None


def benchmarks(task: Task) -> tuple[Benchmark, ...]:
    """The sets the registry records for ``task`` (``metrics`` of every shipped checkpoint):
    the ones its class names (``Task.benchmarks``)."""
    return tuple(Benchmark(name, crop) for name, crop in task.benchmarks)


def load_rgb(path: Path, crop: int | None = None) -> torch.Tensor:
    from wincli.io import read_image

    x, _ = read_image(path)
    if crop:
        h, w = x.shape[-2:]
        s = min(crop, h, w)
        i, j = (h - s) // 2, (w - s) // 2
        x = x[..., i : i + s, j : j + s]
    return x


def hiding_groups(paths: list[Path], secrets: int) -> list[list[Path]]:
    """Sorted folder -> [cover, secret_1..n] groups: cover = image k (n + 1)."""
    paths = sorted(paths)
    n = secrets + 1
    return [paths[i : i + n] for i in range(0, len(paths) - n + 1, n)]


def samples(task: Task, paths, crop: int | None = None):
    """Yield (name, x) for a folder: x (1, c_in, H, W) packed for ``task``.

    Images are grouped like the paper (hiding: cover = image k (n + 1), the next n are its
    secrets, all cut to a common size), center-cropped to ``crop`` and cut to a multiple of the
    stored image's scale (rescaling HR to a multiple of the scale)."""
    n = task.images_per_sample
    for group in hiding_groups(paths, n - 1) if n > 1 else [[p] for p in sorted(paths)]:
        yield "+".join(p.stem for p in group), pack_group(task, [load_rgb(p, crop) for p in group])


def pack_group(task: Task, imgs: list[torch.Tensor]) -> torch.Tensor:
    """One sample from its images: all cut to their common size, a multiple of the stored
    image's scale, and packed for ``task``."""
    h, w = (min(t.shape[d] for t in imgs) for d in (-2, -1))
    h, w = h - h % task.down, w - w % task.down
    return task.pack([t[..., :h, :w] for t in imgs])


def evaluate(
    conv,
    task: Task,
    paths,
    *,
    crop: int | None = None,
    with_baselines: bool = True,
    frontier: bool = False,
    save=None,
    jpeg: bool = False,
    robust=None,
) -> list[Row]:
    """Every sample of a folder through WIN (``conv``; None: baselines only), as the 8-bit
    stored images of ``stored_variants`` (the forward output rounded, the one-pass encoder's,
    the refined one) and ``WIN float`` (not rounded, the paper's hiding protocol), beside the
    baselines and, with ``frontier``, the classical frontier. With ``jpeg`` (or ``frontier``),
    also the stored image the CLI writes after a Pillow JPEG at each of ``QUALITIES``;
    ``robust`` (a converter) adds the JPEG-robust model's rows, lossless and after each JPEG.
    ``save`` gets the stored image the CLI would write."""
    runs = stored_variants(conv)
    written = runs[-1][0] if runs else None  # what the CLI stores
    runs.append(("WIN float", False, None, False))
    rows = []
    for name, x in samples(task, paths, crop):
        if conv is not None:
            for label, quant, refine, enc in runs:
                stored = conv.forward(x, quantize=quant, refine=refine, encoder=enc)
                rec = conv.inverse(stored, size=tuple(x.shape[-2:]))
                restored = task.restored(rec)
                rows.append(Row(name, label, measure(task, x, stored, restored)))
                if label == written:
                    if save is not None:
                        _save_sample(save, task, name, x, stored, restored)
                    if jpeg or frontier:
                        rows += jpeg_rows("WIN 8-bit", conv, name, task, x, stored)
        if robust is not None:
            stored = robust.forward(x)
            restored = task.restored(robust.inverse(stored, size=tuple(x.shape[-2:])))
            rows.append(Row(name, ROBUST, measure(task, x, stored, restored)))
            rows += jpeg_rows("WIN robust", robust, name, task, x, stored)
        if with_baselines:
            for label, stored, restored in task_baselines(task, x):
                rows.append(Row(name, label, measure(task, x, stored, restored)))
        if frontier:
            rows += task_frontier(conv, name, task, x)
    return rows


def jpeg_label(label: str, task: Task, quality: int) -> str:
    """The row of ``label``'s stored image after a JPEG ("WIN 8-bit, LR as JPEG q90")."""
    return f"{label}, {task.stored_label} as JPEG q{quality}"


def jpeg_rows(label: str, conv, name: str, task: Task, x: torch.Tensor, stored) -> list[Row]:
    """``stored`` (what ``conv`` wrote) after a Pillow JPEG at each of ``QUALITIES``,
    restored by ``conv``: what a receiver of a shared copy gets."""
    rows = []
    for q in QUALITIES:
        coded = pillow_jpeg(stored, q)
        restored = task.restored(conv.inverse(coded, size=tuple(x.shape[-2:])))
        rows.append(Row(name, jpeg_label(label, task, q), measure(task, x, coded, restored)))
    return rows


def _save_sample(save, task: Task, name: str, x, stored, restored) -> None:
    """Inputs, the stored image, the first restored part and their magnified residuals."""
    images = dict(zip(task.input_names, task.unpack(x), strict=True))
    images |= {task.stored_name: stored, task.restored_verb: restored[0]}
    pairs = {
        task.stored_name: (stored, task.target(x)),
        task.restored_verb: (restored[0], task.restored(x)[0]),
    }
    save(name, images, pairs)


REFINED = "WIN 8-bit refined"
ENCODED = "WIN 8-bit one-pass"
ROBUST = "WIN robust 8-bit"
# registry section of each 8-bit row
SECTIONS = {"WIN 8-bit": "8bit", ENCODED: "one_pass", REFINED: "refined", "WIN float": "float"}
JPEG_SECTIONS = tuple(f"jpeg_q{q}" for q in QUALITIES)  # a robust record's


def stored_variants(conv) -> list[tuple[str, bool, object, bool]]:
    """(label, quantize, refine, encoder) of the 8-bit stored images ``evaluate`` measures: the
    rounded forward output (the paper's protocol), then the one-pass encoder's output when
    ``conv`` has one, then the refined image when ``conv`` refines; the last is what the CLI
    stores."""
    from wincli.refine import Refine

    if conv is None:
        return []
    runs = [("WIN 8-bit", True, Refine(), False)]
    if conv.encoder is not None:
        runs.append((ENCODED, True, Refine(), True))
    if conv.refine.iters > 0:
        runs.append((REFINED, True, conv.refine, True))
    return runs


def registry_metrics(conv, task: Task, eval_root: Path) -> dict:
    """The nested metrics a shipped checkpoint records: {set: {crop, 8bit: {...}, float:
    {...}, refined: {...}}} on the task's ``BENCHMARKS``, rounded (PSNR 0.01 dB, SSIM 1e-4);
    ``one_pass`` / ``refined`` only when ``conv`` has an encoder / refines (``SECTIONS``); a
    robust ``conv`` also after each JPEG quality (``jpeg_q90``: the stored image after a Pillow
    JPEG at q90, and what is restored from it)."""
    from wincli.io import list_images

    def rounded(d: dict) -> dict:
        return {k: round(v, 4 if "ssim" in k else 2) for k, v in d.items() if k != "sum_psnr"}

    labels = dict(SECTIONS)
    if conv.robust:
        labels |= {jpeg_label("WIN 8-bit", task, q): f"jpeg_q{q}" for q in QUALITIES}
    out = {}
    for bench in benchmarks(task):
        files = list_images([Path(eval_root) / bench.name])
        rows = evaluate(conv, task, files, crop=bench.crop, with_baselines=False, jpeg=conv.robust)
        m = summary(rows)
        out[bench.name] = {"crop": bench.crop}
        for label, section in labels.items():
            if label in m:
                out[bench.name][section] = rounded(m[label])
    return out


def measure_network(net, eval_root: Path, encoder=None, robust: bool = False) -> dict:
    """``registry_metrics`` of a network (and its one-pass encoder) through the converter the
    CLI uses by default (on the CPU, whole images), on the task's ``BENCHMARKS`` under
    ``eval_root``: what the release tools record and the quality tests check."""
    import torch

    from wincli.converter import Converter
    from wincli.refine import default_refine

    spec = net.config.spec
    conv = Converter(
        net=net, device=torch.device("cpu"), refine=default_refine(spec), encoder=encoder,
        robust=robust,
    )  # fmt: skip
    return registry_metrics(conv, spec, eval_root)


def measure_record(rec, eval_root: Path) -> dict:
    """``measure_network`` of a registry checkpoint with its registered encoder."""
    from wincli.weights import load_record, load_record_encoder

    net, _, _ = load_record(rec, allow_download=False)
    encoder = load_record_encoder(rec, net, allow_download=False)
    return measure_network(net, eval_root, encoder, robust=bool(rec.robust))


METRIC_SECTIONS = tuple(SECTIONS.values()) + JPEG_SECTIONS


def check_metrics(task: Task, metrics: dict) -> None:
    """Raise ValueError unless ``metrics`` has the registry's nested shape for ``task``:
    known sets, each with ``crop`` and ``8bit`` (the other ``SECTIONS`` optional) of known
    metric names."""
    sets = {b.name: b for b in benchmarks(task)}
    names = {f"{n}_{m}" for n in (task.stored_name, task.restored_name) for m in ("psnr", "ssim")}
    for set_name, entry in metrics.items():
        if set_name not in sets:
            raise ValueError(f"unknown benchmark {set_name!r} for {task.name}")
        unknown = set(entry) - {"crop", *METRIC_SECTIONS}
        if unknown or "8bit" not in entry or entry.get("crop") != sets[set_name].crop:
            raise ValueError(f"{set_name}: keys {sorted(entry)}, crop {entry.get('crop')}")
        for section in METRIC_SECTIONS:
            for key, value in entry.get(section, {}).items():
                if key not in names or not isinstance(value, (int, float)):
                    raise ValueError(f"{set_name}.{section}: bad metric {key}={value!r}")


def flat_metrics(metrics: dict) -> dict[str, float]:
    """{"Set5/8bit/hr_psnr": 37.67, ...}: the nested record as one level (for comparisons)."""
    return {
        f"{s}/{sec}/{k}": v
        for s, entry in metrics.items()
        for sec in METRIC_SECTIONS
        for k, v in entry.get(sec, {}).items()
    }


def summary(rows: list[Row]) -> dict[str, dict[str, float | None]]:
    """Mean of every metric per method (in first-seen order); ``None`` values (a payload that
    did not survive) are left out of a mean, and a metric with no value at all stays ``None``."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        d = out.setdefault(r.method, {})
        for k, v in r.metrics.items():
            d.setdefault(k, [])
            if v is not None:
                d[k].append(v)
    return {
        m: {k: (float(np.mean(v)) if v else None) for k, v in d.items()} for m, d in out.items()
    }
