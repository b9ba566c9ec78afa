#!/usr/bin/env python3
"""Re-measure shipped checkpoints on ../shared/data/eval and write the numbers into the registry.

    python scripts/remeasure.py rescaling-x2-win-cpu [decolorization-win-cpu ...] [--dry-run]

For when what the CLI does with a shipped file changes but the file does not (e.g. the default
encoder-side refinement, ``wincli.refine``): the registry's ``metrics`` are measured again with
``wincli.evaluate.registry_metrics`` through the converter the CLI uses (the task's default
refinement), exactly as ``scripts/ship_checkpoint.py`` measures a new file and as
``tests/test_quality.py`` checks them. Prints the old and new numbers per metric.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="+", help="registry names")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the registry")
    args = ap.parse_args(argv)

    import torch

    from scripts.ship_checkpoint import measure
    from wincli.evaluate import flat_metrics
    from wincli.refine import default_refine
    from wincli.weights import load_record, load_registry

    torch.set_num_threads(1)
    records = {r.name: r for r in load_registry(REPO / "weights" / "registry.json")}
    path = REPO / "weights" / "registry.json"
    raw = json.loads(path.read_text())
    for name in args.names:
        if name not in records:
            sys.exit(f"error: {name} is not in the registry")
        net, _, _ = load_record(records[name], allow_download=False)
        metrics = measure(net, args.data)
        old, new = flat_metrics(records[name].metrics), flat_metrics(metrics)
        print(f"## {name} ({default_refine(net.config.spec)})")
        for k, v in new.items():
            print(f"{k}: {old.get(k, '-')} -> {v}")
        for entry in raw["models"]:
            if entry["name"] == name:
                entry["metrics"] = metrics
    if not args.dry_run:
        path.write_text(json.dumps(raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
