"""A GPU training campaign in chunks that fit the device tool (one command <= 10 minutes).

Each call trains the ``paper`` preset of one task for at most ``--chunk-s`` seconds, resuming
the run in ``ROOT/NAME`` if there is one, and leaves the run directory (model, best, optimizer,
state, log) in ``ROOT/NAME`` and, with ``--out``, a copy in ``OUT`` to bring back.

    # here, once: a subset of the training photos small enough to travel (git-ignored)
    python scripts/train_gpu.py --pack ../shared/data/train --pack-dir gpu_data --pack-mb 24
    # on the GPU machine, again and again (device tool: carry ["gpu_data", "gpu_runs"]):
    python3 scripts/train_gpu.py rescaling-x2 --data gpu_data --root gpu_runs --out $OUT/x2
    # here, after each call: copy the returned files into gpu_runs/rescaling-x2/, then ship:
    python scripts/ship_checkpoint.py gpu_runs/rescaling-x2 --name rescaling-x2-win-paper ...

Order of the campaign: rescaling-x2, hiding-1, decolorization, rescaling-x4.
The schedule spans ``--steps`` (default 100000) whatever the number of chunks; the dry run in
``tests/test_scripts.py`` runs two chunks of a few steps on the CPU.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wincli.tasks import TASK_NAMES, parse_task  # noqa: E402

TASKS = {name: parse_task(name).kwargs() for name in TASK_NAMES}
RUN_FILES = ("model.safetensors", "best.safetensors", "optimizer.safetensors", "state.json")


def pack(src: list[str], dest: Path, megabytes: float) -> None:
    """Copy training photos (largest variety first: round-robin over the source folders)
    into ``dest`` until ``megabytes`` are used. Never point this at an evaluation set.
    The photos that ``win train`` and ``scripts/heldout.py`` hold out of ``src`` stay out, so
    a GPU run can be judged on them like any other."""
    from wincli.train.data import find_images, split_holdout
    from wincli.train.options import FIELDS

    folders: dict[Path, list[Path]] = {}
    kept, _ = split_holdout(find_images(src), FIELDS["holdout"].metadata["default"])
    for p in kept:
        folders.setdefault(Path(p).parent, []).append(Path(p))
    order = []
    while any(folders.values()):
        for key in list(folders):
            if folders[key]:
                order.append(folders[key].pop(0))
    dest.mkdir(parents=True, exist_ok=True)
    used = 0
    for p in order:
        size = p.stat().st_size
        if used + size > megabytes * 2**20:
            continue
        shutil.copy2(p, dest / f"{p.parent.name}_{p.name}")
        used += size
    print(f"{dest}: {len(list(dest.iterdir()))} images, {used / 2**20:.1f} MiB")


def chunk(args) -> Path:
    from wincli.train import TrainOptions, train

    run = Path(args.root) / args.name
    # None is "not given"; on resume a recipe option must equal the run's (TrainOptions checks)
    given = dict(
        init_from=args.init_from,
        lr=args.lr,
        warmup=args.warmup,
        lambda_forward=args.lambda_forward,
        device=args.device,
        time_limit=args.chunk_s,
    )
    if (run / "state.json").exists():
        opts = TrainOptions(resume=str(run), **given)
    else:
        opts = TrainOptions(
            **TASKS[args.name],
            preset=args.preset,
            data=args.data,
            steps=args.steps,
            batch=args.batch,
            patch=args.patch,
            val_every=args.val_every,
            ckpt_every=args.val_every,
            out=str(run),
            **given,
        )
    metrics = train(opts)
    print(f"{args.name}: {metrics}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in (*RUN_FILES, "log.jsonl"):
            if (run / name).exists():
                shutil.copy2(run / name, out / name)
    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", nargs="?", choices=sorted(TASKS))
    ap.add_argument("--data", nargs="+", default=["gpu_data"])
    ap.add_argument("--root", default="gpu_runs")
    ap.add_argument("--out", help="copy the run directory here (the device tool's $OUT/...)")
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--steps", type=int, default=100000, help="schedule length")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--patch", type=int, default=None)
    ap.add_argument("--chunk-s", type=float, default=540.0, help="seconds of training per call")
    ap.add_argument("--val-every", type=int, default=1000)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--init-from", help="continue a shipped checkpoint (with --preset cpu)")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--lambda-forward", type=float, default=None)
    ap.add_argument("--pack", nargs="+", help="training folders to copy a subset of")
    ap.add_argument("--pack-dir", default="gpu_data")
    ap.add_argument("--pack-mb", type=float, default=24.0)
    args = ap.parse_args(argv)
    if args.pack:
        pack(args.pack, Path(args.pack_dir), args.pack_mb)
        return
    if not args.name:
        ap.error("give a task name (or --pack)")
    chunk(args)


if __name__ == "__main__":
    main()
