#!/usr/bin/env python3
"""Measure `win hide --method stealth` at each payload: how faithful, how many changes.

    python scripts/stealth_hiding.py --data ../shared/data/eval/Kodak24 --crop 512

Pairs are `win eval`'s hiding-1 protocol (sorted files, cover = image 2k, secret = image 2k + 1,
center crops of ``--crop``). For each ``--payload`` (bits per cover channel value) every pair is
hidden and revealed in memory, as the CLI does with a PNG stego. Prints, as means over the
pairs: the stego's PSNR against the cover, the share of cover values changed, the secret's bits
per pixel and the revealed secret's PSNR, beside `--method lsb` (1 bit) on the same pairs.
How detectable each payload is: scripts/steganalysis.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval" / "Kodak24"))
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--payload", type=float, nargs="+", default=[0.03, 0.05, 0.1, 0.2])
    args = ap.parse_args(argv)

    from wincli.classical import hide_lsb, reveal_coded
    from wincli.evaluate import hiding_groups, load_rgb
    from wincli.io import from_uint8, list_images, to_uint8
    from wincli.metrics import psnr
    from wincli.stealth import hide_stealth, reveal_stealth

    def db(a, b) -> float:
        return psnr(from_uint8(a), from_uint8(b))

    pairs = []
    for cover_path, secret_path in hiding_groups(list_images([Path(args.data)]), 1):
        cover, secret = (to_uint8(load_rgb(p, args.crop)) for p in (cover_path, secret_path))
        pairs.append((cover, secret))
    schemes = [(f"--method stealth --payload {p}", p) for p in args.payload]
    schemes.append(("--method lsb (1 bit)", None))
    print(f"{len(pairs)} pairs from {args.data}, crop {args.crop}: means over the pairs\n")
    print("| method | stego PSNR | values changed | secret bits/px | secret PSNR |")
    print("| --- | --- | --- | --- | --- |")
    for name, payload in schemes:
        rows = []
        for cover, secret in pairs:
            if payload is None:
                stego, coded = hide_lsb(cover, [secret], passphrase="k")
                back = reveal_coded(stego, passphrase="k")[0]
            else:
                stego, coded = hide_stealth(cover, [secret], passphrase="k", payload=payload)
                back = reveal_stealth(stego, passphrase="k")[0]
            assert back.stream == coded[0].stream
            rows.append((
                db(stego, cover), float((stego != cover).mean()),
                8 * len(coded[0].stream) / secret[..., 0].size, db(back.decode(), secret),
            ))  # fmt: skip
        s, ch, bpp, sec = np.mean(rows, 0)
        print(f"| {name} | {s:.2f} | {100 * ch:.2f}% | {bpp:.3f} | {sec:.2f} |", flush=True)


if __name__ == "__main__":
    main()
