#!/usr/bin/env python3
"""Copy a trained run's checkpoint into weights/, measure it on the eval sets, register it.

    python scripts/ship_checkpoint.py runs/x2 --name rescaling-x2-win-cpu \
        --command "win train --task rescaling --scale 2 ..." [--file best] [--data ../shared/data]

The metrics written into weights/registry.json are measured here with wincli.evaluate (the code
behind `win eval`), through 8-bit images, on ../shared/data/eval:
rescaling x2/x4 on Set5 and Set14, decolorization on Kodak24, hiding-n on Kodak24 pairs
(sorted, center-cropped to 512). The record becomes the default for its task (``--beside``: a
model selected by name, ``--weights NAME``); a run trained with ``--jpeg`` ships as the task's
JPEG-robust model instead (``win ... --robust``), measured after Pillow JPEG at q95 / 90 / 75 /
50 too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def measure(net, data: Path, robust: bool = False) -> dict:
    """The registry's nested metrics of ``net`` on data/eval (``wincli.evaluate.measure_network``;
    a new file has no one-pass encoder yet: train one for it, scripts/ship_encoder.py)."""
    from wincli.evaluate import measure_network

    return measure_network(net, data / "eval", robust=robust)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--command", required=True, help="the training command(s), for the record")
    ap.add_argument("--file", default="best", choices=["best", "model"])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--notes", default="")
    ap.add_argument("--status", default="", help="the line the CLI prints when it is used")
    ap.add_argument(
        "--beside", action="store_true",
        help="ship it beside the task's default (selected with --weights NAME), not as the default",
    )  # fmt: skip
    args = ap.parse_args(argv)

    from wincli.checkpoint import load_model, read_metadata
    from wincli.models import count_params, preset_config
    from wincli.train.data import describe_data
    from wincli.weights import sha256_file

    src = args.run / f"{args.file}.safetensors"
    state = json.loads((args.run / "state.json").read_text())
    step = int(read_metadata(src).get("step", state["step"]))
    net = load_model(src)
    cfg = net.config
    dest = REPO / "weights" / f"{args.name}.safetensors"
    shutil.copy(src, dest)
    opts = state["options"]
    robust = {"jpeg": opts["jpeg"], "share": opts["jpeg_share"]} if opts.get("jpeg") else {}
    metrics = measure(load_model(dest), args.data, robust=bool(robust))
    record = {
        "name": args.name,
        **cfg.spec.kwargs(),
        "variant": cfg.variant,
        "preset": "paper"
        if cfg.to_dict() == preset_config(cfg.spec, variant=cfg.variant, preset="paper").to_dict()
        else opts["preset"],
        "config": cfg.to_dict(),
        "file": dest.name,
        "sha256": sha256_file(dest),
        "params": count_params(net),
        "default": not robust and not args.beside,
        "recipe": {
            "command": args.command,
            "data": describe_data(opts["data"], opts["holdout"]),
            "steps": step,
            "schedule_steps": opts["steps"],
            "batch": opts["batch"],
            "patch": opts["patch"],
            "lr": opts["lr"],
            "lambda_forward": opts.get("lambda_forward", 2.0),
            "init_from": opts.get("init_from"),
            "ste": opts.get("ste", "identity"),
            "train_cpu_hours": round(state.get("elapsed_s", 0) / 3600, 2),
            "notes": args.notes,
        },
        "metrics": metrics,
        "status": args.status,
    }
    if robust:
        record["robust"] = robust
    from wincli.registry import add_record

    add_record(record)
    print(json.dumps(record["metrics"], indent=1))


if __name__ == "__main__":
    main()
