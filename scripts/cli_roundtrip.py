#!/usr/bin/env python3
"""The floors measured the way an outsider would: the `win` CLI on real files, PSNR in numpy.

    python scripts/cli_roundtrip.py rescaling --scale 2 --data ../shared/data/eval/Set5
    python scripts/cli_roundtrip.py decolorization --data ../shared/data/eval/Kodak24
    python scripts/cli_roundtrip.py hiding --secrets 2 --data ../shared/data/eval/Kodak24

Nothing of ``wincli`` is imported: every image goes through the installed `win` command
(`downscale` / `upscale`, `decolorize` / `colorize`, `hide` / `reveal -n N`) and files on disk,
and PSNR (peak 255, RGB, mean over images) is computed here on the whole image, with **no border
shaved**. `win eval` and the registry follow the super-resolution convention of shaving `scale`
pixels off the HR border, so their rescaling numbers are a few hundredths of a dB higher. Inputs:
rescaling crops HR to a multiple of the scale and compares the LR with Pillow's bicubic
reduction; decolorization compares the gray with CIE Lab L (D65, formulas below); hiding uses
512 x 512 center crops, cover = image k(n+1) of the sorted folder, secrets = the next n.
``--forward-args`` passes more options to the forward command (``--forward-args="--refine 0"``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

WIN = shutil.which("win") or str(Path(sys.executable).with_name("win"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def lab_l(img: np.ndarray) -> np.ndarray:
    """CIE Lab L* of sRGB (D65) scaled to 0..255 and rounded, as an 8-bit gray target."""
    c = img.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126729, 0.7151522, 0.0721750])
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.clip(np.round((116 * f - 16) / 100 * 255), 0, 255)


def win(*args: str) -> None:
    r = subprocess.run([WIN, *args], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"error: `win {' '.join(args)}` failed: {r.stderr.strip() or r.stdout.strip()}")


def rescaling(files, tmp: Path, scale: int, extra):
    for f in files:
        im = rgb(f)
        h, w = im.shape[0] - im.shape[0] % scale, im.shape[1] - im.shape[1] % scale
        im = im[:h, :w]
        src, lr, hr = tmp / f"{f.stem}.png", tmp / f"{f.stem}_lr.png", tmp / f"{f.stem}_hr.png"
        Image.fromarray(im).save(src)
        win("downscale", str(src), "--scale", str(scale), "-o", str(lr), *extra)
        win("upscale", str(lr), "--scale", str(scale), "-o", str(hr))
        ref = np.asarray(Image.fromarray(im).resize((w // scale, h // scale), Image.BICUBIC))
        yield f.stem, {"lr": psnr(rgb(lr), ref), "hr": psnr(rgb(hr), im)}


def decolorization(files, tmp: Path, extra):
    for f in files:
        im = rgb(f)
        gray, color = tmp / f"{f.stem}_gray.png", tmp / f"{f.stem}_color.png"
        win("decolorize", str(f), "-o", str(gray), *extra)
        win("colorize", str(gray), "-o", str(color))
        with Image.open(gray) as g:
            g = np.asarray(g.convert("L"))
        yield f.stem, {"gray": psnr(g, lab_l(im)), "color": psnr(rgb(color), im)}


def hiding(files, tmp: Path, n: int, extra):
    def crop(f: Path) -> Path:
        im = rgb(f)
        t, le = (im.shape[0] - 512) // 2, (im.shape[1] - 512) // 2
        out = tmp / f"{f.stem}.png"
        Image.fromarray(im[t : t + 512, le : le + 512]).save(out)
        return out

    for k in range(0, len(files) - n, n + 1):
        cover, *secrets = (crop(f) for f in files[k : k + n + 1])
        stego, out = tmp / f"{cover.stem}_stego.png", tmp / f"{cover.stem}_revealed"
        win("hide", str(cover), *map(str, secrets), "-o", str(stego), *extra)
        win("reveal", str(stego), "-n", str(n), "-o", str(out))
        got = [psnr(rgb(out / f"secret{i}.png"), rgb(s)) for i, s in enumerate(secrets, 1)]
        yield cover.stem, {"stego": psnr(rgb(stego), rgb(cover)), "secret": float(np.mean(got))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=["rescaling", "decolorization", "hiding"])
    ap.add_argument("--data", type=Path, required=True, help="a folder of PNG images")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--secrets", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for `win`")
    ap.add_argument("--forward-args", default="", help="more options for the forward command")
    args = ap.parse_args(argv)
    extra = shlex.split(args.forward_args)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    files = sorted(args.data.glob("*.png"))
    if not files:
        sys.exit(f"error: no PNG images in {args.data}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.task == "rescaling":
            rows = rescaling(files, tmp, args.scale, extra)
        elif args.task == "decolorization":
            rows = decolorization(files, tmp, extra)
        else:
            rows = hiding(files, tmp, args.secrets, extra)
        table = []
        for name, m in rows:
            table.append(m)
            print(f"| {name} | " + " | ".join(f"{k} {v:.2f}" for k, v in m.items()) + " |")
            sys.stdout.flush()
    mean = {k: float(np.mean([m[k] for m in table])) for k in table[0]}
    print(f"| mean of {len(table)} | " + " | ".join(f"{k} {v:.2f}" for k, v in mean.items()) + " |")


if __name__ == "__main__":
    main()
