#!/usr/bin/env python3
"""Measure `win hide --method jpeg` after JPEG re-encoding of the stego.

    python scripts/jpeg_lattice_hiding.py --data ../shared/data/eval/Kodak24 --crop 512

Pairs are `win eval`'s hiding-1 protocol (sorted files, cover = image 2k, secret = image 2k + 1,
center crops of ``--crop``). Each stego is saved as a Pillow JPEG at every ``--jpeg`` quality
(default 95, 90, 75, 50; 4:2:0) and revealed from that file, as `win reveal --method jpeg` does
(with the file's own luma plane and table). Prints the stego's PSNR against the cover (the PNG and
after each JPEG) and the revealed secret's PSNR, mean over the pairs that are revealed, and how
many are lost (reveal finds nothing authentic). Each pair is hidden ``--repeats`` times: every
hide draws a fresh salt and nonce, so other bits go on the lattice and losses vary.

    python scripts/jpeg_lattice_hiding.py --crops 15 --repeats 1

``--crops N`` measures crops instead: each PNG stego loses 1..N px on one side (top, bottom,
left, right) or on every side, and is revealed from the cropped pixels; also after a JPEG at q90
of the cropped stego. Prints, per side, how many payloads came back.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def one_pair(cover: np.ndarray, secret: np.ndarray, qualities: list[int]) -> dict[str, float]:
    """{"stego": dB, "stego qN": dB, "secret": dB, "secret qN": dB or nan when lost}."""
    from wincli.errors import InputError
    from wincli.io import from_uint8
    from wincli.lattice import hide_jpeg, reveal_jpeg, shared_copy
    from wincli.metrics import psnr

    def db(a, b) -> float:
        return psnr(from_uint8(a), from_uint8(b))

    stego, coded = hide_jpeg(cover, [secret])
    row = {"stego": db(stego, cover), "bpp": 8 * len(coded[0].stream) / secret[..., 0].size}
    for q in [None, *qualities]:
        got, table = (stego, None) if q is None else shared_copy(stego, q)
        tag = "" if q is None else f" q{q}"
        if q is not None:
            row[f"stego{tag}"] = db(got, cover)
        try:
            back = reveal_jpeg(got, shared=table)[0].decode()
            row[f"secret{tag}"] = db(back, secret)
        except InputError:
            row[f"secret{tag}"] = float("nan")
    return row


SIDES = ("top", "bottom", "left", "right", "every side")


def cropped(stego: np.ndarray, side: str, px: int) -> np.ndarray:
    """``stego`` without ``px`` pixels on ``side`` (or on every side)."""
    h, w = stego.shape[:2]
    top = px if side in ("top", "every side") else 0
    left = px if side in ("left", "every side") else 0
    bottom = h - px if side in ("bottom", "every side") else h
    right = w - px if side in ("right", "every side") else w
    return np.ascontiguousarray(stego[top:bottom, left:right])


def crop_pair(cover: np.ndarray, secret: np.ndarray, most: int) -> dict[tuple[str, str], int]:
    """{(side, "png" or "q90"): payloads revealed intact} over crops of 1..``most`` px."""
    from wincli.errors import InputError
    from wincli.lattice import hide_jpeg, reveal_jpeg, shared_copy

    stego, coded = hide_jpeg(cover, [secret])
    back: dict[tuple[str, str], int] = {}
    for side in SIDES:
        for px in range(1, most + 1):
            pixels = cropped(stego, side, px)
            for kind, (got, table) in (("png", (pixels, None)), ("q90", shared_copy(pixels, 90))):
                try:
                    ok = reveal_jpeg(got, shared=table)[0].stream == coded[0].stream
                except InputError:
                    ok = False
                back[side, kind] = back.get((side, kind), 0) + ok
    return back


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval" / "Kodak24"))
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--jpeg", type=int, action="append", default=None)
    ap.add_argument(
        "--repeats", type=int, default=3,
        help="hides per pair (each draws a fresh salt and nonce, so other bits: losses vary)",
    )  # fmt: skip
    ap.add_argument("--crops", type=int, default=0, help="measure crops of 1..N px instead")
    args = ap.parse_args(argv)

    from wincli.evaluate import hiding_groups, load_rgb
    from wincli.io import list_images, to_uint8

    qualities = args.jpeg or [95, 90, 75, 50]
    rows = []
    for cover_path, secret_path in hiding_groups(list_images([Path(args.data)]), 1):
        cover, secret = (to_uint8(load_rgb(p, args.crop)) for p in (cover_path, secret_path))
        h, w = min(cover.shape[0], secret.shape[0]), min(cover.shape[1], secret.shape[1])
        for _ in range(args.repeats):
            pair = (cover[:h, :w], secret[:h, :w])
            rows.append(crop_pair(*pair, args.crops) if args.crops else one_pair(*pair, qualities))
    if args.crops:
        total = len(rows) * args.crops
        print(f"{len(rows)} hides from {args.data}, crop {args.crop}; crops of 1-{args.crops} px:")
        print("| cropped on | PNG: payloads back | after a JPEG at q90 |")
        print("| --- | --- | --- |")
        for side in SIDES:
            png, q90 = (sum(r[side, k] for r in rows) for k in ("png", "q90"))
            print(f"| {side} | {png} / {total} | {q90} / {total} |")
        return
    print(
        f"{len(rows) // args.repeats} pairs x {args.repeats} hides from {args.data}, crop "
        f"{args.crop}: mean PSNR over the revealed"
    )
    for key in rows[0]:
        vals = np.array([r[key] for r in rows])
        lost = int(np.isnan(vals).sum())
        mean = f"{np.nanmean(vals):.2f}" if lost < len(vals) else "-"
        print(f"{key}: {mean}" + (f" ({lost} of {len(vals)} lost)" if lost else ""))


if __name__ == "__main__":
    main()
