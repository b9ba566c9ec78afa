"""Tabulate the training diagnostics of runs side by side (from each run's log.jsonl).

    python scripts/diagnose_runs.py runs/stress-identity runs/stress-clamp --every 40

Per logged step: forward and reverse loss, fraction of stored-image values outside [0, 1]
before rounding, gradient norm before clipping, the largest WIC condition number, the largest
additive-term output and the scale-term range over all couplings (wincli/train/diagnose.py),
then each run's validation PSNRs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def load(run: Path) -> tuple[dict[int, dict], dict[int, dict]]:
    train, val = {}, {}
    for line in (run / "log.jsonl").read_text().splitlines():
        r = json.loads(line)
        (train if "total" in r else val)[r["step"]] = r
    return train, val


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--every", type=int, default=40)
    args = ap.parse_args(argv)
    cols = (
        "run | step | forward | reverse | out of [0,1] | grad norm | WIC cond | add max | s range"
    )
    print(f"| {cols} |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    vals = []
    for run in args.runs:
        train, val = load(run)
        for step in sorted(train):
            r = train[step]
            if step % args.every or "out_of_range" not in r:
                continue
            print(
                f"| {run.name} | {step} | {r['forward']:.0f} | {r['reverse']:.0f} | "
                f"{100 * r['out_of_range']:.1f}% | {r['grad_norm']:.0f} | "
                f"{max(r['wic_cond']):.1f} | "
                f"{max(r['add_max']):.2f} | {min(r['s_min']):.2f}..{max(r['s_max']):.2f} |"
            )
        vals += [(run.name, s, v) for s, v in sorted(val.items())]
    print("\n| run | step | val image PSNR | val reverse PSNR |\n| --- | --- | --- | --- |")
    for name, step, v in vals:
        print(f"| {name} | {step} | {v['val_image_psnr']:.2f} | {v['val_reverse_psnr']:.2f} |")


if __name__ == "__main__":
    main()
