"""Function-preserving growth: a trained network made larger without changing what it computes.

>>> grown = grow(net, growth=32, couplings=4)          # doctest: +SKIP
>>> torch.allclose(grown(x), net(x))                     # before any training step
True

Two kinds of growth keep the function exactly, forward and inverse:

- **more couplings** (``couplings``, ``late_couplings`` for the x4 second stage,
  ``naive_couplings``): the new couplings are appended after the trained ones at their initial
  values, which are the identity (every dense block's last convolution is zero);
- **wider dense blocks** (``growth``): every convolution gains output channels; the weights that
  read a new channel are zero (the later convolutions and the last one ignore it), so the old
  channels and the block's output are unchanged, and the new channels' own weights start at the
  usual Xavier-normal * 0.1. Training then moves the zeros.

Width, module count, depth and ratio change the WICs' shapes and the channel routing; no
function-preserving map is offered for them (:func:`grow` refuses them).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from wincli.layers.coupling import DenseBlock
from wincli.models.config import ModelConfig
from wincli.models.presets import preset_config

GROWABLE = ("couplings", "late_couplings", "naive_couplings", "growth")


def _late_couplings(config: ModelConfig) -> int:
    return config.late_couplings or config.couplings


def grow_targets(config: ModelConfig, specs: list[str]) -> dict[str, int]:
    """The sizes ``--grow`` asks for: each spec a preset name (its couplings and growth) or
    ``key=value`` (later specs win). A ValueError names what cannot grow."""
    target: dict[str, int] = {}
    for spec in specs:
        if "=" not in spec:
            try:
                preset = preset_config(config.spec, variant=config.variant, preset=spec)
            except ValueError as e:
                raise ValueError(f"{spec}: {e}") from None
            target |= {k: getattr(preset, k) for k in GROWABLE}
            target["late_couplings"] = _late_couplings(preset)
            continue
        key, _, value = spec.partition("=")
        key = key.strip().replace("-", "_")
        if key not in GROWABLE:
            raise ValueError(
                f"{spec}: only {', '.join(GROWABLE)} can grow without changing the network's "
                "function"
            )
        try:
            target[key] = int(value)
        except ValueError:
            raise ValueError(f"{spec}: {value!r} is not a whole number") from None
    return target


def grown_config(config: ModelConfig, target: dict[str, int]) -> ModelConfig:
    """``config`` at the ``target`` sizes; a ValueError for a size smaller than the config's.
    The x4 second stage keeps counting its own couplings once they differ from the first's."""
    have = {k: getattr(config, k) for k in GROWABLE}
    have["late_couplings"] = _late_couplings(config)
    target = dict(target)
    if config.stages == 1 or not config.late_width:
        target.pop("late_couplings", None)  # one stage, or a second stage sized like the first
    for key, value in target.items():
        if value < have[key]:
            raise ValueError(
                f"{key} {value} is smaller than the checkpoint's {have[key]}: "
                "a network can grow, not shrink"
            )
    changes = dict(target)
    if (
        config.stages > 1
        and config.late_width
        and "late_couplings" not in changes
        and "couplings" in changes
    ):
        changes["late_couplings"] = have["late_couplings"]  # unchanged unless asked
    return replace(config, **changes)


@torch.no_grad()
def _widen(new: DenseBlock, old: DenseBlock) -> None:
    """Copy ``old`` into the wider ``new``: old channels in their slots, zeros where anything
    reads a new channel."""
    g0 = old.hidden[0].out_channels
    g1 = new.hidden[0].out_channels
    c_in = old.hidden[0].in_channels

    def slots(k: int) -> torch.Tensor:  # new input index of each old input channel of conv k
        idx = [torch.arange(c_in)] + [c_in + j * g1 + torch.arange(g0) for j in range(k)]
        return torch.cat(idx)

    for k, (cn, co) in enumerate(zip(new.hidden, old.hidden, strict=True)):
        keep = slots(k)
        w = cn.weight.clone()
        w[:g0] = 0.0
        w[:g0, keep] = co.weight
        cn.weight.copy_(w)
        cn.bias[:g0] = co.bias
        cn.bias[g0:] = 0.0
    keep = slots(len(old.hidden))
    new.last.weight.zero_()
    new.last.weight[:, keep] = old.last.weight
    new.last.bias.copy_(old.last.bias)


def grow(net, **target: int):
    """``net`` grown to the ``target`` sizes (keys of ``GROWABLE``), computing what ``net``
    computes (see the module docstring). A ValueError for what cannot grow."""
    from wincli.models import build_from_config

    unknown = set(target) - set(GROWABLE)
    if unknown:
        raise ValueError(f"cannot grow {', '.join(sorted(unknown))} without changing the function")
    cfg = grown_config(net.config, target)
    grown = build_from_config(cfg).to(next(net.parameters()).device)
    old_modules = dict(net.named_modules())
    blocks = set()
    for name, module in grown.named_modules():
        if isinstance(module, DenseBlock) and name in old_modules:
            _widen(module, old_modules[name])
            blocks.add(name)
    old_state = net.state_dict()
    rest = {k: v for k, v in old_state.items() if not any(k.startswith(b + ".") for b in blocks)}
    missing, unexpected = grown.load_state_dict(rest, strict=False)
    new_names = set(dict(grown.named_modules())) - set(old_modules)
    left = [
        k
        for k in missing
        if not any(k.startswith(b + ".") for b in blocks)
        and not any(k.startswith(n + ".") for n in new_names)
    ]
    if unexpected or left:
        raise ValueError(f"cannot grow {net.config.name}: {(list(unexpected) + left)[:3]}")
    grown.to(next(net.parameters()).dtype)
    return grown


def describe(before: ModelConfig, after: ModelConfig) -> str:
    """``growth 16 -> 32, couplings 1 -> 4`` for the sizes that changed."""
    parts = []
    for key in GROWABLE:
        a, b = getattr(before, key), getattr(after, key)
        if key == "late_couplings":
            a, b = _late_couplings(before), _late_couplings(after)
            if before.stages == 1 or not before.late_width:
                continue
        if key == "naive_couplings" and before.variant != "win-naive":
            continue
        if key == "couplings" and before.variant == "win-naive":
            continue
        if a != b:
            parts.append(f"{key} {a} -> {b}")
    return ", ".join(parts) or "nothing"
