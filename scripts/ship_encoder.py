#!/usr/bin/env python3
"""Maintainers, to release a one-pass encoder: copy a run's encoder into weights/, measure the
default path on the eval sets, and register it under the model it serves.

    python scripts/ship_encoder.py runs/enc-x2 --model rescaling-x2-win-cpu \
        --command "win train --encoder-for rescaling-x2-win-cpu ..." [--file best]

The encoder must serve the registered file's inverse (its recorded ``serves`` hash), or this
refuses. The model's metrics are re-measured with `win eval`'s code through 8-bit images
(wincli.evaluate.registry_metrics): ``8bit`` (the rounded forward output), ``one_pass`` (what
the CLI stores by default now) and ``float``. The registry is written atomically.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--model", required=True, help="the registry name it serves")
    ap.add_argument("--command", required=True, help="the training command, for the record")
    ap.add_argument("--file", default="best", choices=["best", "last"])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--notes", default="")
    args = ap.parse_args(argv)

    from wincli.checkpoint import read_metadata
    from wincli.encoder import load_encoder
    from wincli.evaluate import measure_network
    from wincli.registry import set_fields
    from wincli.train.data import describe_data
    from wincli.weights import load_record, load_registry, sha256_file

    rec = {r.name: r for r in load_registry()}[args.model]
    net, _, _ = load_record(rec, allow_download=False)
    src = args.run / f"{args.file}.safetensors"
    enc = load_encoder(src, net)  # refuses an encoder of another inverse
    dest = REPO / "weights" / f"{args.model}-encoder.safetensors"
    shutil.copy(src, dest)
    state = json.loads((args.run / "state.json").read_text())
    log = [json.loads(ln) for ln in (args.run / "log.jsonl").read_text().splitlines()]
    meta = read_metadata(dest)
    steps = int(meta.get("steps", state["step"]))
    heldout = next((r for r in log if r.get("step") == steps), {})
    metrics = measure_network(net, args.data / "eval", enc)
    opts = state["options"]
    entry = {
        "file": dest.name,
        "sha256": sha256_file(dest),
        "params": sum(p.numel() for p in enc.parameters()),
        "config": json.loads(meta["config"]),
        "recipe": {
            "command": args.command,
            "data": describe_data(opts["data"], opts["holdout"]),
            "steps": steps,
            "schedule_steps": opts["steps"],
            "batch": opts["batch"],
            "patch": opts["patch"],
            "lr": opts["lr"],
            "stored_weight": opts["stored_weight"],
            "notes": args.notes,
        },
        "heldout": {
            "crop": opts["val_crop"],
            "forward_output": next(r for r in log if "forward_output" in r)["forward_output"],
            "one_pass": {k: heldout.get(k) for k in ("stored_psnr", "restored_psnr")},
        },
    }
    set_fields(args.model, encoder=entry, metrics=metrics)
    print(json.dumps({"encoder": entry, "metrics": metrics}, indent=1))


if __name__ == "__main__":
    main()
