"""``win train``: the Typer signature over ``wincli.train.TrainOptions``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wincli.cli.common import (
    Preset,
    ScaleOpt,
    Task,
    Variant,
    app,
    guarded,
)


@app.command()
@guarded
def train(
    task: Annotated[Task, typer.Option("--task", help="What to train.")] = Task.rescaling,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="Training image folder (repeatable).")
    ] = None,
    val: Annotated[
        list[Path] | None, typer.Option("--val", help="Validation folder (default: hold out).")
    ] = None,
    secrets: Annotated[int, typer.Option("--secrets", help="Hiding: 1-4 secrets.")] = 1,
    scale: ScaleOpt = 2,
    variant: Annotated[Variant, typer.Option("--variant")] = Variant.win,
    preset: Annotated[Preset, typer.Option("--preset")] = Preset.cpu,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Total steps (default 10000).")
    ] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="Default 8 (CPU) / 16 (GPU).")
    ] = None,
    patch: Annotated[
        int | None, typer.Option("--patch", help="Default 64 (CPU) / 128 (GPU).")
    ] = None,
    lr: Annotated[
        float | None, typer.Option("--lr", help="Peak LR; default 1e-3 cpu (x4: 3e-4), 2e-4 paper.")
    ] = None,
    warmup: Annotated[int, typer.Option("--warmup")] = 200,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[
        str | None, typer.Option("--device", help="auto (default), cpu, cuda or mps.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", help="CPU threads (default 0 = torch's choice).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Data loader processes (default 0).")
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            "--init", help="task (data-driven start) or orthogonal; default orthogonal for hiding."
        ),
    ] = None,
    couplings: Annotated[
        int | None,
        typer.Option(
            "--couplings", help="Override the preset: couplings per WIM (WIN-Naive: in all)."
        ),
    ] = None,
    growth: Annotated[
        int | None, typer.Option("--growth", help="Override the preset: dense-block growth.")
    ] = None,
    lambda_forward: Annotated[
        float | None, typer.Option("--lambda-forward", help="Forward loss weight (default 2).")
    ] = None,
    holdout: Annotated[int, typer.Option("--holdout", help="Images held out for validation.")] = 6,
    val_every: Annotated[int | None, typer.Option("--val-every", help="Default 500.")] = None,
    ckpt_every: Annotated[int | None, typer.Option("--ckpt-every", help="Default 250.")] = None,
    log_every: Annotated[int | None, typer.Option("--log-every", help="Default 25.")] = None,
    channels_last: Annotated[bool, typer.Option("--channels-last")] = False,
    ste: Annotated[
        str,
        typer.Option(
            "--ste",
            help="Rounding gradient: clamp (none outside [0, 1]; default) or identity (the old "
            "estimator that let hiding training diverge).",
        ),
    ] = "clamp",
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path("runs/win"),
    resume: Annotated[Path | None, typer.Option("--resume", help="Continue this run.")] = None,
    init_from: Annotated[
        str | None,
        typer.Option(
            "--init-from",
            help="Start from a shipped checkpoint (registry name or .safetensors file) with a "
            "fresh optimizer and warm-up.",
        ),
    ] = None,
    stop_at: Annotated[
        int | None, typer.Option("--stop-at", help="Checkpoint and stop at this step.")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", help="Checkpoint and stop after this many seconds."),
    ] = None,
) -> None:
    """Train a WIN model on folders of images (GPU when present; torchrun for several)."""
    from wincli.errors import InputError
    from wincli.train import TrainOptions
    from wincli.train import train as run

    if not resume and not data:
        raise InputError("--data DIR is required (or --resume RUNDIR)")
    if init not in (None, "task", "orthogonal"):
        raise InputError("--init must be task or orthogonal")
    if ste not in ("clamp", "identity"):
        raise InputError("--ste must be clamp or identity")
    opts = TrainOptions(
        task=task.value,
        secrets=secrets,
        scale=scale,
        variant=variant.value,
        preset=preset.value,
        data=[str(d) for d in data or []],
        val=[str(v) for v in val or []],
        holdout=holdout,
        lambda_forward=lambda_forward,
        steps=steps,
        batch=batch,
        patch=patch,
        lr=lr,
        warmup=warmup,
        seed=seed,
        device=device,
        threads=threads,
        workers=workers,
        init=init,
        couplings=couplings,
        growth=growth,
        val_every=val_every,
        ckpt_every=ckpt_every,
        log_every=log_every,
        channels_last=channels_last,
        ste=ste,
        out=str(out),
        resume=str(resume) if resume else None,
        init_from=init_from,
        stop_at=stop_at,
        time_limit=time_limit,
    )
    metrics = run(opts)
    if metrics:
        typer.echo(
            " ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
            )
        )
