"""Seconds a 12 MP photo takes through `win`, end to end, with each model's default options.

    python scripts/time_12mp.py --photo ../shared/data/train/wikipedia49/<photo>     # every model
    python scripts/time_12mp.py --photo ... --models hiding-1-win-paper --record     # into registry

For every model: its store command on a 12 MP input (4000x3000, the photo upsampled with
Lanczos, so smooth at the pixel level) and its restore command on what that wrote, each a fresh
`python -m wincli ... --weights NAME` process with default threads (all cores), timed from start
to exit (start-up, PNG reading and writing included): hide / reveal with the model's number of
secrets, downscale / upscale at its scale, decolorize / colorize. Run it on an otherwise idle
machine (the load average at the start is printed and recorded). `--record` writes the seconds
into the registry (``seconds_12mp``), which `win models list` shows: a task's default is the
best model whose 12 MP photo takes at most 60 s each way on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench_cli import make, run  # noqa: E402

SIZE = (4000, 3000)


def commands(rec, photo: Path, secret: Path, w: Path) -> tuple[list, list]:
    """(store, restore) argument lists of ``rec``'s task on the 12 MP ``photo``."""
    name = ["--weights", rec.name]
    if rec.task == "hiding":
        secrets = [secret if i % 2 == 0 else photo for i in range(rec.secrets)]
        stego, out = w / f"{rec.name}.png", w / f"{rec.name}-rev"
        return (
            ["hide", photo, *secrets, "-o", stego, *name],
            ["reveal", stego, "-n", rec.secrets, "-o", out, *name],
        )
    if rec.task == "rescaling":
        low, high = w / f"{rec.name}-lr.png", w / f"{rec.name}-hr.png"
        return (
            ["downscale", photo, "-s", rec.scale, "-o", low, *name],
            ["upscale", low, "-s", rec.scale, "-o", high, *name],
        )
    gray, color = w / f"{rec.name}-gray.png", w / f"{rec.name}-color.png"
    return ["decolorize", photo, "-o", gray, *name], ["colorize", gray, "-o", color, *name]


def main(argv=None) -> None:
    from wincli.registry import set_fields
    from wincli.weights import load_registry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", type=Path, required=True)
    ap.add_argument("--models", nargs="+", default=None, help="registry names (default: all)")
    ap.add_argument("--work", type=Path, default=None, help="folder for the large files")
    ap.add_argument("--record", action="store_true", help="write the seconds into the registry")
    args = ap.parse_args(argv)
    records = {r.name: r for r in load_registry()}
    names = args.models or list(records)
    unknown = [n for n in names if n not in records]
    if unknown:
        raise SystemExit(f"not in the registry: {', '.join(unknown)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="win-12mp-"))
    work.mkdir(parents=True, exist_ok=True)
    photo = make(args.photo, SIZE, work / "p12.png")
    secret = work / "s12.png"
    Image.open(photo).transpose(Image.FLIP_LEFT_RIGHT).save(secret, compress_level=1)
    load = os.getloadavg()[0]
    print(f"load average at the start: {load:.2f} ({os.cpu_count()} cores)")
    print("| model | store s | restore s |\n| --- | --- | --- |")
    for name in names:
        store, restore = commands(records[name], photo, secret, work)
        s1, _ = run([str(c) for c in store])
        s2, _ = run([str(c) for c in restore])
        print(f"| {name} | {s1:.1f} | {s2:.1f} |", flush=True)
        if args.record:
            set_fields(
                name,
                seconds_12mp={
                    "store": round(s1, 1),
                    "restore": round(s2, 1),
                    "cores": os.cpu_count(),
                    "load_at_start": round(load, 2),
                    "measured": date.today().isoformat(),
                    "command": "python scripts/time_12mp.py --photo "
                    f"{args.photo.as_posix()} --models {name} --record",
                },
            )


if __name__ == "__main__":
    main()
