#!/usr/bin/env python3
"""How often `win reveal`'s seal check is right: genuine stegos, photos, wrong -n, wrong model.

    python scripts/seal_check.py --data ../shared/data/train --groups 30

Each group draws 5 crops of the ``--data`` photos (seeded; random sizes from 48 to 400 px a
side, not square, so the layout is exercised on many image sizes). Every shipped hiding model
(cpu and paper, 1-4 secrets) hides the first 1 + n of them as ``win hide`` does (forward, seal,
8-bit levels), and every model's reveal check (``wincli.verbs.check_seal``) runs on each stego:
by its own model (genuine: must go on), by a model of another secret count (wrong -n) and by the
other model of its count (wrong model); both must be refused with a line that names the hide's
model. Each model also checks the first crop itself (a photo with nothing hidden) and stegos of
``--method lsb`` / ``jpeg`` / ``stealth`` of it: both must be refused. The check reads only the
seal, so no reveal runs. Prints the counts per kind and exits 1 if any case went wrong.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MODELS = [f"hiding-{k}-win-{p}" for p in ("cpu", "paper") for k in (1, 2, 3, 4)]


def crops(paths, n: int, rng: random.Random) -> list[np.ndarray]:
    from PIL import Image

    out = []
    h, w = rng.randrange(48, 401), rng.randrange(48, 401)
    while len(out) < n:
        with Image.open(rng.choice(paths)) as im:
            im = im.convert("RGB")
            if im.size[0] < w or im.size[1] < h:
                continue
            x0, y0 = rng.randrange(im.size[0] - w + 1), rng.randrange(im.size[1] - h + 1)
            out.append(np.asarray(im.crop((x0, y0, x0 + w, y0 + h))))
    return out


def outcome(conv, image, expect: str | None) -> str:
    """'accepted', 'refused' (naming ``expect`` when given), 'refused, wrong hint' or 'note'."""
    from wincli.errors import InputError
    from wincli.verbs import check_seal

    try:
        notes = check_seal(conv, image, "x", lossy=False)
    except InputError as exc:
        if expect is None or f"hidden with {expect}:" in str(exc):
            return "refused"
        return f"refused, wrong hint: {exc}"
    return "note" if notes else "accepted"


def classical_stegos(cover: np.ndarray, secret: np.ndarray) -> list[np.ndarray]:
    from wincli.classical import hide_lsb
    from wincli.lattice import hide_jpeg
    from wincli.stealth import hide_stealth

    out = [hide_lsb(cover, [secret])[0]]
    if min(cover.shape[:2]) >= 136:
        out.append(hide_jpeg(cover, [secret[:32, :32]])[0])
    if cover.size >= 3 * 128 * 128:
        out.append(hide_stealth(cover, [secret[:16, :16]], payload=0.2)[0])
    return out


def run(data: str, groups: int) -> Counter:
    import torch

    from wincli.converter import Converter
    from wincli.io import from_uint8, to_uint8
    from wincli.verbs import sealed

    torch.set_num_threads(1)
    rng = random.Random(11)
    paths = sorted(Path(data).rglob("*.png"))
    convs = {n: Converter.load("hiding", secrets=int(n.split("-")[1]), weights=n) for n in MODELS}
    counts: Counter = Counter()
    t0 = time.time()
    for g in range(groups):
        x = crops(paths, 5, rng)
        for n in MODELS:
            k = int(n.split("-")[1])
            conv = convs[n]
            pad = conv.multiple
            h, w = (s // pad * pad for s in x[0].shape[:2])
            pack = conv.config.spec.pack([from_uint8(a[:h, :w]) for a in x[: k + 1]])
            stego = from_uint8(to_uint8(sealed(conv, conv.forward(pack))))
            for m in MODELS:
                kind = (
                    "genuine"
                    if m == n
                    else "wrong model"
                    if m.split("-")[1] == str(k)
                    else "wrong -n"
                )
                counts[(kind, outcome(convs[m], stego, None if m == n else n))] += 1
        for m in MODELS:
            counts[("photo", outcome(convs[m], from_uint8(x[0]), None))] += 1
            for st in classical_stegos(x[0], x[1]):
                counts[("lsb/jpeg/stealth stego", outcome(convs[m], from_uint8(st), None))] += 1
        print(f"group {g + 1}/{groups}, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    return counts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared/data/train"))
    ap.add_argument("--groups", type=int, default=30)
    a = ap.parse_args(argv)
    counts = run(a.data, a.groups)
    right = {"genuine": "accepted"}
    wrong = 0
    print("| kind | outcome | count |\n| --- | --- | --- |")
    for (kind, out), c in sorted(counts.items()):
        print(f"| {kind} | {out} | {c} |")
        wrong += c if out != right.get(kind, "refused") else 0
    print(f"\nwrong outcomes: {wrong} of {sum(counts.values())}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
