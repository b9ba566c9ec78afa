#!/usr/bin/env python3
"""Maintainers, after a default or encoder change: the default `win` path's wall time against
the bare forward pass, measured in the same run on the same images (docs/benchmarks.md).

    python scripts/bench_default.py --photo ../shared/data/train/wikipedia49/<photo> \
        --jobs downscale-x2 downscale-x4 decolorize --threads 2 [--refine 40]

For each job and image (a 512x512 crop of the photo and the photo resized to 12 MP, 4000x3000,
Lanczos: smooth at the pixel level, say so beside the numbers) it runs, each in its own process:
the forward pass only (`--encoder none --refine 0`), the default options, and with ``--refine``
the slow search on top (512 only). Prints a Markdown table: seconds, ratio to the forward pass,
peak RSS of the default run (getrusage of the child).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import run  # noqa: E402

JOBS = {  # job -> (verb, extra args)
    "downscale-x2": ("downscale", ["-s", "2"]),
    "downscale-x4": ("downscale", ["-s", "4"]),
    "decolorize": ("decolorize", []),
}


def inputs(photo: Path, work: Path) -> dict[str, Path]:
    with Image.open(photo) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(512, w, h)
        crop = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        crop.save(work / "c512.png")
        im.resize((4000, 3000), Image.LANCZOS).save(work / "p12.png", compress_level=1)
    return {"512x512": work / "c512.png", "12 MP": work / "p12.png"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--jobs", nargs="+", default=list(JOBS), choices=list(JOBS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--refine", type=int, default=0, help="also time --refine N (512 only)")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="win-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    images = inputs(args.photo, work)
    print(
        "| command | image | forward pass s | default s | default / forward | default peak RSS "
        f"MiB |{f' --refine {args.refine} s (ratio) |' if args.refine else ''}"
    )
    print("| --- " * (7 if args.refine else 6) + "|")
    for job in args.jobs:
        verb, extra = JOBS[job]
        for label, src in images.items():
            base = [verb, str(src), *extra, "--threads", str(args.threads), "-o"]
            fwd, _ = run([*base, str(work / "f.png"), "--encoder", "none", "--refine", "0"])
            dflt, rss = run([*base, str(work / "d.png")])
            row = f"| {verb} {' '.join(extra)} | {label} | {fwd:.1f} | {dflt:.1f} | "
            row += f"{dflt / fwd:.2f}x | {rss:.0f} |"
            if args.refine:
                if label == "512x512":
                    ref, _ = run([*base, str(work / "r.png"), "--refine", str(args.refine)])
                    row += f" {ref:.1f} ({ref / fwd:.0f}x) |"
                else:
                    row += " - |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
