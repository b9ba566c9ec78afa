#!/usr/bin/env python3
"""Can a WIN reveal tell that nothing is hidden? Statistics of what it reveals, measured.

    python scripts/reveal_nothing.py --data ../shared/data/train --groups 10 --out feats.json
    python scripts/reveal_nothing.py --load feats.json              # the table again, no reveals

A WIN network's inverse turns any image into a cover and secrets, so a reveal of a photo with
nothing hidden, or with the wrong -n, writes images without a word. This script measures
whether statistics of the revealed secrets tell those apart from genuine reveals. Each group
draws 5 random 256 px crops of the ``--data`` photos (seeded); every shipped hiding model
(cpu and paper, 1-4 secrets) hides the first 1 + n of them, and each stego is revealed by every
model: by its own (genuine), by a model of another secret count (wrong -n) and by the other
model of its count (wrong model; a grown model still reads its source's stegos, so these are
reported apart); each model also reveals the first crop itself (a photo with nothing hidden).

Per revealed secret: ``lf`` (the spread of its 16x16 means), ``oor`` (values outside [0, 1]
before clamping), ``chroma`` (the colour share of its 3x3 high-pass), ``xcorr`` (how its 4x4
block gradients and high-pass energy coincide), ``ghost`` (|correlation| of its high-pass with
the stego's), ``sat`` (colour spread of its 16x16 means), ``mean``. For each statistic alone
(either direction) and for a logistic regression over all of them (trained leaving one group
out), the threshold is the one that refuses no genuine reveal of the measured set, and the table
gives how many photos and wrong-n reveals it would catch.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

MODELS = [f"hiding-{k}-win-{p}" for p in ("cpu", "paper") for k in (1, 2, 3, 4)]
FEATURES = ["lf", "oor", "chroma", "xcorr", "ghost", "sat", "mean"]
LOG = {"lf", "oor", "sat", "ghost"}


def features(s, stego) -> dict[str, float]:
    """The statistics of one revealed secret ``s`` (1, 3, H, W), unclamped, of ``stego``."""
    import torch
    import torch.nn.functional as F

    blur = F.avg_pool2d(F.pad(s, (1, 1, 1, 1), mode="replicate"), 3, 1)
    hf = s - blur
    hfa = hf.abs().mean().item()
    chroma = (hf - hf.mean(1, keepdim=True)).abs().mean().item() / (hfa + 1e-9)
    lo = F.avg_pool2d(s, 4)
    e = F.avg_pool2d(hf.abs().mean(1, keepdim=True), 4)
    gx = (lo[..., :, 1:] - lo[..., :, :-1]).abs().mean(1, keepdim=True)[..., :-1, :]
    gy = (lo[..., 1:, :] - lo[..., :-1, :]).abs().mean(1, keepdim=True)[..., :, :-1]
    xcorr = torch.corrcoef(torch.stack([(gx + gy).flatten(), e[..., :-1, :-1].flatten()]))
    sb = F.avg_pool2d(F.pad(stego, (1, 1, 1, 1), mode="replicate"), 3, 1)
    ghost = torch.corrcoef(torch.stack([(stego - sb).flatten(), hf.flatten()]))[0, 1].abs()
    l16 = F.avg_pool2d(s, 16)
    return {
        "lf": l16.std().item(),
        "oor": ((s < -0.01) | (s > 1.01)).float().mean().item(),
        "chroma": chroma,
        "xcorr": xcorr[0, 1].item(),
        "ghost": ghost.item(),
        "sat": l16.std(1).mean().item(),
        "mean": s.mean().item(),
    }


def crops(paths, n: int, side: int, rng: random.Random):
    import torch
    from PIL import Image

    out = []
    while len(out) < n:
        with Image.open(rng.choice(paths)) as im:
            im = im.convert("RGB")
            if min(im.size) < side:
                continue
            x0, y0 = rng.randrange(im.size[0] - side + 1), rng.randrange(im.size[1] - side + 1)
            a = np.asarray(im.crop((x0, y0, x0 + side, y0 + side)), dtype=np.float32) / 255
        out.append(torch.from_numpy(a).permute(2, 0, 1)[None].contiguous())
    return out


def collect(data: str, groups: int, side: int) -> list[dict]:
    import torch
    from heldout import load

    torch.set_num_threads(1)
    rng = random.Random(7)
    paths = sorted(Path(data).rglob("*.png"))
    convs = {n: load(n) for n in MODELS}

    def revealed(conv, image):
        raw = conv.inverse(image, clamp=False)
        return [features(s, image) for s in raw[:, 3:].split(3, 1)]

    rows, t0 = [], time.time()
    for g in range(groups):
        x = crops(paths, 5, side, rng)
        for n in MODELS:
            stego = convs[n].forward(torch.cat(x[: int(n.split("-")[1]) + 1], 1))
            for m in MODELS:
                kind = (
                    "genuine" if m == n
                    else "wrong model" if m.split("-")[1] == n.split("-")[1]
                    else "wrong -n"
                )  # fmt: skip
                rows.append({"group": g, "kind": kind, "hid": n, "rev": m,
                             "secrets": revealed(convs[m], stego)})  # fmt: skip
        for m in MODELS:
            rows.append({"group": g, "kind": "photo", "hid": "-", "rev": m,
                         "secrets": revealed(convs[m], x[0])})  # fmt: skip
        print(f"group {g + 1}/{groups}, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    return rows


def vector(s: dict, names: list[str]) -> list[float]:
    return [float(np.log(s[k] + 1e-3)) if k in LOG else s[k] for k in names]


def logistic(X, y, steps: int = 4000, lr: float = 0.2, l2: float = 1e-3):
    """(mean, scale, weights, bias) of a class-balanced logistic regression."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    w, b = np.zeros(Z.shape[1]), 0.0
    wt = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        g = (1 / (1 + np.exp(-(Z @ w + b))) - y) * wt
        w -= lr * (Z.T @ g / len(y) + l2 * w)
        b -= lr * g.mean()
    return mu, sd, w, b


def scores_loo(rows: list[dict]) -> list[tuple[str, str, float]]:
    """(kind, model, score) of every reveal: the most suspicious of its secrets under a
    logistic regression trained on the other groups (genuine secrets 0, the others' 1)."""
    out = []
    for g in sorted({r["group"] for r in rows}):
        train = [r for r in rows if r["group"] != g]
        X = [vector(s, FEATURES) for r in train for s in r["secrets"]]
        y = [int(r["kind"] != "genuine") for r in train for _ in r["secrets"]]
        mu, sd, w, b = logistic(X, y)
        for r in (r for r in rows if r["group"] == g):
            z = (np.asarray([vector(s, FEATURES) for s in r["secrets"]]) - mu) / sd
            out.append((r["kind"], r["rev"], float((z @ w + b).max())))
    return out


def table(rows: list[dict]) -> None:
    rows = [r for r in rows if r["kind"] != "wrong model"]
    kinds = ("photo", "wrong -n")
    count = {k: sum(r["kind"] == k for r in rows) for k in ("genuine", *kinds)}
    print(f"{count['genuine']} genuine reveals, {count['photo']} photos, "
          f"{count['wrong -n']} wrong -n; each threshold refuses no genuine reveal")  # fmt: skip
    print("| statistic | photos caught | wrong -n caught |")
    print("| --- | --- | --- |")

    def line(name: str, scored: list[tuple[str, float]]) -> None:
        """One row: ``scored`` (kind, suspicion) at the highest genuine suspicion."""
        thr = max(v for k, v in scored if k == "genuine")
        cells = []
        for kind in kinds:
            vals = [v for k, v in scored if k == kind]
            got = sum(v > thr for v in vals)
            cells.append(f"{got} / {len(vals)} ({100 * got / len(vals):.0f}%)")
        print(f"| {name} | " + " | ".join(cells) + " |")

    for name in FEATURES:
        for sign, word in ((1, "high"), (-1, "low")):
            worst = [(r["kind"], max(sign * v[name] for v in r["secrets"])) for r in rows]
            line(f"{name} ({word})", worst)
    loo = scores_loo(rows)
    line("logistic regression, all", [(k, v) for k, _, v in loo])
    print("\nper model, the regression with each model's own threshold:")
    for m in MODELS:
        line(m, [(k, v) for k, mm, v in loo if mm == m])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train"))
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--side", type=int, default=256)
    ap.add_argument("--out", help="write the statistics here (JSON)")
    ap.add_argument("--load", help="read the statistics from here instead of measuring")
    args = ap.parse_args(argv)
    if args.load:
        rows = json.loads(Path(args.load).read_text())
    else:
        rows = collect(args.data, args.groups, args.side)
        if args.out:
            Path(args.out).write_text(json.dumps(rows))
    table(rows)


if __name__ == "__main__":
    main()
