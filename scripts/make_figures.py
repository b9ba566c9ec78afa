#!/usr/bin/env python3
"""One comparison figure per shipped default: input, output, x20 residuals (as in the paper).

    python scripts/make_figures.py [--data ../shared/data] [--out docs/figures] [--crop 256]
    python scripts/make_figures.py --models hiding-2-win-paper   # only these registry names

For every task with a JPEG-robust model, also ``NAME-jpeg-q90.png``: the stored image after a
Pillow JPEG at q90 and what is restored from it, the plain model's row above the robust one's.
For hiding-1, ``hiding-1-jpeg-q90.png`` puts ``--method jpeg``'s row below the plain model's.

Hiding: cover | stego | |stego-cover| x20 | secret | revealed | |revealed-secret| x20 (Kodak
kodim03 + kodim04). Rescaling: HR | LR (nearest-enlarged) | restored | |restored-HR| x20 (Set5
butterfly). Decolorization: colour | gray | recoloured | |recoloured-colour| x20 (kodim23).
Everything passes through 8-bit rounding, like the files users get.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wincli.converter import Converter  # noqa: E402
from wincli.evaluate import load_rgb  # noqa: E402
from wincli.io import to_uint8  # noqa: E402
from wincli.metrics import psnr  # noqa: E402
from wincli.report import residual_map  # noqa: E402
from wincli.weights import load_record, load_registry  # noqa: E402


def strip(panels: list[tuple[str, torch.Tensor]], side: int) -> Image.Image:
    ims = []
    for label, t in panels:
        if t.shape[1] == 1:
            t = t.repeat(1, 3, 1, 1)
        if t.shape[-1] != side:
            t = F.interpolate(t, size=(side, side), mode="nearest")
        im = Image.fromarray(to_uint8(t))
        canvas = Image.new("RGB", (side, side + 18), "white")
        canvas.paste(im, (0, 18))
        ImageDraw.Draw(canvas).text((4, 3), label, fill="black")
        ims.append(canvas)
    out = Image.new("RGB", (len(ims) * (side + 4), side + 18), "white")
    for i, im in enumerate(ims):
        out.paste(im, (i * (side + 4), 0))
    return out


def center(x: torch.Tensor, crop: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    i, j = (h - crop) // 2, (w - crop) // 2
    return x[..., i : i + crop, j : j + crop]


def sample(task, ev: Path, c: int) -> torch.Tensor:
    """The figure's input for ``task``: Kodak kodim03 (+ the next images as secrets), Set5
    butterfly, Kodak kodim23; center crops of ``c``."""
    if task.kind == "hiding":
        paths = [ev / "Kodak24" / f"kodim{i:02d}.png" for i in range(3, 3 + task.images_per_sample)]
    elif task.kind == "rescaling":
        paths = [ev / "Set5" / "butterfly.png"]
    else:
        paths = [ev / "Kodak24" / "kodim23.png"]
    return task.pack([center(load_rgb(p), c) for p in paths])


def jpeg_row(label: str, task, shared, back, truth, quality: int, side: int) -> Image.Image:
    """One row: ``label``'s stored image as a JPEG, what came back and its x20 residual."""
    return strip(
        [
            (f"{label}: {task.stored_name} as JPEG q{quality}", shared),
            (f"{task.restored_verb} ({psnr(back, truth):.1f} dB)", back),
            (f"|{task.restored_verb}-{task.restored_name}| x20", residual_map(back, truth)),
        ],
        side,
    )


def stack(rows: list[Image.Image]) -> Image.Image:
    out = Image.new("RGB", (rows[0].width, sum(r.height for r in rows)), "white")
    for i, r in enumerate(rows):
        out.paste(r, (0, i * r.height))
    return out


def jpeg_figure(task, convs: dict, x: torch.Tensor, quality: int, side: int) -> list[Image.Image]:
    """One row per converter: its stored image after a Pillow JPEG, the first restored part
    and its x20 residual against the truth."""
    from wincli.jpeg import pillow_jpeg

    truth = task.restored(x)[0]
    rows = []
    for label, conv in convs.items():
        shared = pillow_jpeg(conv.forward(x), quality)
        back = task.restored(conv.inverse(shared, size=tuple(x.shape[-2:])))[0]
        rows.append(jpeg_row(label, task, shared, back, truth, quality, side))
    return rows


def lattice_row(task, x: torch.Tensor, quality: int, side: int) -> Image.Image:
    """``--method jpeg``'s row: the stego as a real JPEG file, the secret read back from it."""
    from wincli.io import from_uint8
    from wincli.lattice import hide_jpeg, reveal_jpeg, shared_copy

    cover, secret = task.unpack(x)
    stego, _ = hide_jpeg(to_uint8(cover), [to_uint8(secret)], passphrase="figure")
    pixels, shared = shared_copy(stego, quality)
    (coded,) = reveal_jpeg(pixels, passphrase="figure", shared=shared)
    back = from_uint8(coded.decode())
    return jpeg_row("--method jpeg", task, from_uint8(pixels), back, secret, quality, side)


def jpeg_figures(ev: Path, out: Path, c: int, quality: int = 90) -> None:
    from wincli.weights import default_record

    for rec in [r for r in load_registry() if r.robust]:
        task = rec.spec
        plain = default_record(task, variant=rec.variant)
        convs = {
            name: Converter.load(task, device="cpu", tile=None, robust=robust)
            for name, robust in (("plain", False), ("robust", True))
        }
        path = out / f"{plain.name}-jpeg-q{quality}.png"
        stack(jpeg_figure(task, convs, sample(task, ev, c), quality, c)).save(path, optimize=True)
        print(path)
    hiding = next(r for r in load_registry() if r.default and r.task == "hiding" and r.secrets == 1)
    x = sample(hiding.spec, ev, c)
    plain = {"plain": Converter.load(hiding.spec, device="cpu", tile=None)}
    rows = jpeg_figure(hiding.spec, plain, x, quality, c)
    rows.append(lattice_row(hiding.spec, x, quality, c))
    path = out / f"hiding-1-jpeg-q{quality}.png"
    stack(rows).save(path, optimize=True)
    print(path)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "figures")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--models", nargs="+", help="only these registry names (no JPEG figures)")
    args = ap.parse_args(argv)
    ev = args.data / "eval"
    args.out.mkdir(parents=True, exist_ok=True)
    c = args.crop
    chosen = [r for r in load_registry() if (r.name in args.models if args.models else r.default)]
    for rec in chosen:
        net, _, _ = load_record(rec, allow_download=False)
        conv = Converter(net=net, device=torch.device("cpu"))
        if rec.task == "hiding":
            n = rec.secrets
            cover, *secrets = rec.spec.unpack(sample(rec.spec, ev, c))
            stego = conv.forward(torch.cat([cover, *secrets], 1))
            back = conv.inverse(stego)
            panels = [
                ("cover", cover),
                ("stego", stego),
                ("|stego-cover| x20", residual_map(stego, cover)),
            ]
            for i, secret in enumerate(secrets, 1):
                rev = back[:, 3 * i : 3 * i + 3]
                tag = f" {i}" if n > 1 else ""
                panels += [(f"secret{tag}", secret), (f"revealed{tag}", rev)]
                if n == 1:
                    panels.append(("|revealed-secret| x20", residual_map(rev, secret)))
        elif rec.task == "rescaling":
            hr = sample(rec.spec, ev, c)
            lr = conv.forward(hr)
            back = conv.inverse(lr)
            panels = [
                ("HR", hr),
                (f"LR (x{rec.scale}, enlarged)", lr),
                ("restored", back),
                ("|restored-HR| x20", residual_map(back, hr)),
            ]
        elif rec.task == "decolorization":
            color = sample(rec.spec, ev, c)
            gray = conv.forward(color)
            back = conv.inverse(gray)
            panels = [
                ("colour", color),
                ("gray", gray),
                ("recoloured", back),
                ("|recoloured-colour| x20", residual_map(back, color)),
            ]
        else:
            continue
        path = args.out / f"{rec.name}.png"
        strip(panels, c).save(path, optimize=True)
        print(path)
    if not args.models:
        jpeg_figures(ev, args.out, c)


if __name__ == "__main__":
    main()
