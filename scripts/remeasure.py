#!/usr/bin/env python3
"""Maintainers, when what the CLI does with a shipped file changes: re-measure it on the eval sets.

The numbers are written into the registry.

    python scripts/remeasure.py rescaling-x2-win-cpu [decolorization-win-cpu ...] [--dry-run]

For when what the CLI does with a shipped file changes but the file does not (e.g. the default
encoder-side refinement, ``wincli.refine``): the registry's ``metrics`` are measured again with
``wincli.evaluate.registry_metrics`` through the converter the CLI uses (the task's default
refinement and its registered one-pass encoder: ``wincli.evaluate.measure_record``), as
``tests/test_quality.py`` checks them. Prints the old and new numbers per metric.
"""

from __future__ import annotations

import argparse
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

    from wincli.evaluate import flat_metrics, measure_record
    from wincli.registry import set_fields
    from wincli.weights import load_registry

    torch.set_num_threads(1)
    records = {r.name: r for r in load_registry()}
    for name in args.names:
        if name not in records:
            sys.exit(f"error: {name} is not in the registry")
        metrics = measure_record(records[name], args.data / "eval")
        old, new = flat_metrics(records[name].metrics), flat_metrics(metrics)
        print(f"## {name}")
        for k, v in new.items():
            print(f"{k}: {old.get(k, '-')} -> {v}")
        if not args.dry_run:
            set_fields(name, metrics=metrics)


if __name__ == "__main__":
    main()
