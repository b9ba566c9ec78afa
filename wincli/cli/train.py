"""``win train``: a Typer signature over ``wincli.train.TrainOptions`` (defaults and help text
live there; an option not given stays None so that ``--resume`` can tell given from default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wincli.cli.common import Preset, Task, Variant, app, guarded
from wincli.train.options import TrainOptions

H = TrainOptions.help


def _o(*names: str, field: str):
    return typer.Option(*names, help=H(field), show_default=False)


def _plain(options: dict) -> dict:
    """The options given (not None), as TrainOptions holds them: paths as strings, choices as
    their values."""
    given = {}
    for k, v in options.items():
        if v is None:
            continue
        if isinstance(v, Path):
            v = str(v)
        elif isinstance(v, list):
            v = [str(p) for p in v]
        elif hasattr(v, "value"):  # an Enum choice
            v = v.value
        given[k] = v
    return given


@app.command()
@guarded
def train(
    task: Annotated[Task | None, _o("--task", field="task")] = None,
    data: Annotated[list[Path] | None, _o("--data", field="data")] = None,
    val: Annotated[list[Path] | None, _o("--val", field="val")] = None,
    secrets: Annotated[int | None, _o("--secrets", field="secrets")] = None,
    scale: Annotated[int | None, _o("--scale", "-s", field="scale")] = None,
    variant: Annotated[Variant | None, _o("--variant", field="variant")] = None,
    preset: Annotated[Preset | None, _o("--preset", field="preset")] = None,
    steps: Annotated[int | None, _o("--steps", field="steps")] = None,
    batch: Annotated[int | None, _o("--batch", field="batch")] = None,
    patch: Annotated[int | None, _o("--patch", field="patch")] = None,
    lr: Annotated[float | None, _o("--lr", field="lr")] = None,
    warmup: Annotated[int | None, _o("--warmup", field="warmup")] = None,
    seed: Annotated[int | None, _o("--seed", field="seed")] = None,
    clip: Annotated[float | None, _o("--clip", field="clip")] = None,
    device: Annotated[str | None, _o("--device", field="device")] = None,
    threads: Annotated[int | None, _o("--threads", field="threads")] = None,
    workers: Annotated[int | None, _o("--workers", field="workers")] = None,
    init: Annotated[str | None, _o("--init", field="init")] = None,
    couplings: Annotated[int | None, _o("--couplings", field="couplings")] = None,
    growth: Annotated[int | None, _o("--growth", field="growth")] = None,
    grow: Annotated[list[str] | None, _o("--grow", field="grow")] = None,
    precision: Annotated[str | None, _o("--precision", field="precision")] = None,
    lambda_forward: Annotated[float | None, _o("--lambda-forward", field="lambda_forward")] = None,
    holdout: Annotated[int | None, _o("--holdout", field="holdout")] = None,
    val_every: Annotated[int | None, _o("--val-every", field="val_every")] = None,
    val_size: Annotated[int | None, _o("--val-size", field="val_size")] = None,
    ckpt_every: Annotated[int | None, _o("--ckpt-every", field="ckpt_every")] = None,
    log_every: Annotated[int | None, _o("--log-every", field="log_every")] = None,
    channels_last: Annotated[
        bool | None, _o("--channels-last/--no-channels-last", field="channels_last")
    ] = None,
    ste: Annotated[str | None, _o("--ste", field="ste")] = None,
    jpeg: Annotated[str | None, _o("--jpeg", field="jpeg")] = None,
    jpeg_share: Annotated[float | None, _o("--jpeg-share", field="jpeg_share")] = None,
    restorer: Annotated[int | None, _o("--restorer", field="restorer")] = None,
    out: Annotated[Path | None, _o("--out", field="out")] = None,
    resume: Annotated[Path | None, _o("--resume", field="resume")] = None,
    init_from: Annotated[str | None, _o("--init-from", field="init_from")] = None,
    stop_at: Annotated[int | None, _o("--stop-at", field="stop_at")] = None,
    time_limit: Annotated[float | None, _o("--time-limit", field="time_limit")] = None,
    encoder_for: Annotated[str | None, _o("--encoder-for", field="encoder_for")] = None,
    encoder_width: Annotated[int | None, _o("--encoder-width", field="encoder_width")] = None,
    encoder_blocks: Annotated[int | None, _o("--encoder-blocks", field="encoder_blocks")] = None,
    encoder_bound: Annotated[float | None, _o("--encoder-bound", field="encoder_bound")] = None,
    stored_weight: Annotated[float | None, _o("--stored-weight", field="stored_weight")] = None,
    stored_slack: Annotated[float | None, _o("--stored-slack", field="stored_slack")] = None,
) -> None:
    """Train a WIN model on folders of images (GPU when present; torchrun for several)."""
    given = _plain(locals())
    from wincli.train import train as run

    metrics = run(TrainOptions(**given))
    if metrics:
        typer.echo(
            " ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
            )
        )
