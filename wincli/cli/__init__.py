"""The ``win`` command line: thin Typer commands over ``wincli.pipeline``.

    win hide cover.png secret.png -o stego.png --check
    win reveal stego.png -o revealed/
    win downscale photo.png --scale 2 -o small.png && win upscale small.png --scale 2
    win decolorize photo.png -o gray.png && win colorize gray.png

Heavy imports (torch) happen inside the commands so that ``win --help`` is instant. Every
``WincliError`` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from wincli import __version__
from wincli.errors import WincliError

app = typer.Typer(
    name="win",
    help="Reversible image conversion with Well-posed Invertible Networks (WIN).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(
    help="List, fetch and verify pretrained checkpoints.", no_args_is_help=True
)
app.add_typer(models_app, name="models")


class Variant(str, Enum):
    win = "win"
    naive = "win-naive"


class Task(str, Enum):
    hiding = "hiding"
    rescaling = "rescaling"
    decolorization = "decolorization"


class Preset(str, Enum):
    paper = "paper"
    cpu = "cpu"


ModelOpt = Annotated[Variant, typer.Option("--model", help="Network: win or win-naive.")]
WeightsOpt = Annotated[
    Path | None, typer.Option("--weights", help="A local .safetensors checkpoint.")
]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or mps.")]
TileOpt = Annotated[
    str | None,
    typer.Option(
        "--tile",
        help="Tile size in pixels, 'auto' (default: sized from free memory, at most 1 GiB of "
        "activations) or 0 (the whole image at once).",
    ),
]
HalfOpt = Annotated[bool, typer.Option("--half", help="float16 inference (CUDA only).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say which device and weights.")]
LossyOpt = Annotated[
    bool, typer.Option("--force-lossy", help="Allow a lossy output format (destroys hidden data).")
]
CheckOpt = Annotated[
    bool,
    typer.Option("--check", help="Re-read the written file, invert it and print the PSNR."),
]
ScaleOpt = Annotated[int, typer.Option("--scale", "-s", help="2 or 4.")]


class Method(str, Enum):
    win = "win"
    lsb = "lsb"


MethodOpt = Annotated[
    Method,
    typer.Option(
        "--method",
        help="win (the network) or lsb (secrets as WebP/JPEG, encrypted, in the cover's low bits).",
    ),
]
PassOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        help="lsb: passphrase (else $WIN_PASSPHRASE; none = authenticated, not secret).",
        show_default=False,
    ),
]
AskPassOpt = Annotated[
    bool, typer.Option("--ask-passphrase", help="lsb: prompt for the passphrase (not echoed).")
]


def _passphrase(given: str | None, ask: bool, confirm: bool = False) -> str | None:
    """--passphrase, else a prompt (--ask-passphrase), else $WIN_PASSPHRASE, else none."""
    import getpass
    import os

    from wincli.errors import InputError

    if given is not None:
        return given
    if ask:
        try:
            first = getpass.getpass("passphrase: ")
            if confirm and getpass.getpass("again: ") != first:
                raise InputError("the two passphrases differ")
        except EOFError:
            raise InputError("no passphrase given at the prompt") from None
        return first
    return os.environ.get("WIN_PASSPHRASE") or None


def _err(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


def _interrupt_on_signals() -> None:
    """SIGTERM and SIGHUP end a command the way Ctrl-C does: temp files are removed, nothing
    half-written is left, one line on stderr."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, handler)
            except ValueError:  # not the main thread (e.g. inside a test runner's thread)
                pass


def _no_collisions(files: list[Path], out: Path) -> None:
    """Several inputs into one folder: two with the same name would overwrite each other."""
    from wincli.errors import OutputError

    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:
            raise OutputError(
                f"{seen[f.stem]} and {f} would both be written as {out / f.stem}*; rename one "
                "or run them separately"
            )
        seen[f.stem] = f


def guarded(fn):
    """Turn every WincliError into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        def _warn(message, category, filename, lineno, file=None, line=None):
            typer.echo(f"warning: {message}", err=True)

        old = warnings.showwarning
        warnings.showwarning = _warn
        _interrupt_on_signals()
        try:
            return fn(*args, **kwargs)
        except WincliError as exc:
            _err(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _err("interrupted")
            raise typer.Exit(130) from None
        finally:
            warnings.showwarning = old

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"win {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Reversible image conversion with Well-posed Invertible Networks (WIN)."""


def _tile(value: str | None):
    from wincli.errors import InputError

    if value is None or value == "auto":
        return "auto"
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"--tile must be a number of pixels or 'auto', not {value!r}") from None
    if n == 0:
        return None
    if n < 32:
        raise InputError("--tile must be at least 32 pixels")
    return n


def _converter(
    task,
    *,
    secrets=1,
    scale=2,
    model=Variant.win,
    weights=None,
    device="auto",
    tile=None,
    half=False,
    verbose=False,
):
    from wincli.pipeline import Converter

    conv = Converter.load(
        task,
        secrets=secrets,
        scale=scale,
        variant=model.value,
        weights=str(weights) if weights else None,
        device=device,
        tile=_tile(tile),
        half=half,
    )
    if verbose:
        typer.echo(f"device: {conv.device}; weights: {conv.source}", err=True)
    if conv.note:
        typer.echo(f"note: {conv.note}", err=True)
    return conv


def _report(result, verbose: bool = True) -> None:
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for out in result.outputs:
        typer.echo(out)
    if result.check_psnr:
        parts = ", ".join(f"{k} {v:.2f} dB" for k, v in result.check_psnr.items())
        typer.echo(f"check (re-read from disk, 8-bit): {parts}")


def _expand_inputs(inputs: list[Path]) -> list[Path]:
    from wincli.errors import InputError
    from wincli.io import require_inputs
    from wincli.train.data import IMAGE_SUFFIXES

    require_inputs(inputs)
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(f"{p}: folder holds no images")
            out.extend(found)
        else:
            out.append(p)
    return out


@contextlib.contextmanager
def _progress(conv=None, files: int = 0):
    """A rich progress bar over files and tiles (on a terminal only); yields advance_file()."""
    from rich.progress import Progress

    with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
        job = bar.add_task("images", total=files) if files > 1 else None
        tiles = bar.add_task("tiles", total=None) if conv is not None and conv.tile else None
        if tiles is not None:
            conv.on_tile = lambda: bar.advance(tiles)
        try:
            yield (lambda: bar.advance(job)) if job is not None else (lambda: None)
        finally:
            if conv is not None:
                conv.on_tile = None


def _folder_jobs(covers: Path, secrets: list[Path], output: Path | None, pair: str):
    """[(cover, [secret per folder], target)] for ``win hide`` over folders."""
    from wincli.errors import InputError, OutputError

    if pair not in ("order", "name"):
        raise InputError(f"--pair must be order or name, not {pair!r}")
    if not all(p.is_dir() for p in secrets):
        raise InputError("a cover folder needs secret folders (one per secret)")
    if output is None or (output.exists() and not output.is_dir()):
        raise OutputError("a cover folder needs -o DIR (a folder for the stego images)")
    cover_files = _expand_inputs([covers])
    secret_files = [_expand_inputs([d]) for d in secrets]
    if pair == "name":
        by_name = [{f.stem: f for f in fs} for fs in secret_files]
        jobs = [
            (c, [m[c.stem] for m in by_name])
            for c in cover_files
            if all(c.stem in m for m in by_name)
        ]
    else:
        jobs = list(zip(cover_files, zip(*secret_files, strict=False), strict=False))
        jobs = [(c, list(s)) for c, s in jobs]
    if not jobs:
        raise InputError(f"no cover/secret pairs found (pairing by {pair})")
    _no_collisions([c for c, _ in jobs], output)
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{output}: cannot create the output folder ({exc.strerror})") from None
    return [(c, secs, output / f"{c.stem}.png") for c, secs in jobs]


def _is_dir(p: Path) -> bool:
    """``p.is_dir()`` that says False instead of raising (e.g. a name over 255 bytes)."""
    try:
        return p.is_dir()
    except OSError:
        return False


def _single_input(
    task: str, inputs: list[Path], out: Path | None, default_name, verb, **load
) -> None:
    """A one-input command over files or folders: check the inputs, load the model once, run
    ``verb(conv, input, output)`` on each file with a progress bar. Several inputs (or a folder)
    need ``out`` to be a folder; one file defaults to ``default_name(input)`` beside it."""
    from wincli.errors import OutputError

    files = _expand_inputs(inputs)  # before loading the model: bad input fails fast
    conv = _converter(task, **load)
    if len(files) == 1 and not inputs[0].is_dir() and (out is None or not _is_dir(out)):
        target = out if out is not None else files[0].with_name(default_name(files[0]))
        with _progress(conv):
            result = verb(conv, files[0], target)
        _report(result)
        return
    if out is None:
        raise OutputError("several inputs need -o DIR (a folder for the outputs)")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: several inputs need -o to be a folder")
    _no_collisions(files, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    with _progress(conv, len(files)) as advance:
        for f in files:
            _report(verb(conv, f, out / f"{f.stem}.png"))
            advance()


@app.command()
@guarded
def hide(
    cover: Annotated[Path, typer.Argument(help="Cover image.")],
    secrets: Annotated[list[Path], typer.Argument(help="1 to 4 secret images.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Stego PNG.")] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    verbose: VerboseOpt = False,
    method: MethodOpt = Method.win,
    bits: Annotated[int, typer.Option("--bits", help="lsb: low bits per cover channel, 1-4.")] = 1,
    codec: Annotated[
        str, typer.Option("--codec", help="lsb: auto (the better of the two), webp or jpeg.")
    ] = "auto",
    passphrase: PassOpt = None,
    ask_passphrase: AskPassOpt = False,
    fit: Annotated[
        str | None,
        typer.Option(
            "--fit",
            help="WIN: a secret of another aspect ratio than the cover: stretch, crop or pad "
            "(default: refuse when it differs by more than 3%).",
        ),
    ] = None,
    pair: Annotated[
        str,
        typer.Option(
            "--pair", help="Folders: pair covers and secrets by sorted 'order' or 'name'."
        ),
    ] = "order",
) -> None:
    """Hide 1-4 secret images inside COVER; the stego image looks like the cover.

    With folders (win hide COVERS/ SECRETS/ [SECRETS2/ ...] -o OUT/) every cover gets one
    secret from each folder, in one process with one model load; stegos are OUT/<cover>.png.
    """
    from wincli.errors import InputError
    from wincli.io import require_inputs
    from wincli.pipeline import hide_file, hide_lsb_file

    if not 1 <= len(secrets) <= 4:
        raise InputError(f"hide takes 1 to 4 secrets, got {len(secrets)}")
    require_inputs([cover, *secrets])
    if cover.is_dir():
        jobs = _folder_jobs(cover, secrets, output, pair)
        if method == Method.lsb:
            key = _passphrase(passphrase, ask_passphrase, confirm=True)
            for c, secs, target in jobs:
                _report(hide_lsb_file(c, secs, target, bits=bits, passphrase=key, codec=codec))
            return
        conv = _converter(
            "hiding", secrets=len(secrets), model=model, weights=weights, device=device,
            tile=tile, half=half, verbose=verbose,
        )  # fmt: skip
        with _progress(conv, len(jobs)) as advance:
            for c, secs, target in jobs:
                _report(
                    hide_file(conv, c, secs, target, force_lossy=force_lossy, check=check, fit=fit)
                )
                advance()
        return
    if any(p.is_dir() for p in secrets):
        raise InputError("secret folders need a cover folder (win hide COVERS/ SECRETS/ -o OUT/)")
    out = output or cover.with_name(f"{cover.stem}_stego.png")
    if method == Method.lsb:
        if codec not in ("auto", "webp", "jpeg"):
            raise InputError(f"--codec must be auto, webp or jpeg, not {codec!r}")
        if not 1 <= bits <= 4:
            raise InputError(f"--bits must be 1 to 4, not {bits}")
        result = hide_lsb_file(
            cover,
            secrets,
            out,
            bits=bits,
            passphrase=_passphrase(passphrase, ask_passphrase, confirm=True),
            codec=codec,
            force_lossy=force_lossy,
            check=check,
        )
        _report(result)
        return
    conv = _converter(
        "hiding",
        secrets=len(secrets),
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )
    with _progress(conv):
        result = hide_file(conv, cover, secrets, out, force_lossy=force_lossy, check=check, fit=fit)
    _report(result)


@app.command()
@guarded
def reveal(
    stegos: Annotated[list[Path], typer.Argument(help="Stego image(s) or folder(s).")],
    secrets: Annotated[int, typer.Option("-n", "--secrets", help="How many were hidden.")] = 1,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Folder for secret1.png ...")
    ] = None,
    with_cover: Annotated[
        bool, typer.Option("--cover", help="Also write the recovered cover.png.")
    ] = False,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    verbose: VerboseOpt = False,
    method: MethodOpt = Method.win,
    passphrase: PassOpt = None,
    ask_passphrase: AskPassOpt = False,
) -> None:
    """Recover the secret images from STEGO (secret1.png ... secretN.png)."""
    from wincli.errors import InputError
    from wincli.pipeline import reveal_file, reveal_lsb_file

    if not 1 <= secrets <= 4:
        raise InputError(f"--secrets must be 1 to 4, not {secrets}")
    files = _expand_inputs(stegos)
    per_file = len(files) > 1 or any(p.is_dir() for p in stegos)  # OUT/<stem>/secret1.png
    if output is not None and per_file:
        _no_collisions(files, output)
    if method == Method.lsb:
        key = _passphrase(passphrase, ask_passphrase)
        for f in files:
            dest = output / f.stem if (output is not None and per_file) else output
            _report(reveal_lsb_file(f, dest, passphrase=key))
        return
    conv = _converter(
        "hiding",
        secrets=secrets,
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )
    for f in files:
        dest = output / f.stem if (output is not None and per_file) else output
        with _progress(conv):
            result = reveal_file(conv, f, dest, with_cover=with_cover)
        _report(result)


@app.command()
@guarded
def downscale(
    inputs: Annotated[list[Path], typer.Argument(help="HR image(s) or folder(s).")],
    scale: ScaleOpt = 2,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="LR PNG or folder.")] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Downscale by 2 or 4 into an LR image that `win upscale` restores."""
    from wincli.pipeline import downscale_file

    _check_scale(scale)
    _single_input(
        "rescaling",
        inputs,
        output,
        lambda f: f"{f.stem}_x{scale}_lr.png",
        lambda c, f, o: downscale_file(c, f, o, force_lossy=force_lossy, check=check),
        scale=scale,
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )


@app.command()
@guarded
def upscale(
    inputs: Annotated[list[Path], typer.Argument(help="LR image(s) made by `win downscale`.")],
    scale: ScaleOpt = 2,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="HR PNG or folder.")] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Restore the high-resolution image from an LR image (exact original size)."""
    from wincli.pipeline import upscale_file

    _check_scale(scale)
    _single_input(
        "rescaling",
        inputs,
        output,
        lambda f: f"{f.stem}_x{scale}.png",
        upscale_file,
        scale=scale,
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )


@app.command()
@guarded
def decolorize(
    inputs: Annotated[list[Path], typer.Argument(help="Colour image(s) or folder(s).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Gray PNG or folder.")
    ] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Make a grayscale image that carries its own colours."""
    from wincli.pipeline import decolorize_file

    _single_input(
        "decolorization",
        inputs,
        output,
        lambda f: f"{f.stem}_gray.png",
        lambda c, f, o: decolorize_file(c, f, o, force_lossy=force_lossy, check=check),
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )


@app.command()
@guarded
def colorize(
    inputs: Annotated[list[Path], typer.Argument(help="Gray image(s) made by `win decolorize`.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Colour PNG or folder.")
    ] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    half: HalfOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Restore the colours of a gray image made by `win decolorize`."""
    from wincli.pipeline import colorize_file

    _single_input(
        "decolorization",
        inputs,
        output,
        lambda f: f"{f.stem}_color.png",
        colorize_file,
        model=model,
        weights=weights,
        device=device,
        tile=tile,
        half=half,
        verbose=verbose,
    )


def _check_scale(scale: int) -> None:
    from wincli.errors import InputError

    if scale not in (2, 4):
        raise InputError(f"--scale must be 2 or 4, not {scale}")


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


@app.command("eval")
@guarded
def eval_cmd(
    task: Annotated[Task, typer.Option("--task", help="What to evaluate.")],
    data: Annotated[list[Path], typer.Option("--data", help="Image folder (repeatable).")],
    secrets: Annotated[int, typer.Option("--secrets", help="Hiding: 1-4 secrets.")] = 1,
    scale: ScaleOpt = 2,
    crop: Annotated[
        int | None, typer.Option("--crop", help="Hiding: center crop size (e.g. 256).")
    ] = None,
    model: ModelOpt = Variant.win,
    weights: WeightsOpt = None,
    device: DeviceOpt = "auto",
    tile: TileOpt = None,
    baselines_only: Annotated[
        bool, typer.Option("--baselines-only", help="Only the classical baselines.")
    ] = False,
    per_image: Annotated[bool, typer.Option("--per-image/--means-only")] = True,
    out: Annotated[Path | None, typer.Option("--out", help="Write rows to .csv or .json.")] = None,
    save_images: Annotated[
        Path | None, typer.Option("--save-images", help="Outputs + x20 residual maps here.")
    ] = None,
    verbose: VerboseOpt = False,
    frontier: Annotated[
        bool,
        typer.Option(
            "--frontier/--no-frontier",
            help="Also the codec-in-LSB schemes, rate-distortion and JPEG robustness rows.",
        ),
    ] = True,
) -> None:
    """The paper's protocol on a folder: PSNR / SSIM of WIN (8-bit and float) and baselines."""
    from rich.console import Console
    from rich.table import Table

    from wincli import evaluate as E
    from wincli.errors import InputError

    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise InputError(f"{out}: --out must end in .csv or .json")
    files = _expand_inputs(list(data))
    if task == Task.rescaling:
        _check_scale(scale)
    conv = None
    if not baselines_only:
        conv = _converter(
            task.value,
            secrets=secrets,
            scale=scale,
            model=model,
            weights=weights,
            device=device,
            tile=tile if tile is not None else "0",  # the protocol: whole images
            verbose=verbose,
        )
    if save_images is not None and save_images.exists() and not save_images.is_dir():
        raise InputError(f"--save-images {save_images}: is a file; give a folder")
    save = E.image_saver(save_images) if save_images else None
    if task == Task.hiding:
        if len(files) < secrets + 1:
            raise InputError(f"hiding-{secrets} needs at least {secrets + 1} images")
        rows = E.eval_hiding(conv, files, secrets, crop, save=save, frontier=frontier)
    elif task == Task.rescaling:
        rows = E.eval_rescaling(conv, files, scale, save=save, frontier=frontier)
    else:
        rows = E.eval_decolorization(conv, files, save=save, frontier=frontier)
    console = Console()
    keys = list(dict.fromkeys(k for r in rows for k in r.metrics))

    def cells(m: dict) -> list[str]:
        def fmt(k):
            v = m.get(k)
            if v is None:
                return "-"
            return f"{v:,.0f}" if "bytes" in k else f"{v:.4f}" if "ssim" in k else f"{v:.2f}"

        return [fmt(k) for k in keys]

    if per_image:
        t = Table("image", "method", *keys, title="per image (the means table has every row)")
        lsb_shown = f"LSB {max(1, 4 // secrets)}-bit"
        for r in rows:
            if r.method.startswith("WIN") and "JPEG" not in r.method or r.method == lsb_shown:
                t.add_row(r.image, r.method, *cells(r.metrics))
        console.print(t)
    means = E.summary(rows)
    t = Table("method", *keys, title=f"mean over {len({r.image for r in rows})} images")
    for method, m in means.items():
        t.add_row(method, *cells(m))
    console.print(t)
    if out is not None:
        E.write_rows(out, rows, means)
        typer.echo(str(out))


@models_app.command("list")
@guarded
def models_list() -> None:
    """Table of the registry: name (* = default), params, PSNR, where it would load from."""
    from rich.console import Console
    from rich.table import Table

    from wincli.weights import load_registry, where_from

    table = Table("name", "params", "measured PSNR (8-bit)", "loads from")
    for rec in load_registry():
        metrics = ", ".join(
            f"{k.replace('_psnr', '').replace('_', ' ')} {v}"
            for k, v in rec.metrics.items()
            if k.endswith("psnr") and "bicubic" not in k and "float" not in k
        )
        table.add_row(
            rec.name + (" *" if rec.default else ""),
            f"{rec.params:,}",
            metrics or "-",
            where_from(rec).split(" (")[0],
        )
    Console().print(table)


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


def main() -> None:
    app()
