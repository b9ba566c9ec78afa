#!/usr/bin/env python3
"""Maintainers, after a robust model ships: what `--robust` costs in wall time, against the
plain model's command measured in the same run on the same image (docs/benchmarks.md).

    python scripts/bench_robust.py --photo ../shared/data/train/photos/<photo> --threads 2

For every task with a JPEG-robust model, on a 512x512 center crop of the photo and the photo
resized to 2 MP (1632x1224, Lanczos): the store command (`downscale`, `decolorize`, `hide`) and
the restore command (`upscale`, `colorize`, `reveal`), plain and with `--robust`, each in its own
process (`python -m wincli`). Prints a Markdown table: seconds and the ratio robust / plain.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
from bench_cli import run  # noqa: E402

from wincli.weights import robust_tasks  # noqa: E402

JOBS = {  # task name -> (store verb and args, restore verb and args)
    "rescaling-x2": (["downscale", "-s", "2"], ["upscale", "-s", "2"]),
    "rescaling-x4": (["downscale", "-s", "4"], ["upscale", "-s", "4"]),
    "decolorization": (["decolorize"], ["colorize"]),
    "hiding-1": (["hide"], ["reveal"]),
}


def inputs(photo: Path, work: Path) -> dict[str, Path]:
    with Image.open(photo) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(512, w, h)
        im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).save(
            work / "c512.png"
        )
        im.resize((1632, 1224), Image.LANCZOS).save(work / "p2.png", compress_level=1)
    return {"512x512": work / "c512.png", "2 MP": work / "p2.png"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="win-robust-"))
    images = inputs(args.photo, work)
    print("| command | image | plain s | --robust s | robust / plain |")
    print("| --- | --- | --- | --- | --- |")
    for name in robust_tasks():
        store, restore = JOBS[name]
        for label, src in images.items():
            srcs = [str(src), str(src)] if store[0] == "hide" else [str(src)]
            times = {}
            for flag in ([], ["--robust"]):
                tag = "r" if flag else "p"
                common = ["--threads", str(args.threads), *flag]
                stored = work / f"{tag}.png"
                t_store, _ = run([store[0], *srcs, *store[1:], *common, "-o", str(stored)])
                out = ["-o", str(work / f"{tag}_out")] if restore[0] == "reveal" else [
                    "-o", str(work / f"{tag}_out.png")
                ]  # fmt: skip
                t_restore, _ = run([restore[0], str(stored), *restore[1:], *common, *out])
                times[tag] = (t_store, t_restore)
            for i, verb in enumerate((store, restore)):
                p, r = times["p"][i], times["r"][i]
                print(f"| {' '.join(verb)} | {label} | {p:.1f} | {r:.1f} | {r / p:.2f}x |")


if __name__ == "__main__":
    main()
