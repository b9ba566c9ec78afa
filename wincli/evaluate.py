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
import torch.nn.functional as F

from wincli.models.tasks import bicubic_down, bicubic_up, lab_lightness


def to8(x: torch.Tensor) -> torch.Tensor:
    """Float in [0, 1] -> float 0..255 on the 8-bit grid."""
    return torch.round(x.clamp(0, 1) * 255.0)


def psnr8(a: torch.Tensor, b: torch.Tensor, shave: int = 0) -> float:
    """PSNR (dB) of two images after rounding both to 8 bits; ``shave`` border pixels."""
    a, b = to8(a).double(), to8(b).double()
    if shave:
        a, b = a[..., shave:-shave, shave:-shave], b[..., shave:-shave, shave:-shave]
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _gauss(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    ax = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(ax**2) / (2 * sigma**2))
    g /= g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim8(a: torch.Tensor, b: torch.Tensor, shave: int = 0) -> float:
    """SSIM of 8-bit images, 11x11 Gaussian (sigma 1.5), valid region, mean over channels."""
    a, b = to8(a).double(), to8(b).double()
    if shave:
        a, b = a[..., shave:-shave, shave:-shave], b[..., shave:-shave, shave:-shave]
    c = a.shape[1]
    w = _gauss().to(a).repeat(c, 1, 1, 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def f(t):
        return F.conv2d(t, w, groups=c)

    mu_a, mu_b = f(a), f(b)
    saa = f(a * a) - mu_a**2
    sbb = f(b * b) - mu_b**2
    sab = f(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m.mean(dim=(0, 2, 3)).mean())


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
    conv, paths, secrets: int, crop: int | None, lsb: bool = True, save=None
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
                m = {"stego_psnr": psnr8(stego, cover), "stego_ssim": ssim8(stego, cover)}
                sp = [psnr8(rec[:, 3 * i : 3 * i + 3], s) for i, s in enumerate(secs, 1)]
                ss = [ssim8(rec[:, 3 * i : 3 * i + 3], s) for i, s in enumerate(secs, 1)]
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
            c8 = to8(cover).to(torch.uint8)
            s8 = [to8(t).to(torch.uint8) for t in secs]
            for k in range(1, 7 // secrets + 1):
                st = lsb_hide(c8, s8, k)
                rv = lsb_reveal(st, k, secrets)
                rv = [rv] if secrets == 1 else rv
                pairs = [(r / 255.0, t) for r, t in zip(rv, secs, strict=True)]
                m = {"stego_psnr": psnr8(st / 255.0, cover), "stego_ssim": ssim8(st / 255.0, cover)}
                m["secret_psnr"] = float(np.mean([psnr8(r, t) for r, t in pairs]))
                m["secret_ssim"] = float(np.mean([ssim8(r, t) for r, t in pairs]))
                m["sum_psnr"] = m["stego_psnr"] + m["secret_psnr"]
                rows.append(Row(name, f"LSB {k}-bit", m))
    return rows


def eval_rescaling(conv, paths, scale: int, save=None) -> list[Row]:
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
                            "hr_psnr": psnr8(rec, hr, scale),
                            "hr_ssim": ssim8(rec, hr, scale),
                            "lr_psnr": psnr8(lr, lr_ref),
                        },
                    )
                )
                if save is not None and quant:
                    save(p.stem, {"hr": hr, "lr": lr, "restored": rec}, {"restored": (rec, hr)})
        lr_b = to8(bicubic_down(hr, scale)) / 255
        up = bicubic_up(lr_b, scale)
        rows.append(
            Row(
                p.stem,
                "bicubic down+up",
                {
                    "hr_psnr": psnr8(up, hr, scale),
                    "hr_ssim": ssim8(up, hr, scale),
                    "lr_psnr": math.inf,
                },
            )
        )
    return rows


def eval_decolorization(conv, paths, save=None) -> list[Row]:
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
                            "color_psnr": psnr8(rec, color),
                            "color_ssim": ssim8(rec, color),
                            "gray_psnr": psnr8(gray, target),
                            "gray_ssim": ssim8(gray, target),
                        },
                    )
                )
                if save is not None and quant:
                    save(
                        p.stem,
                        {"color": color, "gray": gray, "recolored": rec},
                        {"recolored": (rec, color)},
                    )
        lab8 = to8(target) / 255
        floor = lab8.repeat(1, 3, 1, 1)
        rows.append(
            Row(
                p.stem,
                "Lab L, no colour",
                {
                    "color_psnr": psnr8(floor, color),
                    "color_ssim": ssim8(floor, color),
                    "gray_psnr": math.inf,
                    "gray_ssim": 1.0,
                },
            )
        )
    return rows


def summary(rows: list[Row]) -> dict[str, dict[str, float]]:
    """Mean of every metric per method (in first-seen order)."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        d = out.setdefault(r.method, {})
        for k, v in r.metrics.items():
            d.setdefault(k, []).append(v)
    return {m: {k: float(np.mean(v)) for k, v in d.items()} for m, d in out.items()}


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


def write_rows(path: Path, rows: list[Row], means: dict) -> None:
    """Rows (and means) as CSV or JSON, chosen by the suffix; written atomically."""
    import csv
    import io
    import json

    from wincli.checkpoint import atomic_write
    from wincli.errors import OutputError

    path = Path(path)
    if path.suffix.lower() == ".json":
        text = json.dumps({"rows": [r.__dict__ for r in rows], "means": means}, indent=1)
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
