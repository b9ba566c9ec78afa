"""How detectable are the stego images? SPAM or color rich-model features + ridge FLD, split by
source photo.

    python scripts/steganalysis.py --data ../shared/data/train --crop 256 --splits 10
    python scripts/steganalysis.py --data ../shared/data/train --features crm   # sealwatch

Every photo gives up to ``--per-photo`` non-overlapping 256x256 crops (photos smaller than a crop
are skipped): the covers. The secrets hidden in a cover are the crops of the next photos.
Schemes, each against the same covers:
- negative control: "stego" = another crop of the same photo (shifted by 16 px): P_E ~ 0.5;
- positive control: a random bit in every LSB by +-1 matching (full payload): must be caught;
- WIN: the shipped hiding-1..4 models (8-bit stego; ``--weights`` replaces hiding-1's);
- codec-in-LSB: the secret as WebP in 1 LSB per channel (``win hide --method lsb``), by
  matching (as shipped) and by replacement;
- ``win hide --method jpeg`` (the JPEG lattice) and ``--method stealth`` at 0.025-0.2
  bits per channel value.
The detector is trained on half the source photos and tested on the other half (all crops of a
photo on one side), ``--splits`` times. Prints a table (stego PSNR, P_E mean +- std over the
splits, AUC) and writes ``--out`` JSON. ``--features spam`` is computed in NumPy (``--backend
sealwatch`` uses the optional sealwatch package for it); ``--features crm`` is the color rich
model (Goljan et al. 2014, 2073 features) from sealwatch.
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

SHIFT = 16  # the negative control's crop is this far from the cover's


def crops(paths, size: int, offset: int = 0, per_photo: int = 1) -> tuple[list, list[int]]:
    """(crops, index of each crop's photo): the centre crop of each photo, or with
    ``per_photo`` > 1 up to that many non-overlapping crops of a grid centred in it, nearest the
    centre first; each moved by ``offset`` px. Photos too small for one are skipped."""
    from PIL import Image

    out, source = [], []
    for k, p in enumerate(paths):
        with Image.open(p) as im:
            a = np.asarray(im.convert("RGB"))
        h, w = a.shape[:2]
        rows, cols = (h - 2 * SHIFT) // size, (w - 2 * SHIFT) // size  # room for the shift
        if rows < 1 or cols < 1:
            continue
        i0, j0 = (h - rows * size) // 2, (w - cols * size) // 2
        grid = sorted(
            ((i0 + r * size, j0 + c * size) for r in range(rows) for c in range(cols)),
            key=lambda ij: (ij[0] + size / 2 - h / 2) ** 2 + (ij[1] + size / 2 - w / 2) ** 2,
        )
        corners = [((h - size) // 2, (w - size) // 2)] if per_photo == 1 else grid[:per_photo]
        for i, j in corners:
            out.append(a[i + offset : i + offset + size, j + offset : j + offset + size].copy())
            source.append(k)
    return out, source


SCHEMES = (
    "negative control (cover vs cover)",
    "positive control (full LSB matching)",
    *(f"WIN hiding-{n} (8-bit)" for n in range(1, 5)),
    "WebP-in-LSB 1-bit (matching)",
    "WebP-in-LSB 1-bit (replacement)",
    "--method jpeg (lattice)",
    *(f"--method stealth {p}" for p in (0.025, 0.03, 0.04, 0.05, 0.1, 0.2)),
)


def make_stegos(name: str, covers, shifted, others, weights: str | None) -> list[np.ndarray]:
    """The stego of each cover under scheme ``name``; ``others(i, n)``: the n secrets of
    cover i (crops of the next photos)."""
    import torch

    from wincli.classical import code_secret, embed_bytes, hide_lsb, pack_payload, plan
    from wincli.converter import Converter
    from wincli.lattice import hide_jpeg
    from wincli.stealth import hide_stealth
    from wincli.steganalysis import lsb_matching_full

    if name.startswith("negative"):
        return shifted
    if name.startswith("positive"):
        return [lsb_matching_full(c, i) for i, c in enumerate(covers)]
    if name.startswith("WIN hiding-"):
        n = int(name.split("-")[1][0])
        conv = Converter.load(
            "hiding", secrets=n, weights=weights if n == 1 else None, device="cpu"
        )
        out = []
        for i, c in enumerate(covers):
            x = np.concatenate([c, *others(i, n)], -1)
            t = torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255
            out.append((conv.forward(t)[0].permute(1, 2, 0) * 255).round().byte().numpy())
        return out
    if name.endswith("(matching)"):
        return [hide_lsb(c, others(i, 1))[0] for i, c in enumerate(covers)]
    if name.endswith("(replacement)"):
        coded = [code_secret(others(i, 1)[0], plan(c.shape, 1, 1), "webp") for i, c in
                 enumerate(covers)]  # fmt: skip
        return [
            embed_bytes(c, pack_payload([k]), bits=1, matching=False)
            for c, k in zip(covers, coded, strict=True)
        ]
    if name.startswith("--method jpeg"):
        return [hide_jpeg(c, others(i, 1), passphrase="k")[0] for i, c in enumerate(covers)]
    if name.startswith("--method stealth"):
        payload = float(name.split()[-1])
        return [
            hide_stealth(c, others(i, 1), passphrase="k", payload=payload)[0]
            for i, c in enumerate(covers)
        ]
    raise ValueError(name)


def features(img: np.ndarray, kind: str, backend: str) -> np.ndarray:
    from wincli.steganalysis import crm_rgb, spam_rgb

    return crm_rgb(img) if kind == "crm" else spam_rgb(img, backend)


def main(argv=None) -> dict:
    from wincli.steganalysis import detect
    from wincli.train.data import find_images

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True, help="colour photos")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--per-photo", type=int, default=1, help="crops per photo at most")
    ap.add_argument("--splits", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="use at most this many photos")
    ap.add_argument("--weights", default=None, help="a hiding-1 checkpoint (default: shipped)")
    ap.add_argument("--features", default="spam", choices=["spam", "crm"])
    ap.add_argument("--backend", default="numpy", choices=["numpy", "sealwatch"])
    ap.add_argument("--schemes", nargs="*", help="only schemes whose name contains one of these")
    ap.add_argument("--out", default=None, help="JSON results")
    args = ap.parse_args(argv)

    paths = find_images(args.data)
    # the same photos in both lists: those too small for the shifted crop are dropped
    paths = [p for p in paths if crops([p], args.crop, SHIFT)[0]][: args.limit or None]
    covers, source = crops(paths, args.crop, per_photo=args.per_photo)
    shifted, _ = crops(paths, args.crop, offset=SHIFT, per_photo=args.per_photo)
    first = {k: source.index(k) for k in sorted(set(source))}
    photos = sorted(first)

    def others(i: int, n: int) -> list[np.ndarray]:
        k = photos.index(source[i])
        return [covers[first[photos[(k + j) % len(photos)]]] for j in range(1, n + 1)]

    names = [m for m in SCHEMES if not args.schemes or any(s in m for s in args.schemes)]
    feats = np.stack([features(c, args.features, args.backend) for c in covers])
    rows = {}
    print(f"{len(photos)} source photos, {len(covers)} {args.crop}x{args.crop} crops, "
          f"{args.features} features, {args.splits} splits")  # fmt: skip
    print(f"{'scheme':42s} {'stego PSNR':>10s} {'P_E':>14s} {'AUC':>6s}")
    for name in names:
        stegos = make_stegos(name, covers, shifted, others, args.weights)
        fs = np.stack([features(s, args.features, args.backend) for s in stegos])
        res = detect(feats, fs, splits=args.splits, groups=np.asarray(source))
        fid = float(np.mean([psnr(s, c) for s, c in zip(stegos, covers, strict=True)]))
        res["stego_psnr"] = None if not np.isfinite(fid) else fid
        rows[name] = res
        print(
            f"{name:42s} {fid:10.2f} {res['pe_mean']:7.3f} +- {res['pe_std']:.3f} "
            f"{res['auc_mean']:6.3f}",
            flush=True,
        )
    kind = ("SPAM (T=3) per RGB channel, " + args.backend if args.features == "spam"
            else "color rich model (CRM, 2073), sealwatch")  # fmt: skip
    doc = {"features": kind, "classifier": "ridge FLD", "crop": args.crop,
           "photos": len(photos), "crops": len(covers), "rows": rows}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1, allow_nan=False))
    return doc


if __name__ == "__main__":
    main()
