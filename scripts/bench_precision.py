#!/usr/bin/env python3
"""bf16 against fp32 for the shipped checkpoints: quality through 8-bit files, and speed.

    python scripts/bench_precision.py                        # quality, every shipped model
    python scripts/bench_precision.py hiding-1-win-cpu --dry-run
    python scripts/bench_precision.py --speed --threads 2    # seconds, ratio, share of the peak

Quality: every sample goes through the converter the CLI builds for the record (its one-pass
encoder, the task's default refinement, ``--robust`` for a robust record) once in fp32 and once
in bf16, stored as an 8-bit image and restored by the same precision, on the record's eval sets
(``wincli.evaluate.benchmarks``, their crops) and on the held-out training photos (as
``scripts/heldout.py``: ``--holdout`` photos, center crops of ``--crop``). The change of the
stored image's and the restored parts' mean PSNR (bf16 minus fp32) per set is written to the
record's ``bf16.delta_db`` (unless ``--dry-run``); ``--precision auto`` uses bf16 for a model
only when every change is within ``wincli.precision.AUTO_MAX_LOSS_DB``.

Speed (``--speed``): seconds of one forward (store) and one inverse (restore) pass of every
shipped architecture on a photo of each ``--sizes`` (the CLI's tiling for large ones), fp32 and
bf16, the best of ``--repeat``; the ratio; and the convolutions' GFLOP/s beside the machine's
peak for each precision, measured in the same run with a large 3x3 convolution.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PRECISIONS = ("fp32", "bf16")


def converter(rec, precision: str):
    """The CLI's CPU converter for registry record ``rec`` in ``precision``."""
    import torch

    from wincli.converter import Converter
    from wincli.precision import Precision
    from wincli.refine import default_refine
    from wincli.weights import load_record, load_record_encoder

    net, _, _ = load_record(rec, allow_download=False)
    encoder = load_record_encoder(rec, net, allow_download=False)
    return Converter(
        net=net, device=torch.device("cpu"), refine=default_refine(net.config.spec),
        encoder=encoder, robust=bool(rec.robust), precision=Precision(precision, "measured"),
    )  # fmt: skip


def sample_sets(task, data: Path, holdout: int, crop: int, groups: int):
    """{set name: [(name, x)]}: the record's eval sets and the held-out training photos."""
    from heldout import heldout_samples

    from wincli.evaluate import benchmarks, samples
    from wincli.io import list_images
    from wincli.train.data import find_images, split_holdout

    sets = {}
    for bench in benchmarks(task):
        files = list_images([data / "eval" / bench.name])
        sets[bench.name] = list(samples(task, files, bench.crop))
    _, held = split_holdout(find_images([data / "train"]), holdout)
    sets["held-out"] = list(heldout_samples(task, held, crop, groups))
    return sets


def mean_psnrs(conv, task, items) -> tuple[float, float]:
    """Mean 8-bit PSNR of the stored image and of the restored parts over ``items``."""
    import numpy as np

    from wincli.evaluate import measure
    from wincli.metrics import psnr

    rows = []
    for _, x in items:
        stored = conv.forward(x)
        restored = task.restored(conv.inverse(stored, size=tuple(x.shape[-2:])))
        m = measure(task, x, stored, restored, metrics=(psnr,))
        rows.append((m[f"{task.stored_name}_psnr"], m[f"{task.restored_name}_psnr"]))
    s, r = (float(np.mean(c)) for c in zip(*rows, strict=True))
    return s, r


def quality(args, records) -> None:
    import torch

    from wincli.precision import AUTO_MAX_LOSS_DB
    from wincli.registry import set_fields

    print("| model | set | samples | stored fp32 | bf16 | delta | restored fp32 | bf16 | delta |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rec in records:
        convs = {p: converter(rec, p) for p in PRECISIONS}
        task = convs["fp32"].net.config.spec
        deltas = {}
        for set_name, items in sample_sets(
            task, args.data, args.holdout, args.crop, args.groups
        ).items():
            with torch.inference_mode():
                got = {p: mean_psnrs(c, task, items) for p, c in convs.items()}
            (s32, r32), (s16, r16) = got["fp32"], got["bf16"]
            deltas[f"{set_name} {task.stored_name}"] = round(s16 - s32, 3)
            deltas[f"{set_name} {task.restored_name}"] = round(r16 - r32, 3)
            print(
                f"| {rec.name} | {set_name} | {len(items)} | {s32:.3f} | {s16:.3f} "
                f"| {s16 - s32:+.3f} | {r32:.3f} | {r16:.3f} | {r16 - r32:+.3f} |",
                flush=True,
            )
        worst = min(deltas.values())
        verdict = "bf16" if worst >= -AUTO_MAX_LOSS_DB else "fp32"
        print(f"| {rec.name} | worst change {worst:+.3f} dB: auto picks {verdict} | | | | | | | |")
        if not args.dry_run:
            command = "python scripts/bench_precision.py " + rec.name
            set_fields(rec.name, bf16={"delta_db": deltas, "command": command})


def conv_flops(net, x, forward: bool) -> float:
    """FLOPs of the nn.Conv2d layers in one pass of ``net`` on ``x`` (multiply-adds x 2)."""
    import torch

    total = 0.0

    def hook(mod, _inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total += 2.0 * out.numel() * (mod.in_channels // mod.groups) * k

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.inference_mode():
            net(x) if forward else net.inverse(x)
    finally:
        for h in hooks:
            h.remove()
    return total


def peak_gflops(precision: str, repeat: int) -> float:
    """GFLOP/s of the fastest of two large 3x3 convolutions (64 and 128 channels, 512 px,
    channels-last), weights and input already in ``precision``'s dtype: the machine's peak,
    without the casts that autocast adds around each layer."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    best_rate = 0.0
    for ch in (64, 128):
        fmt = torch.channels_last
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1).to(dtype=dtype, memory_format=fmt)
        x = torch.rand(1, ch, 512, 512).to(dtype=dtype, memory_format=fmt)
        flops = 2.0 * ch * ch * 9 * 512 * 512
        with torch.inference_mode():
            conv(x)
            best = best_of(lambda c=conv, x=x: c(x), max(repeat, 3))
        best_rate = max(best_rate, flops / best / 1e9)
    return best_rate


def photo(h: int, w: int):
    """A deterministic photo-like (1, 3, h, w) image in [0, 1]."""
    import torch

    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([xx, yy, 0.5 + 0.4 * torch.sin(9 * xx + 5 * yy)])
    noise = torch.nn.functional.avg_pool2d(torch.rand(3, h, w, generator=g)[None], 3, 1, 1)[0]
    return (0.8 * base + 0.2 * noise).clamp(0, 1)[None]


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def speed(args, records) -> None:
    import torch

    peaks = {p: peak_gflops(p, args.repeat) for p in PRECISIONS}
    print(
        f"threads {torch.get_num_threads()}; 3x3 conv peak: fp32 {peaks['fp32']:.0f} GFLOP/s, "
        f"bf16 {peaks['bf16']:.0f} GFLOP/s ({peaks['bf16'] / peaks['fp32']:.2f}x)"
    )
    print("| model | size | pass | fp32 s | bf16 s | ratio | fp32 % of peak | bf16 % of peak |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    seen = set()
    for rec in records:
        key = repr(sorted(rec.config.items()))
        if key in seen:
            continue  # the same architecture runs at the same speed
        seen.add(key)
        convs = {p: converter(rec, p) for p in PRECISIONS}
        task = convs["fp32"].net.config.spec
        for size in args.sizes:
            h, w = (int(v) for v in size.split("x")) if "x" in size else (int(size),) * 2
            for row in time_passes(convs, task, h, w, peaks, args.repeat):
                print(f"| {rec.name} | {h}x{w} | " + " | ".join(row) + " |", flush=True)


def time_passes(convs, task, h: int, w: int, peaks: dict, repeat: int):
    """Rows (pass, fp32 s, bf16 s, ratio, fp32 share, bf16 share) for an h x w photo; images
    over 2048 px go through the CLI's automatic tiling (no share of the peak: not counted)."""
    import torch

    x = task.pack([photo(h, w)] * task.images_per_sample)
    tiled = max(h, w) > 2048
    for c in convs.values():
        c.tile = "auto" if tiled else None
    stored = convs["fp32"].forward(x)
    net = convs["fp32"].net
    flops = {"store": 0.0, "restore": 0.0}
    if not tiled:
        with torch.inference_mode():
            y = net(x)
        flops = {"store": conv_flops(net, x, True), "restore": conv_flops(net, y, False)}
    passes = {
        "store": lambda c: c.forward(x),
        "restore": lambda c: c.inverse(stored, size=(h, w)),
    }
    for name, run in passes.items():
        with torch.inference_mode():
            secs = {p: best_of(lambda c=c, run=run: run(c), repeat) for p, c in convs.items()}
        share = {
            p: f"{100 * flops[name] / secs[p] / 1e9 / peaks[p]:.0f}%" if flops[name] else "-"
            for p in PRECISIONS
        }
        ratio = secs["fp32"] / secs["bf16"]
        yield (name, f"{secs['fp32']:.2f}", f"{secs['bf16']:.2f}", f"{ratio:.2f}x",
               share["fp32"], share["bf16"])  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="registry names (default: every shipped model)")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--holdout", type=int, default=6, help="as `win train --holdout`")
    ap.add_argument("--crop", type=int, default=256, help="held-out photos' center crop")
    ap.add_argument("--groups", type=int, default=30, help="hiding: held-out samples at most")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the registry")
    ap.add_argument("--speed", action="store_true", help="time the passes instead")
    ap.add_argument("--sizes", nargs="+", default=["512"], help="--speed: 512, 3000x4000, ...")
    ap.add_argument("--repeat", type=int, default=3, help="--speed: best of this many runs")
    args = ap.parse_args(argv)

    import torch

    from wincli.precision import bf16_hardware
    from wincli.weights import load_registry

    sys.path.insert(0, str(REPO / "scripts"))
    ok, why = bf16_hardware(torch.device("cpu"))
    if not ok:
        sys.exit(f"error: nothing to measure: {why}")
    torch.set_num_threads(args.threads)
    records = [r for r in load_registry() if not args.names or r.name in args.names]
    missing = set(args.names) - {r.name for r in records}
    if missing:
        sys.exit(f"error: not in the registry: {', '.join(sorted(missing))}")
    (speed if args.speed else quality)(args, records)


if __name__ == "__main__":
    main()
