"""Training the one-pass encoder (``wincli.encoder``) against a frozen invertible network.

>>> train_encoder(EncoderOptions(model="rescaling-x2-win-cpu", data=["../shared/data/train"],
...                              out="runs/enc-x2"))                    # doctest: +SKIP

Random crops of the training photos (the same held-out split as `win train`) go through the
frozen forward pass, the encoder, the straight-through 8-bit rounding and the frozen inverse; the
loss is the refinement's objective (``wincli.refine.stored_objective``). Every ``val_every`` steps
the held-out photos (center crops, 8-bit, whole images) are scored; ``best.safetensors`` keeps
the best restored PSNR whose stored image is no worse than ``stored_floor`` dB below the forward
output's. ``state.json`` (options, step) and ``optimizer.safetensors`` let ``resume`` go on
exactly; ``time_limit`` checkpoints and stops a run early, at any step. The command line is
``win train --encoder-for NAME`` (:func:`encoder_options`).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from wincli.checkpoint import load_optimizer, load_state, optimizer_tensors, save_tensors
from wincli.encoder import build_encoder, inverse_id, read_encoder, save_encoder
from wincli.errors import InputError
from wincli.fs import atomic_write
from wincli.imaging import quantize_8bit, round8
from wincli.precision import autocast, training_precision
from wincli.refine import stored_objective


@dataclass
class EncoderOptions:
    model: str  # registry name or .safetensors of the invertible network it serves
    data: list[str] = field(default_factory=list)
    out: str = "runs/encoder"
    steps: int = 3000
    batch: int = 8
    patch: int = 128
    lr: float = 1e-3
    warmup: int = 100
    stored_weight: float | None = None  # None: the task's refinement default
    width: int = 48
    blocks: int = 4
    bound: float = 0.0  # EncoderConfig.bound
    clip: float = 1.0  # gradient norm clipping (0: none)
    holdout: int = 6
    val_crop: int = 256
    val_every: int = 250
    stored_slack: float = 0.5  # best: stored PSNR at most this far below the forward output's
    seed: int = 0
    threads: int | None = None  # None: all cores (or $OMP_NUM_THREADS), as everywhere in win
    init_from: str | None = None  # an encoder file to continue from (or to start from)
    precision: str = "auto"  # of the frozen network's passes (win train --precision)
    time_limit: float | None = None  # seconds: checkpoint and stop (this invocation only)


@torch.no_grad()
def score(net, enc, batch: torch.Tensor) -> dict[str, float]:
    """Mean 8-bit stored / restored PSNR over ``batch`` (one image at a time, both sides rounded
    to 8 bits as ``wincli.metrics.psnr`` measures every number); ``enc`` None: the forward
    output as it is."""
    from wincli.metrics import psnr

    task = net.config.spec
    stored_p, restored_p = [], []
    for x in batch.split(1):
        y0 = task.to_image(net(x))
        stored = round8(enc(x, y0) if enc is not None else y0)
        rec = net.inverse(task.from_image(stored)).clamp(0.0, 1.0)
        got = torch.cat(task.restored(rec), 1)
        restored_p.append(psnr(got, torch.cat(task.restored(x), 1)))
        stored_p.append(psnr(stored, task.target(x)))
    n = len(restored_p)
    return {"stored_psnr": sum(stored_p) / n, "restored_psnr": sum(restored_p) / n}


def _lr(step: int, o: EncoderOptions) -> float:
    if step < o.warmup:
        return o.lr * (step + 1) / o.warmup
    t = (step - o.warmup) / max(1, o.steps - o.warmup)
    return o.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def _setup(o: EncoderOptions):
    from wincli.refine import default_refine
    from wincli.train.data import (
        PatchDataset,
        find_images,
        load_images,
        split_holdout,
        validation_batch,
    )
    from wincli.train.loop import load_init_from

    net = load_init_from(o.model).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    task = net.config.spec
    if o.stored_weight is None:
        o.stored_weight = default_refine(task).stored_weight
    train_paths, val_paths = split_holdout(find_images(o.data), o.holdout)
    data = PatchDataset(load_images(train_paths), net.config, o.patch, o.seed)
    val = validation_batch(load_images(val_paths), net.config, o.val_crop)
    if not o.init_from:
        return net, task, data, val, build_encoder(net, o.width, o.blocks, o.bound)
    # Its weights, in this run's shape (a bound may be added). An encoder of another network of
    # the same task is a starting point too: a grown network computes what its source did.
    src = read_encoder(o.init_from)
    enc = build_encoder(net, src.config.width, src.config.blocks, o.bound or src.config.bound)
    fits = (src.config.c_in, src.config.c_out, src.config.down) == (
        enc.config.c_in,
        enc.config.c_out,
        enc.config.down,
    )
    if not fits:
        raise InputError(f"--init-from {o.init_from}: an encoder of another task than {o.model}'s")
    enc.load_state_dict(src.state_dict())
    return net, task, data, val, enc


def _step(net, enc, opt, x: torch.Tensor, o: EncoderOptions, precision) -> torch.Tensor:
    """One optimizer step of the encoder on the batch ``x``; the loss before it."""
    task, cpu = net.config.spec, torch.device("cpu")
    with torch.no_grad(), autocast(cpu, precision):
        y0 = task.to_image(net(x)).float()
        target = task.target(x)
        wanted = task.restored(x)
    stored = quantize_8bit(enc(x, y0))  # the encoder and the 8-bit grid stay float32
    with autocast(cpu, precision):
        loss, _ = stored_objective(net, stored, wanted, target, o.stored_weight)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if o.clip > 0:
        torch.nn.utils.clip_grad_norm_(enc.parameters(), o.clip)
    opt.step()
    return loss


def _checkpoint(net, enc, opt, val, base, o: EncoderOptions, run: dict) -> dict:
    """Score the encoder on ``val`` and write last / best / optimizer / state.json for step
    ``run["step"]``; the log record."""
    out, done = Path(o.out), run["step"]
    enc.eval()
    s = score(net, enc, val)
    enc.train()
    ok = s["stored_psnr"] >= base["stored_psnr"] - o.stored_slack
    rec = {"step": done, "loss": run["loss"].item(), **s, "s": run["s"]}
    meta = {"serves_name": net.config.name, "model": o.model, "steps": done}
    save_encoder(enc, out / "last.safetensors", run["serves"], meta)
    best = run["best"]
    if ok and (best is None or s["restored_psnr"] > best["restored_psnr"]):
        run["best"] = rec
        save_encoder(enc, out / "best.safetensors", run["serves"], meta)
    save_tensors(optimizer_tensors(opt), out / "optimizer.safetensors", {"step": str(done)})
    text = json.dumps({"options": {**asdict(o), "time_limit": None}, "step": done,
                       "best": run["best"]})  # fmt: skip
    atomic_write(out / "state.json", lambda tmp, text=text: Path(tmp).write_text(text))
    return rec


def train_encoder(o: EncoderOptions, resume: bool = False) -> dict[str, float]:
    """Train (or with ``resume`` go on with the run in ``o.out``, under this call's
    ``o.time_limit``) the encoder; the best validation record."""
    if o.threads is not None:
        if o.threads < 1:
            raise ValueError(f"--threads must be at least 1, not {o.threads}")
        torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    out = Path(o.out)
    out.mkdir(parents=True, exist_ok=True)
    if resume:
        state = json.loads((out / "state.json").read_text())
        o = EncoderOptions(**{**state["options"], "time_limit": o.time_limit})
        o.init_from = str(out / "last.safetensors")
    net, task, data, val, enc = _setup(o)
    precision = training_precision(o.precision, torch.device("cpu"))
    opt = torch.optim.Adam(enc.parameters(), lr=o.lr)
    base = score(net, None, val)
    run = {"step": 0, "best": None, "serves": inverse_id(net)}
    if resume:
        load_optimizer(opt, load_state(out / "optimizer.safetensors"))
        run.update(step=state["step"], best=state["best"])
    log = (out / "log.jsonl").open("a")
    log.write(json.dumps({"forward_output": base, "options": asdict(o)}) + "\n")
    log.flush()
    t0 = time.time()
    for step in range(run["step"], o.steps):
        idx = range(step * o.batch, (step + 1) * o.batch)
        for g in opt.param_groups:
            g["lr"] = _lr(step, o)
        loss = _step(net, enc, opt, torch.stack([data[i] for i in idx]), o, precision)
        elapsed = time.time() - t0
        late = o.time_limit is not None and elapsed > o.time_limit
        run.update(step=step + 1, loss=loss, s=round(elapsed, 1))
        if run["step"] % o.val_every == 0 or run["step"] == o.steps or late:
            log.write(json.dumps(_checkpoint(net, enc, opt, val, base, o, run)) + "\n")
            log.flush()
        if late:
            print(f"time limit reached: stopped at step {run['step']}", file=sys.stderr)
            break
    log.close()
    return run["best"] or {}


# win train's options -> EncoderOptions' fields (the others do not apply to an encoder run)
FROM_TRAIN = {
    "encoder_for": "model",
    "data": "data",
    "out": "out",
    "steps": "steps",
    "batch": "batch",
    "patch": "patch",
    "lr": "lr",
    "warmup": "warmup",
    "clip": "clip",
    "holdout": "holdout",
    "val_every": "val_every",
    "val_size": "val_crop",
    "seed": "seed",
    "threads": "threads",
    "init_from": "init_from",
    "encoder_width": "width",
    "encoder_blocks": "blocks",
    "encoder_bound": "bound",
    "stored_weight": "stored_weight",
    "stored_slack": "stored_slack",
    "precision": "precision",
    "time_limit": "time_limit",
}


def encoder_options(given: dict) -> EncoderOptions:
    """The :class:`EncoderOptions` of ``win train --encoder-for`` from the options given on its
    command line (name -> value, None = not given); InputError for one that does not apply."""
    stray = sorted(k for k, v in given.items() if v not in (None, []) and k not in FROM_TRAIN)
    stray = [k for k in stray if k != "resume"]
    if stray:
        names = ", ".join("--" + k.replace("_", "-") for k in stray)
        raise InputError(f"{names}: not an option of an encoder run (--encoder-for)")
    kw = {FROM_TRAIN[k]: v for k, v in given.items() if k in FROM_TRAIN and v not in (None, [])}
    if kw.get("threads") is not None and kw["threads"] < 1:
        raise InputError(f"--threads must be positive, not {kw['threads']}")
    return EncoderOptions(**kw)


def is_encoder_run(run: Path) -> bool:
    """Whether the run folder ``run`` holds an encoder run (its state names the network)."""
    state = Path(run) / "state.json"
    if not state.is_file():
        return False
    return "model" in json.loads(state.read_text()).get("options", {})
