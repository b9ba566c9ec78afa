"""Wall time and peak RSS of real `win` commands with default options on large photos.

    python scripts/bench_cli.py --photo ../shared/data/train/wikipedia49/<some photo> \
        --jobs downscale-x2 upscale-x2 hide reveal decolorize colorize downscale-x4 upscale-x4
    python scripts/bench_cli.py --photo ... --jobs downscale-x2-12mp hide --check   # with --check
    python scripts/bench_cli.py --photo ... --jobs hide hide-lsb hide-stealth reveal-stealth

The large inputs are made here by upsampling a real photo (Lanczos) to 24 MP (4896x4896
crops for rescaling) and 12 MP (4000x3000 for hiding and colour), so they are smooth at the
pixel level; say so beside the numbers. Each command runs in its own process (`python -m
wincli ...`); peak RSS is that child's maximum resident set (getrusage). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent


def make(photo: Path, size: tuple[int, int], out: Path) -> Path:
    with Image.open(photo) as im:
        im.convert("RGB").resize(size, Image.LANCZOS).save(out, compress_level=1)
    return out


WRAP = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print('RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def run(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of ``python -m wincli ARGS``, measured by its own parent."""
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", WRAP, sys.executable, "-m", "wincli", *args],
        capture_output=True,
        text=True,
    )
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"win {' '.join(args)} failed: {r.stderr.strip()[-300:]}")
    rss = [ln for ln in r.stdout.splitlines() if ln.startswith("RSS ")][-1]
    return dt, int(rss.split()[1]) / 1024


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--jobs", nargs="+", default=["downscale-x2", "upscale-x2"])
    ap.add_argument("--work", type=Path, default=None, help="folder for the large files")
    ap.add_argument(
        "--weights", default=None, help="a registry name or file for every job (default: each's)"
    )
    ap.add_argument("--check", action="store_true", help="add --check to every job")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="win-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    big = make(args.photo, (4896, 4896), work / "p24.png")
    mid = make(args.photo, (4000, 3000), work / "p12.png")
    sec = mid.with_name("s12.png")
    Image.open(mid).transpose(Image.FLIP_LEFT_RIGHT).save(sec, compress_level=1)
    w = work
    plan = {
        "downscale-x2": ("downscale x2, 24 MP", ["downscale", big, "-s", 2, "-o", w / "l2.png"]),
        "downscale-x2-12mp": (
            "downscale x2, 12 MP",
            ["downscale", mid, "-s", 2, "-o", w / "m2.png"],
        ),
        "upscale-x2": ("upscale x2, 24 MP", ["upscale", w / "l2.png", "-s", 2, "-o", w / "u2.png"]),
        "downscale-x4": ("downscale x4, 24 MP", ["downscale", big, "-s", 4, "-o", w / "l4.png"]),
        "upscale-x4": ("upscale x4, 24 MP", ["upscale", w / "l4.png", "-s", 4, "-o", w / "u4.png"]),
        "hide": ("hide, 12 MP cover + secret", ["hide", mid, sec, "-o", w / "st.png"]),
        "reveal": ("reveal, 12 MP", ["reveal", w / "st.png", "-o", w / "rev"]),
        "hide-2": ("hide, 12 MP cover + 2 secrets", ["hide", mid, sec, mid, "-o", w / "st2.png"]),
        "reveal-2": ("reveal 2 secrets, 12 MP", ["reveal", w / "st2.png", "-n", 2, "-o", w / "r2"]),
        "hide-lsb": (
            "hide --method lsb, 12 MP cover + secret",
            ["hide", mid, sec, "--method", "lsb", "-o", w / "sl.png"],
        ),
        "hide-stealth": (
            "hide --method stealth, 12 MP cover + secret",
            ["hide", mid, sec, "--method", "stealth", "-o", w / "ss.png"],
        ),
        "reveal-stealth": (
            "reveal --method stealth, 12 MP",
            ["reveal", w / "ss.png", "--method", "stealth", "-o", w / "rs"],
        ),
        "decolorize": ("decolorize, 12 MP", ["decolorize", mid, "-o", w / "g.png"]),
        "colorize": ("colorize, 12 MP", ["colorize", w / "g.png", "-o", w / "c.png"]),
    }
    print("| command (default options) | seconds | peak RSS (MiB) |\n| --- | --- | --- |")
    for job in args.jobs:
        label, cmd = plan[job]
        extra = ["--weights", args.weights] if args.weights else []
        extra += ["--check"] if args.check else []
        label += " --check" if args.check else ""
        dt, rss = run([str(c) for c in cmd] + extra)
        print(f"| {label} | {dt:.1f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
