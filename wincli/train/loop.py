"""The training loop behind ``win train``.

>>> opts = TrainOptions(task="rescaling", scale=2, preset="cpu", data=["imgs/"], steps=2000,
...                     out="runs/x2")                                  # doctest: +SKIP
>>> train(opts)            # resume later with train(TrainOptions(resume="runs/x2"))

Recipe (docs/method.md, "Tasks and losses"): AdamW (0.9, 0.999, weight decay 1e-4), linear
warm-up then cosine decay, gradient-norm clip 10, loss weights 2 / 1 / 0.1 / 1, 8-bit
straight-through rounding between forward and inverse, 8 flips / rotations, secrets cropped from
other images.
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
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from wincli.checkpoint import (
    load_optimizer,
    load_state,
    optimizer_tensors,
    save_model,
    save_tensors,
)
from wincli.device import pick_device
from wincli.errors import InputError
from wincli.fs import atomic_write
from wincli.imaging import quantize_8bit
from wincli.metrics import psnr
from wincli.models import (
    InvertibleNet,
    ModelConfig,
    build_from_config,
    count_params,
    preset_config,
)
from wincli.precision import Precision, autocast, training_precision
from wincli.train.data import (
    PatchDataset,
    StepSampler,
    find_images,
    load_images,
    split_holdout,
    validation_batch,
)
from wincli.train.diagnose import Probe
from wincli.train.objective import LossWeights, compute_losses
from wincli.train.options import TrainOptions, check_options, resolve, resumed


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

    def __init__(
        self, net: nn.Module, weights: LossWeights, quantize: bool, ste: str = "clamp", channel=None
    ):
        super().__init__()
        self.net, self.weights, self.quantize, self.ste = net, weights, quantize, ste
        self.channel = channel

    def forward(self, x: torch.Tensor):
        return compute_losses(self.net, x, self.weights, self.quantize, self.ste, self.channel)


VAL_QUALITIES = (90, 75)  # a --jpeg run is also validated after these (real Pillow JPEG)


@torch.no_grad()
def validate(
    net, batch: torch.Tensor, device: torch.device, qualities: tuple[int, ...] = ()
) -> dict[str, float]:
    """PSNR (dB, ``wincli.evaluate.measure``) of the 8-bit forward image against its target
    and of the reconstruction (hiding: the secrets) from that rounded image, on center crops;
    with ``qualities``, also of the reconstruction after a Pillow JPEG of the image at each
    (``val_reverse_psnr_q90``)."""
    from wincli.evaluate import measure
    from wincli.jpeg import pillow_jpeg

    net.eval()
    task = net.config.spec
    stored_key, restored_key = f"{task.stored_name}_psnr", f"{task.restored_name}_psnr"
    sums: dict[str, float] = {}
    for i in range(batch.shape[0]):
        x = batch[i : i + 1].to(device)
        image = quantize_8bit(task.to_image(net(x)))
        received = {"": image} | {f"_q{q}": pillow_jpeg(image, q) for q in qualities}
        for suffix, got in received.items():
            restored = task.restored(net.inverse(task.from_image(got)))
            m = measure(task, x, got, restored, metrics=(psnr,))
            if not suffix:
                sums["val_image_psnr"] = sums.get("val_image_psnr", 0.0) + m[stored_key]
            key = f"val_reverse_psnr{suffix}"
            sums[key] = sums.get(key, 0.0) + m[restored_key]
    net.train()
    return {k: v / batch.shape[0] for k, v in sums.items()}


def validation_score(m: dict[str, float]) -> float:
    """What ``best.safetensors`` maximises: the stored image's PSNR plus the mean restored
    PSNR over the lossless file and every validated JPEG quality."""
    restored = [v for k, v in m.items() if k.startswith("val_reverse_psnr")]
    return m["val_image_psnr"] + sum(restored) / len(restored)


def _init_record(source: str):
    """The registry record an ``--init-from`` names, or None when it names a file."""
    from wincli.weights import load_registry

    if Path(source).suffix == ".safetensors" or Path(source).exists():
        return None
    records = {r.name: r for r in load_registry()}
    if source not in records:
        known = ", ".join(sorted(records)) or "none"
        raise InputError(f"--init-from {source}: not a file or a registry name (known: {known})")
    return records[source]


def load_init_from(source: str):
    """The network a ``--init-from`` run starts from: a registry name or a safetensors file.

    Registry files are hash-checked; the architecture comes from the record or the file.
    """
    from wincli.weights import load_record, load_weights_file

    record = _init_record(source)
    if record is None:
        return load_weights_file(source)
    net, _, _ = load_record(record, allow_download=False)
    return net


def init_lambda_forward(source: str) -> float | None:
    """The forward-loss weight the ``--init-from`` checkpoint was trained with: its registry
    recipe's, or the options of the run folder the file sits in; None when unknown.

    A continuation that silently fell back to the default (2) instead of the recipe's weight
    (10 for decolorization) traded 1.9 dB of gray image for 0.2 dB of colour."""
    record = _init_record(source)
    if record is not None:
        value = record.recipe.get("lambda_forward")
    else:
        try:
            state = json.loads((Path(source).parent / "state.json").read_text())
            value = state["options"].get("lambda_forward")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
    return float(value) if isinstance(value, (int, float)) else None


@dataclass
class Run:
    """What one training invocation works with, built by ``_start``."""

    opts: TrainOptions
    dir: Path
    start_step: int
    saved: dict
    device: torch.device
    rank: int
    world: int
    precision: Precision
    notes: list[str] = dataclasses.field(default_factory=list)  # said once the run starts


def _start(opts: TrainOptions) -> Run:
    """Options resolved (a resumed run: its saved recipe plus today's runtime options), the
    device and the process group set up."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    check_options(opts)
    saved: dict = {}
    notes: list[str] = []
    if opts.resume:
        run = Path(opts.resume)
        state_file = run / "state.json"
        if not state_file.exists():
            raise InputError(f"{run}: no state.json to resume from")
        saved = json.loads(state_file.read_text())
        opts = resumed(saved["options"], opts, run)
        start_step = int(saved["step"])
    else:
        if not opts.data:
            raise InputError("--data DIR is required (or --resume RUNDIR)")
        run = Path(opts.out or "runs/win")
        start_step = 0
        if (run / "state.json").exists():
            raise InputError(f"{run} already holds a run; use --resume {run} or another --out")
        if opts.init_from and opts.lambda_forward is None:
            inherited = init_lambda_forward(opts.init_from)
            if inherited is not None:
                opts = dataclasses.replace(opts, lambda_forward=inherited)
                notes.append(
                    f"lambda_forward {inherited:g}, as {opts.init_from} was trained "
                    "(--lambda-forward changes it)"
                )
    device = pick_device(opts.device or "auto")
    opts = resolve(opts, device)
    try:
        precision = training_precision(opts.precision, device)
    except ValueError as e:
        raise InputError(str(e)) from None
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    if opts.threads:
        torch.set_num_threads(opts.threads)
    torch.manual_seed(opts.seed)
    return Run(opts, run, start_step, saved, device, rank, world, precision, notes)


def _architecture(r: Run):
    """(config, starting network or None): a resumed run's saved architecture, the
    ``--init-from`` checkpoint's own, or the preset with its overrides."""
    opts = r.opts
    if opts.resume and "config" in r.saved:
        return ModelConfig.from_dict(r.saved["config"]), None
    cfg = preset_config(opts.spec, variant=opts.variant, preset=opts.preset)
    if opts.init_from and not opts.resume:
        start_net = load_init_from(opts.init_from)
        got = start_net.config
        if not got.same_io(cfg):
            raise InputError(f"--init-from {opts.init_from}: is {got.name}, not {cfg.name}")
        start_net = _grown(r, start_net)
        cfg = start_net.config  # the checkpoint's own widths, growth, couplings
        if opts.restorer is not None and opts.restorer != cfg.restorer:
            cfg = dataclasses.replace(cfg, restorer=opts.restorer)
            if opts.restorer:
                r.notes.append(f"added a restorer of width {opts.restorer} (the identity at first)")
        return cfg, start_net
    if opts.couplings:
        cfg = dataclasses.replace(cfg, couplings=opts.couplings, naive_couplings=opts.couplings)
    if opts.growth:
        cfg = dataclasses.replace(cfg, growth=opts.growth)
    if opts.restorer:
        cfg = dataclasses.replace(cfg, restorer=opts.restorer)
    return cfg, None


def _grown(r: Run, start_net):
    """The ``--init-from`` network grown as ``--grow``, ``--couplings`` and ``--growth`` ask,
    computing what it computed (``wincli.models.grow``)."""
    from wincli.models.grow import describe, grow, grow_targets

    opts = r.opts
    specs = list(opts.grow or [])
    specs += [f"{k}={getattr(opts, k)}" for k in ("growth",) if getattr(opts, k)]
    if opts.couplings:
        specs.append(f"{_coupling_key(start_net.config)}={opts.couplings}")
    if not specs:
        return start_net
    try:
        before = start_net.config
        start_net = grow(start_net, **grow_targets(before, specs))
    except ValueError as e:
        raise InputError(f"--grow {' '.join(specs)}: {opts.init_from}: {e}") from None
    change = describe(before, start_net.config)
    if change != "nothing":
        r.notes.append(f"grew {change} (the function is unchanged until the first step)")
    return start_net


def _coupling_key(config) -> str:
    return "naive_couplings" if config.variant == "win-naive" else "couplings"


def _data(r: Run, cfg):
    """(loader from the run's step, validation batch or None, training image count)."""
    opts = r.opts
    paths = find_images(opts.data)
    if opts.val:
        train_paths, val_paths = paths, find_images(opts.val)
    else:
        train_paths, val_paths = split_holdout(paths, opts.holdout)
    images = load_images(train_paths)
    val_images = []
    if val_paths:
        try:
            val_images = load_images(val_paths)
        except InputError:
            warnings.warn("no usable validation image; the run is not validated", stacklevel=2)
    dataset = PatchDataset(images, cfg, opts.patch, opts.seed)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=opts.batch,
        sampler=StepSampler(r.start_step, opts.batch, r.rank, r.world),
        num_workers=opts.workers,
        persistent_workers=opts.workers > 0,
    )
    val_batch = validation_batch(val_images, cfg, opts.val_size) if val_images else None
    return loader, val_batch, len(images), len(val_images)


def _network(r: Run, cfg, start_net, loader) -> InvertibleNet:
    """The network at its starting point: the run's latest weights, the ``--init-from``
    checkpoint, the task-aware start, or the orthogonal initialisation."""
    net = build_from_config(cfg)
    say = print if r.rank == 0 else (lambda *a, **k: None)
    if r.opts.resume:
        net.load_state_dict(load_state(r.dir / "model.safetensors"), strict=True)
    elif start_net is not None:
        missing, unexpected = net.load_state_dict(start_net.state_dict(), strict=False)
        new = [k for k in missing if not k.startswith("restorer.")]
        if new or (unexpected and cfg.restorer):  # only a restorer may be added or dropped
            raise InputError(f"--init-from {r.opts.init_from}: does not fit ({new or unexpected})")
        for note in r.notes:  # said once the run is known to start, not before a failure
            say(note, file=sys.stderr)
        say(f"starting from {r.opts.init_from} (fresh optimizer)", file=sys.stderr)
    elif r.opts.init == "task":
        dataset = loader.dataset
        warm = torch.stack([dataset[2**48 + i] for i in range(16)])  # not a training index
        fit = net.init_task_aware(warm, cfg.spec.target(warm))
        say(f"task-aware init: forward image starts at {fit:.2f} dB", file=sys.stderr)
    net.to(r.device)
    if r.opts.channels_last:
        net.to(memory_format=torch.channels_last)
    return net


class _Progress:
    """Running sums between log lines, the log file, checkpoints and the best model."""

    def __init__(self, r: Run, net, opt, cfg) -> None:
        self.r, self.net, self.opt, self.cfg = r, net, opt, cfg
        self.metrics: dict = r.saved.get("metrics", {})
        self.best = r.saved.get("best", -math.inf)
        self.elapsed0 = r.saved.get("elapsed_s", 0.0)
        self.t0 = self.last_t = time.time()
        self.last_step = r.start_step
        self.sums: dict[str, float] = {}
        self.grad_norms: list[float] = []

    def add(self, terms: dict, grad_norm: float) -> None:
        self.grad_norms.append(grad_norm)
        for k in ("total", "forward", "reverse", "shift", "det"):
            self.sums[k] = self.sums.get(k, 0.0) + float(terms[k].detach())
        with torch.no_grad():
            image_psnr = psnr(quantize_8bit(terms["image"]), terms["target"])
        self.sums["image_psnr"] = self.sums.get("image_psnr", 0.0) + image_psnr

    def log(self, record: dict) -> None:
        if self.r.rank == 0:
            with open(self.r.dir / "log.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    def report(self, done: int, lr: float, probe: Probe, image: torch.Tensor) -> None:
        """One log line (mean losses since the last one, rate, diagnostics)."""
        opts = self.r.opts
        n = done - self.last_step
        now = time.time()
        rate = n / max(now - self.last_t, 1e-9)
        rec = {k: v / n for k, v in self.sums.items()}
        rec.update(step=done, lr=lr, it_s=rate, elapsed_s=self.elapsed0 + now - self.t0)
        rec.update(probe.read(image, self.grad_norms))
        self.log(rec)
        if self.r.rank == 0:
            eta = (opts.steps - done) / max(rate, 1e-9)
            print(
                f"step {done}/{opts.steps} loss {rec['total']:.1f} "
                f"(f {rec['forward']:.1f} r {rec['reverse']:.1f} s {rec['shift']:.1f} "
                f"d {rec['det']:.3f}) image {rec['image_psnr']:.2f} dB "
                f"{rate:.2f} it/s ETA {eta / 60:.1f} min",
                file=sys.stderr,
                flush=True,
            )
        self.sums, self.grad_norms, self.last_t, self.last_step = {}, [], now, done

    def validate(self, done: int, val_batch) -> None:
        """Validation PSNRs; ``best.safetensors`` when their sum is the best so far."""
        if self.r.rank != 0:
            return
        qualities = VAL_QUALITIES if self.r.opts.jpeg else ()
        m = validate(self.net, val_batch, self.r.device, qualities)
        self.metrics = {**m, "step": done}
        self.log({"step": done, "elapsed_s": self.elapsed0 + time.time() - self.t0, **m})
        after = "".join(f", q{q} {m[f'val_reverse_psnr_q{q}']:.2f}" for q in qualities)
        print(
            f"validation @ {done}: image {m['val_image_psnr']:.2f} dB, "
            f"reverse {m['val_reverse_psnr']:.2f} dB{after}",
            file=sys.stderr,
            flush=True,
        )
        score = validation_score(m)
        if score > self.best:
            self.best = score
            meta = {"step": str(done), "val": json.dumps(self.metrics)}
            save_model(self.net, self.r.dir / "best.safetensors", meta)

    def checkpoint(self, step: int) -> None:
        """Model, optimizer and state.json (what ``--resume`` needs), each written atomically."""
        if self.r.rank != 0:
            return
        run, opts = self.r.dir, self.r.opts
        meta = {"step": str(step), "task": self.cfg.name, "preset": opts.preset}
        save_model(self.net, run / "model.safetensors", meta)
        save_tensors(
            optimizer_tensors(self.opt), run / "optimizer.safetensors", {"step": str(step)}
        )
        state = {
            "step": step,
            "options": dataclasses.asdict(opts),
            "config": self.cfg.to_dict(),
            "metrics": self.metrics,
            "best": self.best,
            "elapsed_s": self.elapsed0 + time.time() - self.t0,
        }
        text = json.dumps(state, indent=1)
        atomic_write(run / "state.json", lambda tmp: Path(tmp).write_text(text))


def _out_of_time(r: Run, t0: float) -> bool:
    """Past ``--time-limit``; with several processes, all stop at the same step."""
    late = r.opts.time_limit is not None and time.time() - t0 > r.opts.time_limit
    if r.world > 1 and r.opts.time_limit is not None:
        flag = torch.tensor([float(late)], device=r.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        late = bool(flag.item())
    return late


def _channel(opts: TrainOptions, r: Run):
    """The ``--jpeg`` channel of a run, or None (its draws follow the per-step seed)."""
    if not opts.jpeg:
        return None
    from wincli.jpeg import JpegChannel, parse_qualities

    low, high = parse_qualities(opts.jpeg)
    return JpegChannel(low, high, opts.jpeg_share)


def _announce(r: Run, cfg, net, n_train: int, n_val: int) -> None:
    o = r.opts
    print(
        f"{cfg.name} {cfg.variant} {o.preset}: {count_params(net):,} parameters, "
        f"{n_train} training images, {n_val} validation, device {r.device} "
        f"{r.precision.name}, "
        f"steps {r.start_step}->{o.steps}, batch {o.batch}x{o.patch}^2, lr {o.lr:g}",
        file=sys.stderr,
    )


def train(opts: TrainOptions) -> dict[str, float]:
    """Train (or resume) a network; returns the last validation metrics (``wincli.train.train``
    also trains encoders)."""
    r = _start(opts)
    opts = r.opts
    cfg, start_net = _architecture(r)
    loader, val_batch, n_train, n_val = _data(r, cfg)
    net = _network(r, cfg, start_net, loader)
    module = _LossModule(
        net, LossWeights(forward=opts.lambda_forward), opts.quantize, opts.ste, _channel(opts, r)
    )
    if r.world > 1:
        ids = [r.device.index] if r.device.type == "cuda" else None
        module = nn.parallel.DistributedDataParallel(module, device_ids=ids)
    opt = torch.optim.AdamW(
        net.parameters(), lr=opts.lr, betas=opts.betas, weight_decay=opts.weight_decay
    )
    if opts.resume:
        load_optimizer(opt, load_state(r.dir / "optimizer.safetensors"))
    if r.rank == 0:
        r.dir.mkdir(parents=True, exist_ok=True)
        _announce(r, cfg, net, n_train, n_val)
    progress, probe = _Progress(r, net, opt, cfg), Probe(net)
    it = iter(loader)
    net.train()
    end = min(opts.steps, opts.stop_at or opts.steps)
    for step in range(r.start_step, end):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, opts)
        x = next(it).to(r.device, non_blocking=True)
        if opts.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        probe.arm((step + 1) % opts.log_every == 0)
        torch.manual_seed(opts.seed * 1_000_003 + step * 7919 + r.rank)  # --ste, --jpeg draws
        with autocast(r.device, r.precision):  # weights, gradients and optimizer: float32
            terms = module(x)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        progress.add(terms, float(torch.nn.utils.clip_grad_norm_(net.parameters(), opts.clip)))
        opt.step()
        done = step + 1
        if done % opts.log_every == 0 or done == opts.steps:
            progress.report(done, lr_at(step, opts), probe, terms["image"])
        if val_batch is not None and (done % opts.val_every == 0 or done == opts.steps):
            progress.validate(done, val_batch)
        late = _out_of_time(r, progress.t0)
        if done % opts.ckpt_every == 0 or done == end or late:
            progress.checkpoint(done)
        if late:
            if r.rank == 0:
                print(f"time limit reached: stopped at step {done}", file=sys.stderr)
            break
    if r.world > 1:
        dist.barrier()
    return progress.metrics
