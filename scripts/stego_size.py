#!/usr/bin/env python3
"""How much larger a WIN stego PNG is than its cover PNG, on the held-out training photos.

    python scripts/stego_size.py [--secrets 1] [--crop 1024] [--threads 1]

Each held-out photo (as `win train --holdout 6` picks them) is the cover once, with the next
held-out photo(s) as secrets, center-cropped to ``--crop``. The cover and the stego are both
written by the CLI's writer (``wincli.io.write_image``, PNG at its default compression), so the
ratio is what a user sees on disk. A stego carries the secrets as low-amplitude noise, which PNG's
lossless predictor cannot compress away: the ratio says what that costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train"))
    ap.add_argument("--holdout", type=int, default=6)
    ap.add_argument("--secrets", type=int, default=1)
    ap.add_argument("--crop", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from wincli.converter import Converter
    from wincli.evaluate import load_rgb, pack_group
    from wincli.io import read_image, write_image
    from wincli.train.data import find_images, split_holdout

    torch.set_num_threads(args.threads)
    _, held = split_holdout(find_images([args.data]), args.holdout)
    conv = Converter.load("hiding", secrets=args.secrets)
    task = conv.config.spec
    n = len(held)
    print("| cover | size | cover PNG KiB | stego PNG KiB | ratio |")
    print("| --- | --- | --- | --- | --- |")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(held):
            group = [held[(i + k) % n] for k in range(args.secrets + 1)]
            x = pack_group(task, [load_rgb(p, args.crop) for p in group])
            cover, stego = Path(tmp) / "cover.png", Path(tmp) / "stego.png"
            _, meta = read_image(path)
            write_image(cover, x[:, :3], meta, strip_metadata=True)
            with torch.inference_mode():
                write_image(stego, conv.forward(x), meta, strip_metadata=True)
            a, b = cover.stat().st_size, stego.stat().st_size
            ratios.append(b / a)
            h, w = x.shape[-2:]
            print(f"| {path.stem} | {w}x{h} | {a / 1024:.0f} | {b / 1024:.0f} | {b / a:.2f} |")
    print(f"\nmedian ratio {np.median(ratios):.2f}, max {max(ratios):.2f} ({conv.source})")


if __name__ == "__main__":
    main()
