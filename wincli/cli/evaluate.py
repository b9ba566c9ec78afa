"""``win eval``: runs ``wincli.evaluate`` on a folder and prints or writes the rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wincli.cli.common import (
    DeviceOpt,
    ModelOpt,
    ScaleOpt,
    Task,
    TileOpt,
    Variant,
    VerboseOpt,
    WeightsOpt,
    app,
    check_scale,
    expand_inputs,
    guarded,
    load_converter,
)

CropOpt = Annotated[
    int | None,
    typer.Option("--crop", help="Center crop size (the registry's hiding protocol: 512)."),
]
BaselinesOpt = Annotated[
    bool, typer.Option("--baselines-only", help="Only the classical baselines.")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write rows to .csv or .json.")]
SaveOpt = Annotated[
    Path | None, typer.Option("--save-images", help="Outputs + x20 residual maps here.")
]
RobustWeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--robust-weights",
        help="A JPEG-robust .safetensors to measure beside the model (default: the "
        "registry's robust model for the task, where one ships).",
    ),
]
FrontierOpt = Annotated[
    bool,
    typer.Option(
        "--frontier/--no-frontier",
        help="Also the codec-in-LSB schemes, rate-distortion and JPEG robustness rows.",
    ),
]


@app.command("eval")
@guarded
def eval_cmd(
    task: Annotated[Task, typer.Option("--task", help="What to evaluate.")],
    data: Annotated[list[Path], typer.Option("--data", help="Image folder (repeatable).")],
    secrets: Annotated[int, typer.Option("--secrets", help="Hiding: 1-4 secrets.")] = 1,
    scale: ScaleOpt = 2,
    crop: CropOpt = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    baselines_only: BaselinesOpt = False,
    per_image: Annotated[bool, typer.Option("--per-image/--means-only")] = True,
    out: OutOpt = None,
    save_images: SaveOpt = None,
    verbose: VerboseOpt = False,
    robust_weights: RobustWeightsOpt = None,
    frontier: FrontierOpt = True,
) -> None:
    """The paper's protocol on a folder: PSNR / SSIM of WIN (8-bit and float) and baselines,
    and of the stored images after JPEG (the plain and the JPEG-robust model)."""
    from wincli import evaluate as E
    from wincli import report as R
    from wincli.errors import InputError
    from wincli.tasks import make_task

    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{out}: --out must end in .csv or .json")
    files = expand_inputs(list(data))
    if task == Task.rescaling:
        check_scale(scale)
    spec = make_task(task.value, secrets=secrets, scale=scale)
    if len(files) < spec.images_per_sample:
        raise InputError(f"{spec.name} needs at least {spec.images_per_sample} images")
    if save_images is not None and save_images.exists() and not save_images.is_dir():
        raise InputError(f"--save-images {save_images}: is a file; give a folder")
    conv = robust = None
    if not baselines_only:
        conv = load_converter(
            task.value, secrets=secrets, scale=scale, model=model, weights=weights,
            device=device, verbose=verbose,
            tile=tile if tile is not None else "0",  # the protocol: whole images
        )  # fmt: skip
        robust = _robust_converter(spec, robust_weights, device, model, weights is None)
    save = R.image_saver(save_images) if save_images else None
    rows = E.evaluate(
        conv, spec, files, crop=crop, save=save, frontier=frontier, jpeg=True, robust=robust
    )
    means = print_tables(rows, per_image, f"LSB {max(1, 4 // secrets)}-bit")
    if out is not None:
        R.write_rows(out, rows, means)
        typer.echo(str(out))


def _robust_converter(spec, robust_weights, device, model, registry: bool):
    """The robust model ``win eval`` measures beside the model: ``--robust-weights``, else the
    registry's for the task when the model is the registry's too; None when there is none."""
    from wincli.converter import Converter
    from wincli.weights import robust_tasks

    kw = dict(variant=model.value, device=device, tile=None)
    if robust_weights is not None:
        conv = Converter.load(spec, **kw, weights=str(robust_weights))
        conv.robust = True  # measured as robust whether or not it has a restorer
        return conv
    if registry and spec.name in robust_tasks():
        return Converter.load(spec, **kw, robust=True)
    return None


def _cells(m: dict, keys: list[str]) -> list[str]:
    def fmt(k):
        v = m.get(k)
        if v is None:
            return "-"
        return f"{v:,.0f}" if "bytes" in k else f"{v:.4f}" if "ssim" in k else f"{v:.2f}"

    return [fmt(k) for k in keys]


def print_tables(rows, per_image: bool, lsb_shown: str) -> dict:
    """The per-image table (WIN rows and one LSB row) and the means table; returns the means."""
    from rich.console import Console
    from rich.table import Table

    from wincli.evaluate import summary

    console = Console()
    keys = list(dict.fromkeys(k for r in rows for k in r.metrics))
    if per_image:
        t = Table("image", "method", *keys, title="per image (the means table has every row)")
        for r in rows:
            if r.method.startswith("WIN") and "JPEG" not in r.method or r.method == lsb_shown:
                t.add_row(r.image, r.method, *_cells(r.metrics, keys))
        console.print(t)
    means = summary(rows)
    t = Table("method", *keys, title=f"mean over {len({r.image for r in rows})} images")
    for method, m in means.items():
        t.add_row(method, *_cells(m, keys))
    console.print(t)
    return means
