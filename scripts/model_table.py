#!/usr/bin/env python3
"""Parameter count and multiply-accumulates per input pixel of every task, variant and preset.

    python scripts/model_table.py

MACs are counted with hooks on every 3x3 convolution plus the 1x1 WIC layers (forward pass;
the inverse costs the same). Prints a Markdown table beside the paper's parameter counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wincli.layers import WIC  # noqa: E402
from wincli.models import (  # noqa: E402
    PAPER_PARAMS,
    build_model,
    count_params,
)
from wincli.tasks import TASK_NAMES, parse_task  # noqa: E402

ROWS = [(n, parse_task(n).kind, parse_task(n).config_fields()) for n in TASK_NAMES]


def macs(net, c_in: int, side: int = 64) -> float:
    total = 0

    def conv_hook(mod, inp, out):
        nonlocal total
        total += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] ** 2

    def wic_hook(mod, inp, out):
        nonlocal total
        total += out.numel() * mod.c_in

    hooks = [
        m.register_forward_hook(conv_hook) for m in net.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    hooks += [m.register_forward_hook(wic_hook) for m in net.modules() if isinstance(m, WIC)]
    with torch.inference_mode():
        net(torch.rand(1, c_in, side, side))
    for h in hooks:
        h.remove()
    return total / side**2


def main() -> None:
    print("| model | variant | preset | params | paper params | MAC / input pixel |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, task, kw in ROWS:
        for variant in ("win", "win-naive"):
            for preset in ("paper", "cpu"):
                net = build_model(task, variant=variant, preset=preset, **kw).eval()
                paper = PAPER_PARAMS.get((name, variant))
                print(
                    f"| {name} | {variant} | {preset} | {count_params(net) / 1e6:.3f}M | "
                    f"{f'{paper}M' if paper and preset == 'paper' else '-'} | "
                    f"{macs(net, net.config.c_in) / 1e3:.0f}K |"
                )


if __name__ == "__main__":
    main()
