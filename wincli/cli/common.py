"""What every ``win`` command shares: the app, option types, error handling, model loading,
input expansion, progress and reporting. Commands live in ``convert``, ``train``, ``evaluate``
and ``models`` beside this module."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

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
RefineOpt = Annotated[
    str | None,
    typer.Option(
        "--refine",
        help="Encoder-side refinement: Adam steps that fit the stored 8-bit image to the fixed "
        "inverse (default: 40 for x2, 20 for x4, 0 for decolorize; 0: the forward output, "
        "40-80x faster).",
    ),
]
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


def get_passphrase(given: str | None, ask: bool, confirm: bool = False) -> str | None:
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


def print_error(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)


def interrupt_on_signals() -> None:
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


def no_collisions(files: list[Path], out: Path) -> None:
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


def make_output_folder(files: list[Path], out: Path, needs: str) -> None:
    """Create the ``-o`` folder that ``files`` are written into, after the checks that keep a
    slip from writing anything: an image name that does not exist yet (``-o lr.png`` for a folder
    of inputs) and two inputs with the same name. ``needs`` starts the message
    ("several inputs need")."""
    from wincli.errors import OutputError
    from wincli.io import IMAGE_SUFFIXES

    if not out.exists() and out.suffix.lower() in IMAGE_SUFFIXES:
        raise OutputError(f"{out}: {needs} -o to be a folder, not an image name")
    no_collisions(files, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output folder ({exc.strerror})") from None


_model_notes: list[str] = []  # the loaded model's registry status, not yet said


def guarded(fn):
    """Turn every WincliError into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        def _warn(message, category, filename, lineno, file=None, line=None):
            typer.echo(f"warning: {message}", err=True)

        old = warnings.showwarning
        warnings.showwarning = _warn
        interrupt_on_signals()
        try:
            return fn(*args, **kwargs)
        except WincliError as exc:
            print_error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise typer.Exit(130) from None
        finally:
            warnings.showwarning = old
            _model_notes.clear()

    return wrapper


def parse_tile(value: str | None):
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


def load_converter(
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
    refine=None,
):
    from wincli.converter import Converter
    from wincli.errors import InputError

    if refine is not None:
        steps = int(refine) if refine.strip().isdigit() else -1
        if not 0 <= steps <= 1000:
            raise InputError(f"--refine must be a number of steps, 0 to 1000, not {refine!r}")
        refine = steps

    conv = Converter.load(
        task,
        secrets=secrets,
        scale=scale,
        variant=model.value,
        weights=str(weights) if weights else None,
        device=device,
        tile=parse_tile(tile),
        half=half,
        refine=refine,
    )
    if verbose:
        typer.echo(f"device: {conv.device}; weights: {conv.source}", err=True)
    if conv.note:  # said with the first output, so that a failing command says one line
        _model_notes.append(conv.note)
    return conv


def report(result) -> None:
    """Print a result: pending model notes, its own notes, the files written, the check PSNRs."""
    for note in (*_model_notes, *result.notes):
        typer.echo(f"note: {note}", err=True)
    _model_notes.clear()
    for out in result.outputs:
        typer.echo(out)
    if result.check_psnr:
        parts = ", ".join(f"{k} {v:.2f} dB" for k, v in result.check_psnr.items())
        typer.echo(f"check (re-read from disk, 8-bit): {parts}")


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given, folders listed (``io.list_images``); missing or empty inputs fail here,
    before a model is loaded."""
    from wincli.io import list_images, require_inputs

    require_inputs(inputs)
    return list_images(inputs)


@contextlib.contextmanager
def progress_bar(conv=None, files: int = 0):
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


def is_dir_safe(p: Path) -> bool:
    """``p.is_dir()`` that says False instead of raising (e.g. a name over 255 bytes)."""
    try:
        return p.is_dir()
    except OSError:
        return False


def run_per_file(
    task: str, inputs: list[Path], out: Path | None, default_name, verb, **load
) -> None:
    """A one-input command over files or folders: check the inputs, load the model once, run
    ``verb(conv, input, output)`` on each file with a progress bar. Several inputs (or a folder)
    need ``out`` to be a folder; one file defaults to ``default_name(input)`` beside it."""
    from wincli.errors import OutputError

    # inputs and -o are checked before the model loads: a slip fails fast
    files = expand_inputs(inputs)
    if len(files) == 1 and not inputs[0].is_dir() and (out is None or not is_dir_safe(out)):
        target = out if out is not None else files[0].with_name(default_name(files[0]))
        conv = load_converter(task, **load)
        with progress_bar(conv):
            result = verb(conv, files[0], target)
        report(result)
        return
    if out is None:
        raise OutputError("several inputs need -o DIR (a folder for the outputs)")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: several inputs need -o to be a folder")
    make_output_folder(files, out, "several inputs need")
    conv = load_converter(task, **load)
    with progress_bar(conv, len(files)) as advance:
        for f in files:
            report(verb(conv, f, out / f"{f.stem}.png"))
            advance()


def check_scale(scale: int) -> None:
    from wincli.errors import InputError

    if scale not in (2, 4):
        raise InputError(f"--scale must be 2 or 4, not {scale}")
