"""What every ``win`` command shares: the app, option types, error handling, model loading,
input expansion, progress and reporting. Commands live in ``convert``, ``train``, ``evaluate``
and ``models`` beside this module."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import warnings
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from wincli.errors import WincliError
from wincli.tasks import PRESETS, TASKS, VARIANTS


def _plain_metavars(params):
    """Help that reads like a man page: a flag shows no placeholder and a text option its
    name in capitals (``--tile TILE``) instead of ``<bool>`` / ``<str>``."""
    for p in params:
        if not hasattr(p, "is_flag") or p.metavar is not None:  # options only, as declared
            continue
        if p.is_flag:
            p.metavar = ""
        elif p.display_type(None) == "<str>":
            p.metavar = p.name.upper()
    return params


class _PlainMetavars:
    """Mixed into a click command or group: help without ``<bool>`` / ``<str>``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _plain_metavars(self.params)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        _plain_metavars([option] if option is not None else [])
        return option


class _Command(_PlainMetavars, typer.core.TyperCommand):
    pass


class _Group(_PlainMetavars, typer.core.TyperGroup):
    pass


class _Typer(typer.Typer):
    """A Typer app whose commands' help has plain placeholders (``_plain_metavars``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cls=_Group, **kwargs)

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _Typer(
    name="win",
    help="Reversible image conversion with Well-posed Invertible Networks (WIN).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = _Typer(help="List, fetch and verify pretrained checkpoints.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A string enum of the library's list (members named like the values, "-" as "_")."""
    return Enum(name, {v.replace("-", "_"): v for v in values}, type=str)


Task = _choices("Task", TASKS)
Variant = _choices("Variant", VARIANTS)
Preset = _choices("Preset", PRESETS)


ModelOpt = Annotated[Variant, typer.Option("--model", help="Network: win or win-naive.")]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--weights", help="A .safetensors checkpoint, or a registry name (win models list)."
    ),
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
HalfOpt = Annotated[bool, typer.Option("--half", help="Same as --precision fp16.")]
PrecisionOpt = Annotated[
    str,
    typer.Option(
        "--precision",
        help="auto (bf16 where the CPU or GPU has bf16 units and the model's measured loss in "
        "bf16 is at most 0.05 dB, else fp32), fp32, bf16 or fp16 (CUDA).",
    ),
]
RefineOpt = Annotated[
    str | None,
    typer.Option(
        "--refine",
        help="Gradient steps that refine the stored image for the fixed inverse after the "
        "one-pass encoder (default 0). Each step costs about 2 forward passes: --refine 40 on "
        "x2 is about 75x slower than the default for up to about 0.8 dB more.",
    ),
]
EncoderOpt = Annotated[
    str,
    typer.Option(
        "--encoder",
        help="One-pass encoder that chooses the stored image: auto (the one trained for the "
        "default weights; none for --weights), none (the network's forward output), or a "
        ".safetensors file trained for these weights.",
    ),
]
RobustOpt = Annotated[
    bool,
    typer.Option(
        "--robust",
        help="Use the JPEG-robust model: for images that will be shared (and re-encoded as "
        "JPEG) on the way; restore them with --robust too. Costs some quality on a lossless "
        "file (`win models`).",
    ),
]
StripOpt = Annotated[
    bool,
    typer.Option(
        "--strip-metadata",
        help="Write no colour profile and no EXIF (by default outputs carry the input's).",
    ),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads",
        help="CPU threads (default: all cores). Several win processes at once: give each "
        "cores / processes; one process over a folder is faster.",
        show_default=False,
    ),
]
KeepGoingOpt = Annotated[
    bool,
    typer.Option(
        "--keep-going",
        "-k",
        help="Several inputs: report a file that fails on one line and go on with the rest "
        "(exit code 2 at the end, with the count; the other outputs stay).",
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
    jpeg = "jpeg"
    stealth = "stealth"


MethodOpt = Annotated[
    Method,
    typer.Option(
        "--method",
        help="win (the network), lsb (secrets as WebP/JPEG, encrypted, in the cover's low bits), "
        "jpeg (the same payload on a JPEG's lattice: survives sharing as JPEG q75 or better "
        "and crops of up to 16 px) or "
        "stealth (the same payload in few +-1 changes where a detector least expects them).",
    ),
]
PassOpt = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        help="lsb, jpeg, stealth: passphrase (else $WIN_PASSPHRASE; none = authenticated, not "
        "secret).",
        show_default=False,
    ),
]
AskPassOpt = Annotated[
    bool,
    typer.Option(
        "--ask-passphrase", help="lsb, jpeg, stealth: prompt for the passphrase (not echoed)."
    ),
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
    precision="auto",
    verbose=False,
    refine=None,
    encoder="auto",
    threads=None,
    robust=False,
):
    """The converter a command's flags ask for, through the same ``InferenceOptions`` as the
    Python API (so the two give the same bytes)."""
    from wincli.converter import Converter
    from wincli.errors import InputError
    from wincli.options import InferenceOptions

    if refine is not None:
        steps = int(refine) if refine.strip().isdigit() else -1
        if not 0 <= steps <= 1000:
            raise InputError(f"--refine must be a number of steps, 0 to 1000, not {refine!r}")
        refine = steps
    options = InferenceOptions(
        variant=model.value,
        weights=str(weights) if weights else None,
        device=device,
        tile=parse_tile(tile),
        half=half,
        precision=precision,
        refine=refine,
        encoder=encoder,
        threads=threads,
        robust=robust,
    )
    conv = Converter.load(task, secrets=secrets, scale=scale, options=options)
    if verbose:
        typer.echo(
            f"device: {conv.device}; precision: {conv.precision.name} ({conv.precision.reason}); "
            f"weights: {conv.source}",
            err=True,
        )
        if conv.note:
            typer.echo(f"note: {conv.note}", err=True)
    return conv


def report(result) -> None:
    """Print a result: its notes, the files written, the check PSNRs."""
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
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
    """A progress bar with an estimate of the time left, over files and over the tiles of each
    pass, on a terminal only (nothing in a pipe or a log); yields advance_file()."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        job = bar.add_task("images", total=files) if files > 1 else None
        tiles = bar.add_task("tiles / steps", total=None) if conv is not None else None
        if tiles is not None:
            conv.on_tile = lambda: bar.advance(tiles)
            conv.on_plan = lambda n: bar.reset(tiles, total=n)
        try:
            yield (lambda: bar.advance(job)) if job is not None else (lambda: None)
        finally:
            if conv is not None:
                conv.on_tile = conv.on_plan = None


def is_dir_safe(p: Path) -> bool:
    """``p.is_dir()`` that says False instead of raising (e.g. a name over 255 bytes)."""
    try:
        return p.is_dir()
    except OSError:
        return False


# The options that load the network, declared once for every conversion command: (parameter,
# its annotated type, its default). ``conversion_options`` adds them to a command's signature and
# hands them over as one ``ModelFlags``; ``load_converter`` maps them to ``InferenceOptions``.
MODEL_OPTIONS = (
    ("model", ModelOpt, Variant.win),
    ("weights", WeightsOpt, None),
    ("device", DeviceOpt, "auto"),
    ("tile", TileOpt, None),
    ("half", HalfOpt, False),
    ("precision", PrecisionOpt, "auto"),
    ("threads", ThreadsOpt, None),
    ("robust", RobustOpt, False),
    ("verbose", VerboseOpt, False),
    ("keep_going", KeepGoingOpt, False),
)
# ... and those of the commands that choose a stored image (downscale, decolorize)
STORE_OPTIONS = (("refine", RefineOpt, None), ("encoder", EncoderOpt, "auto"))


@dataclass(frozen=True)
class ModelFlags:
    """A conversion command's network options, as given on the command line (and
    ``keep_going``, how it runs over several files)."""

    model: Variant = Variant.win
    weights: Path | None = None
    device: str = "auto"
    tile: str | None = None
    half: bool = False
    precision: str = "auto"
    threads: int | None = None
    robust: bool = False
    verbose: bool = False
    refine: str | None = None
    encoder: str = "auto"
    keep_going: bool = False

    def load(self, task: str, **task_kw):
        """The converter these flags ask for (``load_converter``)."""
        model = {k: v for k, v in asdict(self).items() if k != "keep_going"}
        return load_converter(task, **task_kw, **model)


def each_file(items, run, keep_going: bool, name=lambda item: item) -> None:
    """``run(item)`` for each input. Of several, a failure names its file; with
    ``keep_going`` it is reported on one line and the rest still run, and the command fails at
    the end with the count (the outputs written stay)."""
    failed = 0
    for item in items:
        try:
            run(item)
        except WincliError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            label = str(name(item))
            if len(items) > 1 and label not in msg:
                msg = f"{label}: {msg}"
            if not keep_going:
                exc.args = (msg,)
                raise
            print_error(msg)
            failed += 1
    if failed:
        raise WincliError(f"{failed} of {len(items)} inputs failed (reported above)")


def conversion_options(store: bool = False):
    """Decorator: add ``MODEL_OPTIONS`` (and with ``store``, ``STORE_OPTIONS``) to a command
    and call it with ``flags=ModelFlags(...)`` instead of one argument per option."""
    specs = MODEL_OPTIONS + (STORE_OPTIONS if store else ())

    def decorate(fn):
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "flags"]
        shared = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=d)
            for name, kind, d in specs
        ]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            flags = ModelFlags(**{name: kwargs.pop(name) for name, _, _ in specs if name in kwargs})
            return fn(*args, flags=flags, **kwargs)

        wrapper.__signature__ = sig.replace(parameters=own + shared)
        wrapper.__annotations__ = {p.name: p.annotation for p in own + shared}
        return wrapper

    return decorate


def run_per_file(
    task: str, inputs: list[Path], output: str | None, default_name, verb, flags: ModelFlags,
    **task_kw,
) -> None:  # fmt: skip
    """A one-input command over files or folders: check the inputs, load the model once, run
    ``verb(conv, input, output)`` on each file with a progress bar. Several inputs (or a folder)
    need ``out`` to be a folder; one file defaults to ``default_name(input)`` beside it."""
    from wincli.errors import OutputError

    # inputs and -o are checked before the model loads: a slip fails fast
    files = expand_inputs(inputs)
    # -o names a folder when it is one or ends in a slash (created when missing)
    out = Path(output) if output is not None else None
    to_folder = out is not None and (is_dir_safe(out) or output.endswith(("/", os.sep)))
    if len(files) == 1 and not inputs[0].is_dir() and not to_folder:
        target = out if out is not None else files[0].with_name(default_name(files[0]))
        conv = flags.load(task, **task_kw)
        with progress_bar(conv):
            result = verb(conv, files[0], target)
        report(result)
        return
    if out is None:
        raise OutputError("several inputs need -o DIR (a folder for the outputs)")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: several inputs need -o to be a folder")
    make_output_folder(files, out, "several inputs need")
    conv = flags.load(task, **task_kw)

    with progress_bar(conv, len(files)) as advance:

        def one(f: Path) -> None:
            try:
                report(verb(conv, f, out / f"{f.stem}.png"))
            finally:
                advance()

        each_file(files, one, flags.keep_going)


def check_scale(scale: int) -> None:
    from wincli.errors import InputError

    if scale not in (2, 4):
        raise InputError(f"--scale must be 2 or 4, not {scale}")
