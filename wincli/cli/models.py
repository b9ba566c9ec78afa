"""``win models list | pull | verify``: the checkpoint registry from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from wincli.cli.common import (
    guarded,
    models_app,
)


@models_app.command("list")
@guarded
def models_list(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also the precision --precision auto picks for each model on this machine, "
            "and why (loads torch to look at the hardware).",
        ),
    ] = False,
) -> None:
    """Table of the registry: name, params, the PSNR that `win` gives by default, where the file
    would load from."""
    from rich.console import Console
    from rich.table import Table

    from wincli.weights import default_metrics, load_registry, where_from

    table = Table(
        "name", "default", "encoder", "params", "PSNR by default (8-bit files)",
        "12 MP s (store / restore)", "loads from",
        caption="default: the checkpoint each command uses unless given --weights (--robust: "
        "the one it uses with --robust, for images that will be shared as JPEG). encoder: a "
        "one-pass encoder chooses what downscale / decolorize store. PSNR: what the command "
        "stores and restores on the paper's sets (rescaling shaves the scale in pixels off the "
        "border), for a robust model also after a JPEG q90 of the stored file; `win eval` "
        "recomputes it; docs/models.md has every number. 12 MP s: seconds of the store and "
        "restore commands on a 12 MP photo, end to end on 2 cores (scripts/time_12mp.py); a "
        "task's default is the best model within 60 s.",
    )  # fmt: skip
    auto = _precision_column(table) if verbose else None
    table.columns[0].no_wrap = True  # a name is what one copies into --weights
    for rec in sorted(load_registry(), key=_listing_order):
        metrics = ", ".join(
            f"{set_name} {k.removesuffix('_psnr')} {v}"
            for set_name, entry in default_metrics(rec).items()
            for k, v in entry.items()
            if k.endswith("_psnr")
        )
        if rec.robust:
            metrics += "; after JPEG q90: " + ", ".join(
                f"{set_name} {k.removesuffix('_psnr')} {v}"
                for set_name, entry in rec.metrics.items()
                for k, v in entry.get("jpeg_q90", {}).items()
                if k.endswith("_psnr")
            )
        table.add_row(
            rec.name,
            "--robust" if rec.robust else "yes" if rec.default else "",
            "yes" if rec.encoder else "",
            f"{rec.params:,}",
            metrics or "-",
            _seconds(rec),
            where_from(rec).split(" (")[0],
            *([auto(rec)] if auto else []),
        )
    Console().print(table)


def _seconds(rec) -> str:
    t = rec.seconds_12mp
    return f"{t['store']:.0f} / {t['restore']:.0f}" if t else "-"


def _listing_order(rec) -> tuple:
    """Task order (hiding, rescaling, decolorization), then secrets / scale, robust last."""
    from wincli.tasks import TASKS

    rank = TASKS.index(rec.task) if rec.task in TASKS else len(TASKS)
    return (rank, rec.secrets or 0, rec.scale or 0, bool(rec.robust), rec.name)


def _precision_column(table):
    """Add the column of what ``--precision auto`` picks on this machine (and say why above the
    table); returns the function that fills it. Loads torch, so only for --verbose."""
    from wincli.device import pick_device
    from wincli.precision import describe_auto, pick_precision

    device = pick_device("auto")
    table.add_column("auto precision")
    table.title = describe_auto(device)
    table.caption += (
        " auto precision: what --precision auto picks for the model here (bf16 only where its "
        "measured bf16 loss is within bounds: scripts/bench_precision.py)."
    )
    return lambda rec: pick_precision("auto", device, rec.bf16_ok).name


@models_app.command("pull")
@guarded
def models_pull(
    name: Annotated[str | None, typer.Argument(help="A registry name (default: all).")] = None,
) -> None:
    """Fill the Hugging Face cache with the registry's checkpoints."""
    from wincli.weights import pull

    for line in pull(name):
        typer.echo(line)


@models_app.command("verify")
@guarded
def models_verify() -> None:
    """Check the sha256 of every checkpoint that can be found locally."""
    from wincli.errors import WeightsError
    from wincli.weights import verify_all

    bad = 0
    for name, status in verify_all():
        typer.echo(f"{name}: {status}")
        bad += status.startswith("FAILED")
    if bad:
        raise WeightsError(f"{bad} checkpoint(s) failed verification")
