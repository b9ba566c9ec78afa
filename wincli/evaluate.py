"""The paper's evaluation protocol, with classical baselines in the same run.

>>> rows = evaluate(conv, "rescaling", find_images(["Set5/"]), scale=2)    # doctest: +SKIP
>>> summary(rows)          # {method: {metric: mean}}

Protocol (DESIGN.md section 6): PSNR on all RGB channels of 8-bit images; SSIM with an 11x11
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

from wincli.io import from_uint8, to_uint8
from wincli.metrics import levels, psnr, ssim
from wincli.tasks import bicubic_down, bicubic_up, lab_lightness, round8


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


def eval_hiding(
    conv,
    paths,
    secrets: int,
    crop: int | None,
    lsb: bool = True,
    save=None,
    frontier: bool = False,
) -> list[Row]:
    rows = []
    for group in hiding_groups(paths, secrets):
        imgs = [load_rgb(p, crop) for p in group]
        size = tuple(min(t.shape[d] for t in imgs) for d in (-2, -1))
        imgs = [t[..., : size[0], : size[1]] for t in imgs]
        cover, secs = imgs[0], imgs[1:]
        name = "+".join(p.stem for p in group)
        x = torch.cat(imgs, 1)
        if conv is not None:
            for label, quant in (("WIN 8-bit", True), ("WIN float", False)):
                stego = conv.forward(x, quantize=quant)
                rec = conv.inverse(stego, clamp=True)
                m = {"stego_psnr": psnr(stego, cover), "stego_ssim": ssim(stego, cover)}
                sp = [psnr(rec[:, 3 * i : 3 * i + 3], s) for i, s in enumerate(secs, 1)]
                ss = [ssim(rec[:, 3 * i : 3 * i + 3], s) for i, s in enumerate(secs, 1)]
                m.update(secret_psnr=float(np.mean(sp)), secret_ssim=float(np.mean(ss)))
                m["sum_psnr"] = m["stego_psnr"] + m["secret_psnr"]
                rows.append(Row(name, label, m))
                if save is not None and quant:
                    save(
                        name,
                        {
                            "cover": cover,
                            "stego": stego,
                            "secret": secs[0],
                            "revealed": rec[:, 3:6],
                        },
                        {"stego": (stego, cover), "revealed": (rec[:, 3:6], secs[0])},
                    )
        if lsb:
            c8 = levels(cover).to(torch.uint8)
            s8 = [levels(t).to(torch.uint8) for t in secs]
            for k in range(1, 7 // secrets + 1):
                st = lsb_hide(c8, s8, k)
                rv = lsb_reveal(st, k, secrets)
                rv = [rv] if secrets == 1 else rv
                pairs = [(r / 255.0, t) for r, t in zip(rv, secs, strict=True)]
                m = {"stego_psnr": psnr(st / 255.0, cover), "stego_ssim": ssim(st / 255.0, cover)}
                m["secret_psnr"] = float(np.mean([psnr(r, t) for r, t in pairs]))
                m["secret_ssim"] = float(np.mean([ssim(r, t) for r, t in pairs]))
                m["sum_psnr"] = m["stego_psnr"] + m["secret_psnr"]
                rows.append(Row(name, f"LSB {k}-bit", m))
        if frontier:
            rows += frontier_hiding(conv, name, cover, secs)
    return rows


def eval_rescaling(conv, paths, scale: int, save=None, frontier: bool = False) -> list[Row]:
    rows = []
    for p in sorted(paths):
        hr = load_rgb(p)
        h, w = hr.shape[-2:]
        hr = hr[..., : h - h % scale, : w - w % scale]
        if conv is not None:
            for label, quant in (("WIN 8-bit", True), ("WIN float", False)):
                lr = conv.forward(hr, quantize=quant)
                rec = conv.inverse(lr, size=tuple(hr.shape[-2:]))
                lr_ref = bicubic_down(hr, scale)
                rows.append(
                    Row(
                        p.stem,
                        label,
                        {
                            "hr_psnr": psnr(rec, hr, scale),
                            "hr_ssim": ssim(rec, hr, scale),
                            "lr_psnr": psnr(lr, lr_ref),
                        },
                    )
                )
                if save is not None and quant:
                    save(p.stem, {"hr": hr, "lr": lr, "restored": rec}, {"restored": (rec, hr)})
        lr_b = round8(bicubic_down(hr, scale))
        up = bicubic_up(lr_b, scale)
        rows.append(
            Row(
                p.stem,
                "bicubic down+up",
                {
                    "hr_psnr": psnr(up, hr, scale),
                    "hr_ssim": ssim(up, hr, scale),
                    "lr_psnr": math.inf,
                },
            )
        )
        if frontier:
            rows += frontier_rescaling(conv, p.stem, hr, scale)
    return rows


def eval_decolorization(conv, paths, save=None, frontier: bool = False) -> list[Row]:
    rows = []
    for p in sorted(paths):
        color = load_rgb(p)
        target = lab_lightness(color)
        if conv is not None:
            for label, quant in (("WIN 8-bit", True), ("WIN float", False)):
                gray = conv.forward(color, quantize=quant)
                rec = conv.inverse(gray)
                rows.append(
                    Row(
                        p.stem,
                        label,
                        {
                            "color_psnr": psnr(rec, color),
                            "color_ssim": ssim(rec, color),
                            "gray_psnr": psnr(gray, target),
                            "gray_ssim": ssim(gray, target),
                        },
                    )
                )
                if save is not None and quant:
                    save(
                        p.stem,
                        {"color": color, "gray": gray, "recolored": rec},
                        {"recolored": (rec, color)},
                    )
        lab8 = round8(target)
        floor = lab8.repeat(1, 3, 1, 1)
        rows.append(
            Row(
                p.stem,
                "Lab L, no colour",
                {
                    "color_psnr": psnr(floor, color),
                    "color_ssim": ssim(floor, color),
                    "gray_psnr": math.inf,
                    "gray_ssim": 1.0,
                },
            )
        )
        if frontier:
            rows += frontier_decolorization(conv, p.stem, color)
    return rows


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

JPEG_QUALITIES = (95, 90, 75)
LSB_BITS = (1, 2, 3, 4)  # every k that leaves the visible image at least 4 bits


def jpeg_round_trip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """(1, C, H, W) through Pillow's JPEG at ``quality`` (what a re-encoding service does)."""
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(to_uint8(x)).save(buf, format="JPEG", quality=quality)
    with Image.open(_io.BytesIO(buf.getvalue())) as im:
        return from_uint8(np.array(im))


def png_bytes(x: torch.Tensor) -> int:
    """Size of the PNG ``win`` writes for an 8-bit image (compress level 6, no metadata)."""
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(to_uint8(x)).save(buf, format="PNG", compress_level=6)
    return buf.tell()


def frontier_hiding(conv, name: str, cover: torch.Tensor, secs: list[torch.Tensor]) -> list[Row]:
    from wincli.classical import hide_lsb, reveal_lsb
    from wincli.errors import InputError

    rows = []

    def row(label, stego, revealed):
        m = {"stego_psnr": psnr(stego, cover), "stego_ssim": ssim(stego, cover)}
        if revealed is None:
            m.update(secret_psnr=None, secret_ssim=None, sum_psnr=None)
        else:
            m["secret_psnr"] = float(
                np.mean([psnr(r, t) for r, t in zip(revealed, secs, strict=True)])
            )
            m["secret_ssim"] = float(
                np.mean([ssim(r, t) for r, t in zip(revealed, secs, strict=True)])
            )
            m["sum_psnr"] = m["stego_psnr"] + m["secret_psnr"]
        rows.append(Row(name, label, m))

    c8, s8 = to_uint8(cover), [to_uint8(t) for t in secs]
    first = None
    for k in LSB_BITS:
        for codec in ("webp", "jpeg"):
            try:
                st, _ = hide_lsb(c8, s8, bits=k, codec=codec)
            except InputError:  # the cover is too small for this k
                continue
            row(
                f"{codec.upper()}-in-LSB {k}-bit",
                from_uint8(st),
                [from_uint8(r) for r in reveal_lsb(st)],
            )
            first = first or (f"{codec.upper()}-in-LSB {k}-bit", st)
    n = len(secs)
    win_stego = conv.forward(torch.cat([cover, *secs], 1)) if conv is not None else None
    for q in JPEG_QUALITIES:
        if win_stego is not None:
            stego = jpeg_round_trip(win_stego, q)
            rec = conv.inverse(stego, clamp=True)
            row(
                f"WIN 8-bit, stego as JPEG q{q}",
                stego,
                [rec[:, 3 * i : 3 * i + 3] for i in range(1, n + 1)],
            )
        if first is not None:
            stego = jpeg_round_trip(from_uint8(first[1]), q)
            try:
                got = [from_uint8(r) for r in reveal_lsb(to_uint8(stego))]
            except InputError:  # the payload did not survive
                got = None
            row(f"{first[0]}, stego as JPEG q{q}", stego, got)
    return rows


def frontier_rescaling(conv, name: str, hr: torch.Tensor, scale: int) -> list[Row]:
    from wincli.classical import code_secret, restore_thumbnail, thumbnail_lsb
    from wincli.errors import InputError

    rows = []
    lr_ref = bicubic_down(hr, scale)
    hr8 = to_uint8(hr)

    def row(label, lr, rec, **extra):
        m = {"hr_psnr": psnr(rec, hr, scale), "hr_ssim": ssim(rec, hr, scale)}
        m["lr_psnr"] = psnr(lr, lr_ref) if lr is not None else None
        rows.append(Row(name, label, {**m, **extra}))

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
            )
        rows[-1].metrics["lr_png_bytes"] = float(size)
        for q in JPEG_QUALITIES:
            lq = jpeg_round_trip(lr, q)
            row(f"WIN 8-bit, LR as JPEG q{q}", lq, conv.inverse(lq, size=tuple(hr.shape[-2:])))
    return rows


def frontier_decolorization(conv, name: str, color: torch.Tensor) -> list[Row]:
    from wincli.classical import colorize_gray, gray_lsb
    from wincli.errors import InputError

    rows = []
    target = lab_lightness(color)
    c8 = to_uint8(color)
    for k in LSB_BITS:
        for gray_kind, label in (("luma", "luma (Y) gray"), ("lab", "Lab L gray")):
            try:
                gray, _ = gray_lsb(c8, bits=k, target=gray_kind)
            except InputError:
                continue
            rec = from_uint8(colorize_gray(gray))
            ref = target if gray_kind == "lab" else from_uint8(np.asarray(_pil_l(c8)))
            m = {
                "color_psnr": psnr(rec, color),
                "color_ssim": ssim(rec, color),
                "gray_psnr": psnr(from_uint8(gray), ref),
                "gray_ssim": ssim(from_uint8(gray), ref),
            }
            rows.append(Row(name, f"{label} + chroma in LSB {k}-bit", m))
    if conv is not None:
        gray = conv.forward(color)
        for q in JPEG_QUALITIES:
            gq = jpeg_round_trip(gray, q)
            rec = conv.inverse(gq)
            m = {
                "color_psnr": psnr(rec, color),
                "color_ssim": ssim(rec, color),
                "gray_psnr": psnr(gq, target),
                "gray_ssim": ssim(gq, target),
            }
            rows.append(Row(name, f"WIN 8-bit, gray as JPEG q{q}", m))
    return rows


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
