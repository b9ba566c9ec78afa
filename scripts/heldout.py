#!/usr/bin/env python3
"""Measure checkpoints on the held-out training photos: the shipping criterion.

    python scripts/heldout.py hiding-1-win-cpu runs/h1f/best.safetensors [--crop 256]

`win train` holds out ``--holdout`` photos (default 6, chosen by a hash of the file name), and a
run validates on one center crop of each. For hiding that is only 6 / (n + 1) groups, too few to
tell two checkpoints 0.3 dB apart. This script uses the same held-out photos (never the eval
sets) and builds many more samples from them: for hiding-n, up to ``--groups`` ordered
(cover, secret_1..n) choices of distinct held-out photos; for rescaling and decolorization, every
held-out photo. Each image is center-cropped to ``--crop``. Everything goes through 8-bit files'
rounding (``Converter.forward`` / ``inverse``, as `win eval`'s "WIN 8-bit" rows) and is measured
with ``wincli.evaluate.measure``. Prints one row per checkpoint: the stored image's PSNR against
its target (stego / LR / gray) and the restored parts' (secrets / HR / colour), and their sum.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def heldout_samples(task, paths, crop: int, groups: int):
    """(name, x) samples for ``task`` from the held-out photos ``paths`` (see the module doc)."""
    from wincli.evaluate import load_rgb, pack_group

    imgs = [load_rgb(p, crop) for p in paths]
    n = task.images_per_sample
    perms = list(itertools.permutations(range(len(imgs)), n))
    stride = max(1, len(perms) // groups)
    for idx in perms[::stride][:groups]:
        yield "+".join(paths[i].stem for i in idx), pack_group(task, [imgs[i] for i in idx])


def score(conv, samples, jpeg: int | None = None) -> dict[str, float]:
    """Mean 8-bit PSNRs of one converter over the samples; with ``jpeg``, of the stored image
    after a Pillow JPEG at that quality and of what is restored from it; and the mean seconds
    the converter took to choose each stored image (forward pass, encoder, refinement)."""
    import time

    import numpy as np

    from wincli.evaluate import measure
    from wincli.jpeg import pillow_jpeg

    task = conv.net.config.spec
    stored_k, restored_k = f"{task.stored_name}_psnr", f"{task.restored_name}_psnr"
    rows = []
    for _, x in samples:
        t0 = time.perf_counter()
        stored = conv.forward(x, quantize=True)
        seconds = time.perf_counter() - t0
        if jpeg is not None:
            stored = pillow_jpeg(stored, jpeg)
        rec = conv.inverse(stored, size=tuple(x.shape[-2:]))
        m = measure(task, x, stored, task.restored(rec))
        rows.append((m[stored_k], m[restored_k], seconds))
    s, r, t = (float(np.mean(c)) for c in zip(*rows, strict=True))
    return {stored_k: s, restored_k: r, "sum_psnr": s + r, "samples": len(rows), "store_s": t}


def score_baseline(task, samples, jpeg: int | None = None) -> dict[str, float] | None:
    """``score`` of the classical stand-in a robust model must beat where there is one: bicubic
    down + up (rescaling), the Lab L gray with no colour (decolorization); None for hiding."""
    import numpy as np

    from wincli.evaluate import measure
    from wincli.imaging import round8
    from wincli.jpeg import pillow_jpeg

    rows = []
    for _, x in samples:
        stored = round8(task.target(x))
        if jpeg is not None:
            stored = pillow_jpeg(stored, jpeg)
        restored = task.stand_in(stored)
        if restored is None:
            return None
        m = measure(task, x, stored, [restored])
        rows.append((m[f"{task.stored_name}_psnr"], m[f"{task.restored_name}_psnr"]))
    s, r = (float(np.mean(c)) for c in zip(*rows, strict=True))
    return {f"{task.stored_name}_psnr": s, f"{task.restored_name}_psnr": r, "sum_psnr": s + r,
            "samples": len(rows)}  # fmt: skip


def load(source: str, refine=None, encoder: str | None = None):
    """A CPU converter for a registry name or file, with ``refine`` and a one-pass ``encoder``
    file ("auto": the one the registry ships for ``source``; None: the forward output)."""
    import torch

    from wincli.converter import Converter
    from wincli.encoder import load_encoder
    from wincli.refine import Refine
    from wincli.train.loop import load_init_from
    from wincli.weights import load_record_encoder, load_registry

    net = load_init_from(source)
    if encoder == "auto":
        rec = next((r for r in load_registry() if r.name == source), None)
        enc = load_record_encoder(rec, net, allow_download=False) if rec else None
        if enc is None:
            sys.exit(f"error: no one-pass encoder ships for {source}")
    else:
        enc = load_encoder(encoder, net) if encoder else None
    return Converter(net=net, device=torch.device("cpu"), refine=refine or Refine(), encoder=enc)


def search(args, task, iters: int):
    """The refinement of ``iters`` steps: the task's search (``Task.refine_search``) with what
    the --refine-* options change."""
    from wincli.refine import default_refine

    given = dict(lr=args.refine_lr, stored_weight=args.refine_weight, decay=args.refine_decay)
    changes = {k: v for k, v in given.items() if v is not None}
    return replace(default_refine(task, iters), stored_floor=args.refine_floor, **changes)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="registry names or .safetensors files")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train"))
    ap.add_argument("--holdout", type=int, default=6, help="as `win train --holdout`")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--groups", type=int, default=30, help="hiding: samples at most")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument(
        "--refine", type=int, action="append", default=None,
        help="encoder-side refinement iterations (0: none; repeat: one row each, with the "
        "seconds each stored image took: the speed / quality curve)",
    )  # fmt: skip
    ap.add_argument("--refine-lr", type=float, help="its Adam step (default: the task's)")
    ap.add_argument(
        "--refine-weight", type=float, help="its stored-image weight (default: the task's)"
    )
    ap.add_argument(
        "--refine-decay", action="store_true", default=None,
        help="cosine decay of its step (default: the task's)",
    )  # fmt: skip
    ap.add_argument(
        "--refine-floor", type=float, default=0.0, help="its per-image stored PSNR floor, dB"
    )
    ap.add_argument(
        "--encoder", action="append", default=None,
        help="a one-pass encoder file for the model (repeat: one row each; 'none': the forward "
        "output; 'auto': the registry's)",
    )  # fmt: skip
    ap.add_argument(
        "--jpeg", type=int, action="append", default=None,
        help="also after a Pillow JPEG of the stored image at this quality (repeatable)",
    )  # fmt: skip
    ap.add_argument(
        "--baseline", action="store_true",
        help="also the classical stand-in (bicubic; gray without colour), with every --jpeg",
    )  # fmt: skip
    args = ap.parse_args(argv)

    import torch

    from wincli.train.data import find_images, split_holdout

    torch.set_num_threads(args.threads)
    _, held = split_holdout(find_images([args.data]), args.holdout)
    results = {}
    print(f"held-out photos ({len(held)}): {', '.join(p.stem for p in held)}")
    print("| model | task | samples | stored PSNR | restored PSNR | sum | seconds to store |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    qualities = [None, *(args.jpeg or [])]
    runs = list(itertools.product(args.encoder or ["none"], args.refine or [0], qualities))
    for source in args.models:
        for enc, k, q in runs:
            conv = load(source, None, None if enc == "none" else enc)
            task = conv.net.config.spec
            conv = replace(conv, refine=search(args, task, k))
            with torch.inference_mode():
                m = score(conv, heldout_samples(task, held, args.crop, args.groups), q)
            label = source if enc == "none" else f"{source} + {enc}"
            label += f" + refine {k}" if k else ""
            label += f", JPEG q{q}" if q is not None else ""
            results[label] = {"task": task.name, **m}
            vals = list(m.values())
            print(
                f"| {label} | {task.name} | {m['samples']} | {vals[0]:.2f} | {vals[1]:.2f} "
                f"| {m['sum_psnr']:.2f} | {m['store_s']:.2f} |",
                flush=True,
            )
    if args.baseline:
        task = load(args.models[0]).net.config.spec
        for q in [None, *(args.jpeg or [])]:
            m = score_baseline(task, heldout_samples(task, held, args.crop, args.groups), q)
            if m is None:
                break
            label = "baseline" + (f", JPEG q{q}" if q is not None else "")
            results[label] = {"task": task.name, **m}
            vals = list(m.values())
            print(f"| {label} | {task.name} | {m['samples']} | {vals[0]:.2f} | {vals[1]:.2f} "
                  f"| {m['sum_psnr']:.2f} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
