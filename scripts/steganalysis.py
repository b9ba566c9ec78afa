"""How detectable are the stego images? SPAM features + ridge FLD, split by source image.

    python scripts/steganalysis.py --data ../shared/data/train --crop 256 --splits 10

Every photo gives one 256x256 center crop (photos smaller than that are skipped): the cover.
The secret hidden in it is the crop of the next photo. Schemes, each against the same covers:
- negative control: "stego" = another crop of the same photo (shifted by 16 px): P_E ~ 0.5;
- positive control: a random bit in every LSB by +-1 matching (full payload): must be caught;
- WIN: the shipped hiding-1 model (8-bit stego), or ``--weights``;
- codec-in-LSB: the secret as WebP in 1 LSB per channel (``win hide --method lsb``), by
  matching (as shipped) and by replacement.
Prints a table (stego PSNR, P_E mean +- std over the splits, AUC) and writes ``--out`` JSON.
Features are computed in NumPy; ``--backend sealwatch`` uses the optional sealwatch package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wincli.metrics import psnr  # noqa: E402


def crops(paths, size: int, offset: int = 0) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as im:
            a = np.asarray(im.convert("RGB"))
        h, w = a.shape[:2]
        if min(h, w) < size + 2 * offset:
            continue
        i, j = (h - size) // 2 + offset, (w - size) // 2 + offset
        out.append(a[i : i + size, j : j + size].copy())
    return out


def schemes(covers, shifted, weights: str | None, limit_schemes: list[str] | None):
    """{name: [stego per cover]} for every scheme."""
    import torch

    from wincli.classical import embed_bytes, hide_lsb
    from wincli.converter import Converter
    from wincli.steganalysis import lsb_matching_full

    n = len(covers)
    secrets = [covers[(i + 1) % n] for i in range(n)]
    out = {
        "negative control (cover vs cover)": shifted,
        "positive control (full LSB matching)": [
            lsb_matching_full(c, i) for i, c in enumerate(covers)
        ],
    }
    conv = Converter.load("hiding", secrets=1, weights=weights, device="cpu")
    win = []
    for c, s in zip(covers, secrets, strict=True):
        x = torch.from_numpy(np.concatenate([c, s], -1)).permute(2, 0, 1)[None].float() / 255
        y = conv.forward(x)
        win.append((y[0].permute(1, 2, 0) * 255).round().byte().numpy())
    out["WIN hiding-1 (8-bit)"] = win
    out["WebP-in-LSB 1-bit (matching)"] = [
        hide_lsb(c, [s])[0] for c, s in zip(covers, secrets, strict=True)
    ]
    rep = []
    for c, s in zip(covers, secrets, strict=True):
        from wincli.classical import code_secret, pack_payload, plan

        coded = code_secret(s, plan(c.shape, 1, 1), "webp")
        rep.append(embed_bytes(c, pack_payload([coded]), bits=1, matching=False))
    out["WebP-in-LSB 1-bit (replacement)"] = rep
    if limit_schemes:
        out = {k: v for k, v in out.items() if any(m in k for m in limit_schemes)}
    return out


def main(argv=None) -> dict:
    from wincli.steganalysis import detect, spam_rgb
    from wincli.train.data import find_images

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True, help="colour photos (not an eval set)")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="use at most this many photos")
    ap.add_argument("--weights", default=None, help="a hiding-1 checkpoint (default: shipped)")
    ap.add_argument("--backend", default="numpy", choices=["numpy", "sealwatch"])
    ap.add_argument("--schemes", nargs="*", help="only schemes whose name contains one of these")
    ap.add_argument("--out", default=None, help="JSON results")
    args = ap.parse_args(argv)

    paths = find_images(args.data)
    covers = crops(paths, args.crop)
    shifted = crops(paths, args.crop, offset=16)
    keep = min(len(covers), len(shifted), args.limit or 10**9)
    # the same sources in both lists: photos too small for the shifted crop are dropped
    paths_ok = [p for p in paths if len(crops([p], args.crop, 16)) == 1][:keep]
    covers, shifted = crops(paths_ok, args.crop), crops(paths_ok, args.crop, 16)
    feats = {"cover": np.stack([spam_rgb(c, args.backend) for c in covers])}
    rows = {}
    print(f"{len(covers)} source photos, {args.crop}x{args.crop} crops, {args.splits} splits")
    print(f"{'scheme':42s} {'stego PSNR':>10s} {'P_E':>14s} {'AUC':>6s}")
    for name, stegos in schemes(covers, shifted, args.weights, args.schemes).items():
        fs = np.stack([spam_rgb(s, args.backend) for s in stegos])
        res = detect(feats["cover"], fs, splits=args.splits)
        fid = float(np.mean([psnr(s, c) for s, c in zip(stegos, covers, strict=True)]))
        res["stego_psnr"] = None if not np.isfinite(fid) else fid
        rows[name] = res
        print(
            f"{name:42s} {fid:10.2f} {res['pe_mean']:7.3f} +- {res['pe_std']:.3f} "
            f"{res['auc_mean']:6.3f}",
            flush=True,
        )
    doc = {"features": f"SPAM (T=3) per RGB channel, {args.backend}", "classifier": "ridge FLD",
           "crop": args.crop, "rows": rows}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1, allow_nan=False))
    return doc


if __name__ == "__main__":
    main()
