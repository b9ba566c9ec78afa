"""The training loop behind ``win train``.

>>> opts = TrainOptions(task="rescaling", scale=2, preset="cpu", data=["imgs/"], steps=2000,
...                     out="runs/x2")                                  # doctest: +SKIP
>>> train(opts)            # resume later with train(TrainOptions(resume="runs/x2"))

Recipe (DESIGN.md section 5): AdamW (0.9, 0.999, weight decay 1e-4), linear warm-up then cosine
decay, gradient-norm clip 10, loss weights 2 / 1 / 0.1 / 1, 8-bit straight-through rounding
between forward and inverse, 8 flips / rotations, secrets cropped from other images.
Our addition: the task-aware start of ``InvertibleNet.init_task_aware`` (``init="task"``).

Run directory: ``model.safetensors`` (latest), ``best.safetensors`` (best validation),
``optimizer.safetensors`` + ``state.json`` (step, options, metrics) for ``--resume``, and
``log.jsonl`` (one line per log interval and per validation).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from wincli.checkpoint import load_state, save_model, save_tensors
from wincli.device import pick_device
from wincli.errors import InputError
from wincli.fs import atomic_write
from wincli.metrics import psnr
from wincli.models import build_from_config, count_params, preset_config
from wincli.tasks import LossWeights, Task, compute_losses, make_task, quantize_8bit
from wincli.train.data import (
    PatchDataset,
    StepSampler,
    find_images,
    load_images,
    split_holdout,
    validation_batch,
)
from wincli.train.diagnose import Probe


@dataclass
class TrainOptions:
    """Everything ``win train`` takes; ``None`` means "the default for this device"."""

    task: str = "rescaling"
    secrets: int = 1
    scale: int = 2
    variant: str = "win"
    preset: str = "cpu"
    couplings: int | None = None  # override the preset: couplings per WIM (WIN-Naive: in all)
    growth: int | None = None  # override the preset's dense-block growth
    data: list[str] = field(default_factory=list)
    val: list[str] = field(default_factory=list)
    holdout: int = 6
    steps: int | None = None  # default 10000
    batch: int | None = None
    patch: int | None = None
    lr: float | None = None
    warmup: int = 200
    min_lr_ratio: float = 0.01
    seed: int = 0
    device: str | None = None  # auto
    threads: int | None = None  # 0 = torch default
    workers: int | None = None  # 0
    init: str | None = None  # task, orthogonal; default: orthogonal for hiding, else task
    lambda_forward: float | None = None  # 2.0, the paper's lambda_f; raise it to favour forward
    quantize: bool = True
    ste: str = "clamp"  # straight-through rounding: "clamp" (no gradient outside [0, 1]) or the
    # old "identity", kept to reproduce the divergence it caused
    channels_last: bool = False
    val_every: int | None = None  # 500
    val_size: int = 128
    ckpt_every: int | None = None  # 250
    log_every: int | None = None  # 25
    out: str = "runs/win"
    resume: str | None = None
    init_from: str | None = None  # start from a shipped checkpoint (registry name or file)
    stop_at: int | None = None  # checkpoint and stop here (the schedule still spans ``steps``)
    time_limit: float | None = None  # checkpoint and stop after this many seconds (GPU chunks)

    @property
    def spec(self) -> Task:
        """The task object this run trains (``Hiding(2)``, ...)."""
        return make_task(self.task, secrets=self.secrets, scale=self.scale)


# Options that ``None`` means "not given" for, so that a resumed run keeps its saved value unless
# the command line names one (even one equal to the default); filled in before training starts.
PLAIN_DEFAULTS = {
    "lambda_forward": 2.0,
    "device": "auto",
    "threads": 0,
    "workers": 0,
    "val_every": 500,
    "ckpt_every": 250,
    "log_every": 25,
}

RESUME_OVERRIDES = (
    "steps",
    "stop_at",
    "time_limit",
    "lambda_forward",
    "device",
    "threads",
    "workers",
    "val_every",
    "ckpt_every",
    "log_every",
)


# Recipe options whose "not given" is None: given on --resume with another value, an error.
RECIPE_CHECKED = ("lr", "batch", "patch", "init", "couplings", "growth", "init_from")


def _defaults(opts: TrainOptions, device: torch.device) -> TrainOptions:
    cuda = device.type == "cuda"
    fill = {
        "steps": 10000,
        "batch": 16 if cuda else 8,
        "patch": 128 if cuda else 64,
        "lr": default_lr(opts),
        "init": opts.spec.default_init,
    }
    return dataclasses.replace(opts, **{k: v for k, v in fill.items() if getattr(opts, k) is None})


def check_options(opts: TrainOptions) -> None:
    """Reject values that cannot train (zero is never silently replaced by a default)."""
    for name in ("steps", "batch", "warmup", "val_every", "ckpt_every", "log_every"):
        value = getattr(opts, name)
        if value is not None and value < (0 if name == "warmup" else 1):
            raise InputError(f"--{name.replace('_', '-')} must be positive, not {value}")
    if opts.lr is not None and opts.lr < 0:
        raise InputError(f"--lr must be >= 0, not {opts.lr}")
    if opts.task == "hiding" and not 1 <= opts.secrets <= 4:
        raise InputError(f"--secrets must be 1 to 4, not {opts.secrets}")
    if opts.patch is not None and (opts.patch < 16 or opts.patch % 8):
        raise InputError(f"--patch must be a multiple of 8 (at least 16), not {opts.patch}")
    if not opts.resume and Path(opts.out).exists() and not Path(opts.out).is_dir():
        raise InputError(f"--out {opts.out}: is a file; a run needs a folder")
    if opts.stop_at is not None and opts.stop_at < 1:
        raise InputError(f"--stop-at must be positive, not {opts.stop_at}")


def default_lr(opts: TrainOptions) -> float:
    """Peak learning rate: 1e-3 for the small cpu preset, 2e-4 for the paper sizes.

    The x4 cpu preset (a 256-wide second stage) diverged at 1e-3 at the end of warm-up and
    trains at 3e-4, so it gets that.
    """
    if opts.preset != "cpu":
        return 2e-4
    return opts.spec.default_lr()


def lr_at(step: int, opts: TrainOptions) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from ``lr`` to ``min_lr_ratio * lr``."""
    if step < opts.warmup:
        return opts.lr * (step + 1) / opts.warmup
    t = (step - opts.warmup) / max(opts.steps - opts.warmup, 1)
    t = min(max(t, 0.0), 1.0)
    lo = opts.lr * opts.min_lr_ratio
    return lo + 0.5 * (opts.lr - lo) * (1 + math.cos(math.pi * t))


class _LossModule(nn.Module):
    """Puts the whole loss inside ``forward`` so DistributedDataParallel sees every use."""

    def __init__(self, net: nn.Module, weights: LossWeights, quantize: bool, ste: str = "clamp"):
        super().__init__()
        self.net, self.weights, self.quantize, self.ste = net, weights, quantize, ste

    def forward(self, x: torch.Tensor):
        return compute_losses(self.net, x, self.weights, self.quantize, self.ste)


@torch.no_grad()
def validate(net, batch: torch.Tensor, device: torch.device) -> dict[str, float]:
    """PSNR (dB) of the 8-bit forward image against its target and of the reconstruction
    (hiding: the secrets) from that rounded image, on center crops."""
    net.eval()
    cfg = net.config
    image_psnr, rev_psnr = [], []
    for i in range(batch.shape[0]):
        x = batch[i : i + 1].to(device)
        task = cfg.spec
        image = quantize_8bit(task.to_image(net(x)))
        rec = net.inverse(task.from_image(image))
        image_psnr.append(psnr(image, task.target(x)))
        restored = torch.cat(task.restored(rec), 1)
        rev_psnr.append(psnr(restored, torch.cat(task.restored(x), 1)))
    net.train()
    return {
        "val_image_psnr": sum(image_psnr) / len(image_psnr),
        "val_reverse_psnr": sum(rev_psnr) / len(rev_psnr),
    }


def _optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for idx, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            out[f"{idx}.{key}"] = torch.as_tensor(value)
    return out


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    sd["state"] = state
    opt.load_state_dict(sd)


def load_init_from(source: str):
    """The network a ``--init-from`` run starts from: a registry name or a safetensors file.

    Registry files are hash-checked; the architecture comes from the record or the file.
    """
    from wincli.weights import load_record, load_registry, load_weights_file

    if Path(source).suffix == ".safetensors" or Path(source).exists():
        return load_weights_file(source)
    records = {r.name: r for r in load_registry()}
    if source not in records:
        known = ", ".join(sorted(records)) or "none"
        raise InputError(f"--init-from {source}: not a file or a registry name (known: {known})")
    net, _, _ = load_record(records[source], allow_download=False)
    return net


def train(opts: TrainOptions) -> dict[str, float]:
    """Train (or resume) a run; returns the last validation metrics."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    check_options(opts)
    if opts.resume:
        run = Path(opts.resume)
        state_file = run / "state.json"
        if not state_file.exists():
            raise InputError(f"{run}: no state.json to resume from")
        saved = json.loads(state_file.read_text())
        keep = {k: v for k, v in saved["options"].items() if k in TrainOptions.__annotations__}
        keep.pop("stop_at", None)  # belongs to the invocation that stopped, not to the run
        keep.pop("time_limit", None)
        # a resumed run keeps its recipe; only these may be changed on the command line
        overrides = {
            f.name: getattr(opts, f.name)
            for f in dataclasses.fields(TrainOptions)
            if f.name in RESUME_OVERRIDES and getattr(opts, f.name) is not None
        }
        for name in RECIPE_CHECKED:  # recipe options a resume cannot change: say so
            given = getattr(opts, name)
            if given is not None and given != keep.get(name):
                raise InputError(
                    f"--{name.replace('_', '-')} {given} differs from the run's {keep.get(name)}: "
                    f"a resumed run keeps its recipe (start a new run, or --init-from its model)"
                )
        opts = dataclasses.replace(TrainOptions(**keep), **overrides, resume=str(run), out=str(run))
        start_step = int(saved["step"])
    else:
        run = Path(opts.out)
        start_step = 0
        if (run / "state.json").exists():
            raise InputError(f"{run} already holds a run; use --resume {run} or another --out")

    opts = dataclasses.replace(
        opts, **{k: v for k, v in PLAIN_DEFAULTS.items() if getattr(opts, k) is None}
    )
    device = pick_device(opts.device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    if opts.threads:
        torch.set_num_threads(opts.threads)
    opts = _defaults(opts, device)
    torch.manual_seed(opts.seed)

    cfg = preset_config(
        opts.task, secrets=opts.secrets, scale=opts.scale, variant=opts.variant, preset=opts.preset
    )
    start_net = None
    if opts.init_from and not opts.resume:
        start_net = load_init_from(opts.init_from)
        got = start_net.config
        if not got.same_io(cfg):
            raise InputError(f"--init-from {opts.init_from}: is {got.name}, not {cfg.name}")
        cfg = got  # the checkpoint's own architecture (couplings, growth, widths)
    elif opts.couplings:
        cfg = dataclasses.replace(cfg, couplings=opts.couplings, naive_couplings=opts.couplings)
    if opts.growth and start_net is None:
        cfg = dataclasses.replace(cfg, growth=opts.growth)
    paths = find_images(opts.data)
    if opts.val:
        train_paths, val_paths = paths, find_images(opts.val)
    else:
        train_paths, val_paths = split_holdout(paths, opts.holdout)
    images = load_images(train_paths)
    val_images = load_images(val_paths) if val_paths else []
    dataset = PatchDataset(images, cfg, opts.patch, opts.seed)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=opts.batch,
        sampler=StepSampler(start_step, opts.batch, rank, world),
        num_workers=opts.workers,
        persistent_workers=opts.workers > 0,
    )
    val_batch = validation_batch(val_images, cfg, opts.val_size) if val_images else None

    net = build_from_config(cfg)
    if opts.resume:
        net.load_state_dict(load_state(run / "model.safetensors"), strict=True)
    elif start_net is not None:
        net.load_state_dict(start_net.state_dict(), strict=True)
        if rank == 0:
            print(f"starting from {opts.init_from} (fresh optimizer)", file=sys.stderr)
    elif opts.init == "task":
        warm = torch.stack([dataset[2**48 + i] for i in range(16)])  # not a training index
        fit = net.init_task_aware(warm, cfg.spec.target(warm))
        if rank == 0:
            print(f"task-aware init: forward image starts at {fit:.2f} dB", file=sys.stderr)
    net.to(device)
    if opts.channels_last:
        net.to(memory_format=torch.channels_last)
    module = _LossModule(net, LossWeights(forward=opts.lambda_forward), opts.quantize, opts.ste)
    probe = Probe(net)
    if world > 1:
        module = nn.parallel.DistributedDataParallel(
            module, device_ids=[device.index] if device.type == "cuda" else None
        )
    opt = torch.optim.AdamW(net.parameters(), lr=opts.lr, betas=(0.9, 0.999), weight_decay=1e-4)
    metrics: dict[str, float] = {}
    best = -math.inf
    elapsed0 = 0.0
    if opts.resume:
        _load_optimizer(opt, load_state(run / "optimizer.safetensors"))
        metrics = saved.get("metrics", {})
        best = saved.get("best", -math.inf)
        elapsed0 = saved.get("elapsed_s", 0.0)

    if rank == 0:
        run.mkdir(parents=True, exist_ok=True)
        print(
            f"{cfg.name} {cfg.variant} {opts.preset}: {count_params(net):,} parameters, "
            f"{len(images)} training images, {len(val_images)} validation, device {device}, "
            f"steps {start_step}->{opts.steps}, batch {opts.batch}x{opts.patch}^2, "
            f"lr {opts.lr:g}",
            file=sys.stderr,
        )

    def checkpoint(step: int) -> None:
        if rank != 0:
            return
        meta = {"step": str(step), "task": cfg.name, "preset": opts.preset}
        save_model(net, run / "model.safetensors", meta)
        save_tensors(_optimizer_tensors(opt), run / "optimizer.safetensors", {"step": str(step)})
        state = {
            "step": step,
            "options": dataclasses.asdict(opts),
            "config": cfg.to_dict(),
            "metrics": metrics,
            "best": best,
            "elapsed_s": elapsed0 + time.time() - t0,
        }
        atomic_write(
            run / "state.json", lambda tmp: Path(tmp).write_text(json.dumps(state, indent=1))
        )

    def log(record: dict) -> None:
        if rank == 0:
            with open(run / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    t0 = time.time()
    last_t, last_step = t0, start_step
    it = iter(loader)
    net.train()
    sums: dict[str, float] = {}
    grad_norms: list[float] = []
    step = start_step
    end = min(opts.steps, opts.stop_at or opts.steps)
    for step in range(start_step, end):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, opts)
        x = next(it).to(device, non_blocking=True)
        if opts.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        probe.arm((step + 1) % opts.log_every == 0)
        terms = module(x)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        grad_norms.append(float(torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)))
        opt.step()
        for k in ("total", "forward", "reverse", "shift", "det"):
            sums[k] = sums.get(k, 0.0) + float(terms[k].detach())
        with torch.no_grad():
            sums["image_psnr"] = sums.get("image_psnr", 0.0) + psnr(
                quantize_8bit(terms["image"]), terms["target"]
            )
        done = step + 1
        if done % opts.log_every == 0 or done == opts.steps:
            n = done - last_step
            now = time.time()
            rate = n / max(now - last_t, 1e-9)
            rec = {k: v / n for k, v in sums.items()}
            rec.update(step=done, lr=lr_at(step, opts), it_s=rate, elapsed_s=elapsed0 + now - t0)
            rec.update(probe.read(terms["image"], grad_norms))
            grad_norms = []
            log(rec)
            if rank == 0:
                eta = (opts.steps - done) / max(rate, 1e-9)
                print(
                    f"step {done}/{opts.steps} loss {rec['total']:.1f} "
                    f"(f {rec['forward']:.1f} r {rec['reverse']:.1f} s {rec['shift']:.1f} "
                    f"d {rec['det']:.3f}) image {rec['image_psnr']:.2f} dB "
                    f"{rate:.2f} it/s ETA {eta / 60:.1f} min",
                    file=sys.stderr,
                    flush=True,
                )
            sums, last_t, last_step = {}, now, done
        if val_batch is not None and (done % opts.val_every == 0 or done == opts.steps):
            if rank == 0:
                metrics = validate(net, val_batch, device)
                metrics["step"] = done
                score = metrics["val_image_psnr"] + metrics["val_reverse_psnr"]
                log({"step": done, "elapsed_s": elapsed0 + time.time() - t0, **metrics})
                print(
                    f"validation @ {done}: image {metrics['val_image_psnr']:.2f} dB, "
                    f"reverse {metrics['val_reverse_psnr']:.2f} dB",
                    file=sys.stderr,
                    flush=True,
                )
                if score > best:
                    best = score
                    save_model(
                        net,
                        run / "best.safetensors",
                        {"step": str(done), "val": json.dumps(metrics)},
                    )
        out_of_time = opts.time_limit is not None and time.time() - t0 > opts.time_limit
        if world > 1 and opts.time_limit is not None:  # every process stops at the same step
            flag = torch.tensor([float(out_of_time)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if done % opts.ckpt_every == 0 or done == end or out_of_time:
            checkpoint(done)
        if out_of_time:
            if rank == 0:
                print(f"time limit reached: stopped at step {done}", file=sys.stderr)
            break
    if world > 1:
        dist.barrier()
    return metrics
