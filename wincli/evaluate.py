"""The paper's evaluation protocol, with classical baselines in the same run.

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

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from wincli.imaging import bicubic_up, round8
from wincli.io import from_uint8, to_uint8
from wincli.jpeg import QUALITIES, pillow_jpeg
from wincli.metrics import levels, psnr, ssim
from wincli.tasks import TASK_CLASSES, Task


def lsb_hide(
    cover8: torch.Tensor, secret8: torch.Tensor | list[torch.Tensor], k: int
) -> torch.Tensor:
    """k-bit LSB per secret (uint8 tensors): the cover keeps its high 8 - n k bits, then the
    high k bits of secret 1, ..., secret n, in that order."""
    secrets = [secret8] if isinstance(secret8, torch.Tensor) else list(secret8)
    n = len(secrets)
    if not 1 <= n * k <= 8:
        raise ValueError(f"{n} secrets x {k} bits do not fit in 8 bits")
    out = (cover8.to(torch.int32) >> (n * k)) << (n * k)
    for i, s in enumerate(secrets):
        out |= (s.to(torch.int32) >> (8 - k)) << ((n - 1 - i) * k)
    return out.to(torch.uint8)


def lsb_reveal(stego8: torch.Tensor, k: int, secrets: int = 1) -> torch.Tensor | list[torch.Tensor]:
    """Each secret's k-bit field shifted up, plus half a bin (a list when ``secrets`` > 1)."""
    half = (1 << (8 - k)) // 2
    out = []
    for i in range(secrets):
        field_ = (stego8.to(torch.int32) >> ((secrets - 1 - i) * k)) & ((1 << k) - 1)
        out.append(((field_ << (8 - k)) + half).clamp(0, 255).to(torch.uint8))
    return out[0] if secrets == 1 else out


@dataclass
class Row:
    image: str
    method: str
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    """A set under ``data/eval`` and its protocol: center ``crop`` (None: whole images)."""

    name: str
    crop: int | None = None


# What the registry records for each task (``metrics`` of every shipped checkpoint): the sets
# each task class names (``Task.benchmarks``).
BENCHMARKS: dict[str, tuple[Benchmark, ...]] = {
    kind: tuple(Benchmark(name, crop) for name, crop in cls.benchmarks)
    for kind, cls in TASK_CLASSES.items()
}


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


def measure(task: Task, x: torch.Tensor, stored, restored) -> dict[str, float | None]:
    """The protocol's numbers for one sample, all on 8-bit images: the stored image against y*
    (``stego``/``lr``/``gray``) and the mean over the restored parts against the originals
    (``secret``/``hr``/``color``; rescaling shaves ``scale`` border pixels). ``stored`` or
    ``restored`` may be None (nothing to show, or a payload that did not survive)."""
    shave = task.down if task.down > 1 else 0
    m: dict[str, float | None] = {}
    for name, got, want, sh in (
        (task.stored_name, [stored] if stored is not None else None, [task.target(x)], 0),
        (task.restored_name, restored, task.restored(x), shave),
    ):
        for metric in (psnr, ssim):
            key = f"{name}_{metric.__name__}"
            m[key] = (
                None
                if got is None
                else float(np.mean([metric(g, t, sh) for g, t in zip(got, want, strict=True)]))
            )
    if task.kind == "hiding":
        stego, secret = m["stego_psnr"], m["secret_psnr"]
        m["sum_psnr"] = None if stego is None or secret is None else stego + secret
    return m


def baselines(task: Task, x: torch.Tensor) -> list[tuple[str, torch.Tensor, list[torch.Tensor]]]:
    """The task's textbook baselines as (label, stored image, restored parts): k-bit LSB
    replacement (hiding), bicubic down + up (rescaling), the Lab L gray with no colour."""
    if task.kind == "hiding":
        cover, *secs = (levels(t).to(torch.uint8) for t in task.unpack(x))
        out = []
        for k in range(1, 7 // len(secs) + 1):
            st = lsb_hide(cover, secs, k)
            rv = lsb_reveal(st, k, len(secs))
            rv = [rv] if len(secs) == 1 else rv
            out.append((f"LSB {k}-bit", st / 255.0, [r / 255.0 for r in rv]))
        return out
    lr = round8(task.target(x))
    if task.kind == "rescaling":
        return [("bicubic down+up", lr, [bicubic_up(lr, task.down)])]
    return [("Lab L, no colour", lr, [lr.repeat(1, 3, 1, 1)])]


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
            for label, stored, restored in baselines(task, x):
                rows.append(Row(name, label, measure(task, x, stored, restored)))
        if frontier:
            rows += FRONTIER[task.kind](conv, name, task, x)
    return rows


def jpeg_label(label: str, task: Task, quality: int) -> str:
    """The row of ``label``'s stored image after a JPEG ("WIN 8-bit, LR as JPEG q90")."""
    stored = task.stored_name.upper() if task.kind == "rescaling" else task.stored_name
    return f"{label}, {stored} as JPEG q{quality}"


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
    for bench in BENCHMARKS[task.kind]:
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
    sets = {b.name: b for b in BENCHMARKS[task.kind]}
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


# ------------------------------------------------------------------ the honest frontier
# Codec-in-LSB schemes (wincli.classical), rate-distortion and JPEG robustness, on the same
# images as WIN. Rows are labelled by scheme; a metric is None where nothing survived.

LSB_BITS = (1, 2, 3, 4)  # every k that leaves the visible image at least 4 bits


def png_bytes(x: torch.Tensor) -> int:
    """Size of the PNG ``win`` writes for an 8-bit image (compress level 6, no metadata)."""
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(to_uint8(x)).save(buf, format="PNG", compress_level=6)
    return buf.tell()


def frontier_hiding(conv, name: str, task: Task, x: torch.Tensor) -> list[Row]:
    from wincli.classical import hide_lsb, reveal_lsb
    from wincli.errors import InputError

    rows = []

    def row(label, stego, revealed):
        rows.append(Row(name, label, measure(task, x, stego, revealed)))

    c8, *s8 = (to_uint8(t) for t in task.unpack(x))
    first = None
    for k in LSB_BITS:
        for codec in ("webp", "jpeg"):
            try:
                st, _ = hide_lsb(c8, s8, bits=k, codec=codec)
            except InputError:  # the cover is too small for this k
                continue
            label = f"{codec.upper()}-in-LSB {k}-bit"
            row(label, from_uint8(st), [from_uint8(r) for r in reveal_lsb(st)])
            first = first or (label, st)
    for q in QUALITIES:
        if first is not None:
            stego = pillow_jpeg(from_uint8(first[1]), q)
            try:
                got = [from_uint8(r) for r in reveal_lsb(to_uint8(stego))]
            except InputError:  # the payload did not survive
                got = None
            row(f"{first[0]}, stego as JPEG q{q}", stego, got)
    return rows


def frontier_rescaling(conv, name: str, task: Task, hr: torch.Tensor) -> list[Row]:
    from wincli.classical import code_secret, restore_thumbnail, thumbnail_lsb
    from wincli.errors import InputError

    rows = []
    scale = task.down
    hr8 = to_uint8(hr)

    def row(label, lr, rec, **extra):
        rows.append(Row(name, label, {**measure(task, hr, lr, [rec]), **extra}))

    for k in LSB_BITS:
        for codec, residual in (("webp", False), ("jpeg", False), ("auto", True)):
            try:
                lr, _ = thumbnail_lsb(hr8, scale, bits=k, codec=codec, residual=residual)
            except InputError:
                continue
            what = "residual to bicubic" if residual else codec.upper()
            row(
                f"bicubic LR + {what} in LSB {k}-bit",
                from_uint8(lr),
                from_uint8(restore_thumbnail(lr)),
            )
    if conv is not None:
        lr = conv.forward(hr)
        size = png_bytes(lr)
        for codec in ("jpeg", "webp"):
            coded = code_secret(hr8, size, codec)
            row(
                f"HR as {codec.upper()} in WIN's LR-PNG bytes",
                None,
                from_uint8(coded.decode()),
                bytes=float(len(coded.stream)),
                lr_png_bytes=float(size),
            )
    bicubic = round8(task.target(hr))
    for q in QUALITIES:
        lq = pillow_jpeg(bicubic, q)
        row(f"bicubic down+up, LR as JPEG q{q}", lq, bicubic_up(lq, scale))
    return rows


def frontier_decolorization(conv, name: str, task: Task, color: torch.Tensor) -> list[Row]:
    from wincli.classical import colorize_gray, gray_lsb
    from wincli.errors import InputError

    rows = []
    c8 = to_uint8(color)
    for k in LSB_BITS:
        for gray_kind, label in (("luma", "luma (Y) gray"), ("lab", "Lab L gray")):
            try:
                gray, _ = gray_lsb(c8, bits=k, target=gray_kind)
            except InputError:
                continue
            m = measure(task, color, from_uint8(gray), [from_uint8(colorize_gray(gray))])
            if gray_kind == "luma":  # its gray is judged against the luma it was meant to be
                luma = from_uint8(np.asarray(_pil_l(c8)))
                m.update(gray_psnr=psnr(from_uint8(gray), luma))
                m.update(gray_ssim=ssim(from_uint8(gray), luma))
            rows.append(Row(name, f"{label} + chroma in LSB {k}-bit", m))
    return rows


FRONTIER = {
    "hiding": frontier_hiding,
    "rescaling": frontier_rescaling,
    "decolorization": frontier_decolorization,
}


def _pil_l(rgb: np.ndarray):
    from PIL import Image

    return Image.fromarray(rgb).convert("L")


def residual_map(a: torch.Tensor, b: torch.Tensor, gain: float = 20.0) -> torch.Tensor:
    """|a - b| x gain, clipped: the paper's magnified residual figures."""
    return ((a - b).abs() * gain).clamp(0, 1)


def image_saver(folder: Path):
    """A ``save(name, images, residual_pairs)`` callback writing PNGs into ``folder``."""
    from wincli.io import write_image

    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, images: dict, pairs: dict) -> None:
        for key, img in images.items():
            write_image(folder / f"{name}_{key}.png", img)
        for key, (a, b) in pairs.items():
            c = min(a.shape[1], b.shape[1])
            write_image(folder / f"{name}_{key}_residual_x20.png", residual_map(a[:, :c], b[:, :c]))

    return save


def _finite(d: dict) -> dict:
    """Strict JSON: infinite or NaN values become None (null)."""
    return {k: (v if v is None or math.isfinite(v) else None) for k, v in d.items()}


def write_rows(path: Path, rows: list[Row], means: dict) -> None:
    """Rows (and means) as CSV or JSON, chosen by the suffix; written atomically."""
    import csv
    import io
    import json

    from wincli.errors import OutputError
    from wincli.fs import atomic_write

    path = Path(path)
    if path.suffix.lower() == ".json":
        doc = {
            "null": "PSNR of identical images (infinite), or a payload that did not survive",
            "rows": [{**r.__dict__, "metrics": _finite(r.metrics)} for r in rows],
            "means": {m: _finite(d) for m, d in means.items()},
        }
        text = json.dumps(doc, indent=1, allow_nan=False)
    elif path.suffix.lower() == ".csv":
        keys = sorted({k for r in rows for k in r.metrics})
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["image", "method", *keys])
        for r in rows:
            w.writerow([r.image, r.method, *(r.metrics.get(k, "") for k in keys)])
        for m, d in means.items():
            w.writerow(["MEAN", m, *(d.get(k, "") for k in keys)])
        text = buf.getvalue()
    else:
        raise OutputError(f"{path}: --out must end in .csv or .json")
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
