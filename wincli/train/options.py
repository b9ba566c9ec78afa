"""Every ``win train`` option in one place: its default, its help text and whether it belongs
to the run's recipe or to one invocation.

>>> opts = resolve(TrainOptions(task="hiding", data=["imgs/"]), torch.device("cpu"))
>>> opts.batch, opts.lr, opts.init                    # 8, 0.001, 'orthogonal'
>>> TrainOptions.help("lr")                           # the CLI's help text for --lr

``None`` means "not given". :func:`resolve` fills every ``None`` with its default (some depend
on the device, the task or the preset), and the resolved options are saved with the run. A
*recipe* option defines the run: given again on ``--resume`` with another value it is an error,
never silently dropped. A *runtime* option may change on ``--resume`` (device, threads,
cadences, where to stop, the schedule length and the forward weight, which is how a run is
extended or rebalanced). Zero is a value, never "not given".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wincli.errors import InputError

if TYPE_CHECKING:  # torch loads with the first training, not with `win --help`
    import torch

    from wincli.tasks import Task

RECIPE, RUNTIME = "recipe", "runtime"


def _opt(help: str, kind: str = RECIPE, default: Any = None, value: Any = None) -> Any:
    """A field that is None until given; ``default`` (a value or ``f(opts, cuda)``) fills it."""
    return field(default=value, metadata={"help": help, "kind": kind, "default": default})


def _lr(opts: TrainOptions, cuda: bool) -> float:
    """1e-3 for the small cpu preset (x4: 3e-4, its 256-wide second stage diverged at 1e-3),
    2e-4 for the paper sizes."""
    return 2e-4 if opts.preset != "cpu" else opts.spec.default_lr()


@dataclass
class TrainOptions:
    """Everything ``win train`` takes (see the module docstring)."""

    task: str | None = _opt("What to train.", default="rescaling")
    secrets: int | None = _opt("Hiding: 1-4 secrets.", default=1)
    scale: int | None = _opt("Rescaling: 2 or 4.", default=2)
    variant: str | None = _opt("win or win-naive.", default="win")
    preset: str | None = _opt("Network size: cpu or paper.", default="cpu")
    couplings: int | None = _opt(
        "Override the preset: couplings per WIM (WIN-Naive: in all). With --init-from: grow "
        "the checkpoint to this many (the new couplings start as the identity)."
    )
    growth: int | None = _opt(
        "Override the preset: dense-block growth. With --init-from: widen the checkpoint's "
        "dense blocks to this growth (the new channels start unread)."
    )
    grow: list[str] | None = _opt(
        "With --init-from: grow the checkpoint, keeping its function, to a preset's sizes "
        "(paper) or to KEY=VALUE (couplings, late_couplings, naive_couplings, growth); "
        "repeatable.",
        default=list,
    )
    data: list[str] | None = _opt("Training image folder (repeatable).", default=list)
    val: list[str] | None = _opt("Validation folder (default: hold out).", default=list)
    holdout: int | None = _opt("Images held out for validation.", default=6)
    val_size: int | None = _opt("Validation center-crop size.", default=128)
    batch: int | None = _opt(
        "Batch size (default: 8 on CPU, 16 on GPU).", default=lambda o, cuda: 16 if cuda else 8
    )
    patch: int | None = _opt(
        "Patch size (default: 64 on CPU, 128 on GPU).", default=lambda o, cuda: 128 if cuda else 64
    )
    lr: float | None = _opt(
        "Peak learning rate (default: 1e-3 for the cpu preset, 3e-4 for its x4; 2e-4 paper).",
        default=_lr,
    )
    warmup: int | None = _opt("Linear warm-up steps.", default=200)
    min_lr_ratio: float | None = _opt("Cosine floor as a fraction of lr.", default=0.01)
    betas: tuple[float, float] | None = _opt("AdamW betas.", default=(0.9, 0.999))
    weight_decay: float | None = _opt("AdamW weight decay.", default=1e-4)
    clip: float | None = _opt("Gradient-norm clip.", default=10.0)
    seed: int | None = _opt("Random seed (data order, crops, init).", default=0)
    init: str | None = _opt(
        "task (data-driven start) or orthogonal (default: orthogonal for hiding, else task).",
        default=lambda o, cuda: o.spec.default_init,
    )
    init_from: str | None = _opt(
        "Start from a shipped checkpoint (registry name or .safetensors file) with a fresh "
        "optimizer and warm-up."
    )
    quantize: bool | None = _opt("Round the stored image to 8 bits in training.", default=True)
    ste: str | None = _opt(
        "8-bit rounding in training: clamp (no gradient outside [0, 1]), identity (old, "
        "diverged), noise (uniform, one level) or mix (per sample).",
        default="clamp",
    )
    jpeg: str | None = _opt(
        "Train for shared files: a real JPEG at a quality drawn from LOW-HIGH (like 70-95) "
        "between the 8-bit stored image and the inverse, for --jpeg-share of each batch."
    )
    restorer: int | None = _opt(
        "Width of a decoder-side restorer run before the inverse (robust models, with --jpeg; "
        "0 = none). With --init-from: added to the checkpoint, starting as the identity."
    )
    jpeg_share: float | None = _opt(
        "With --jpeg: the share of each batch that goes through the JPEG.", default=0.5
    )
    steps: int | None = _opt("Total steps (the schedule's length).", RUNTIME, default=10000)
    lambda_forward: float | None = _opt(
        "Forward loss weight (the paper's lambda_f); an --init-from run keeps the weight its "
        "checkpoint was trained with when the registry or the checkpoint's run folder says it.",
        RUNTIME,
        default=2.0,
    )
    device: str | None = _opt("auto, cpu, cuda or mps.", RUNTIME, default="auto")
    threads: int | None = _opt(
        "CPU threads (default: all cores, or $OMP_NUM_THREADS). Two runs on one machine: "
        "give each --threads cores / runs.",
        RUNTIME,
    )
    workers: int | None = _opt("Data loader processes.", RUNTIME, default=0)
    channels_last: bool | None = _opt(
        "channels-last memory format (1.34x training steps/s on CPU, docs/benchmarks.md).",
        RUNTIME,
        default=True,
    )
    precision: str | None = _opt(
        "Convolution precision: auto (bf16 where the CPU or GPU has bf16 units, else fp32), "
        "fp32 or bf16. Weights, optimizer and validation stay float32.",
        RUNTIME,
        default="auto",
    )
    val_every: int | None = _opt("Validate every this many steps.", RUNTIME, default=500)
    ckpt_every: int | None = _opt("Checkpoint every this many steps.", RUNTIME, default=250)
    log_every: int | None = _opt("Log every this many steps.", RUNTIME, default=25)
    out: str | None = _opt("Run directory.", RUNTIME, default="runs/win")
    resume: str | None = _opt(
        "Continue this run: its recipe is kept (given again, it must be equal); --steps, "
        "--lambda-forward, the device, threads, workers, cadences and where to stop may change.",
        RUNTIME,
    )
    stop_at: int | None = _opt(
        "Checkpoint and stop at this step (the schedule still spans --steps).", RUNTIME
    )
    time_limit: float | None = _opt("Checkpoint and stop after this many seconds.", RUNTIME)
    encoder_for: str | None = _opt(
        "Train the one-pass encoder of this network (a registry name or .safetensors) instead of "
        "a network; the network stays frozen. Takes --data, --out, --resume, --init-from (an "
        "encoder file: its own, or another network's of the same task), --steps, --batch, "
        "--patch, --lr, --warmup, --clip, --holdout, --val-every, --val-size, --seed, --threads, "
        "--precision and the --encoder-* / --stored-* options; "
        "their defaults are the encoder's (docs/training.md). An encoder run resumes with its "
        "saved options."
    )
    encoder_width: int | None = _opt("--encoder-for: the encoder's width (default 48).")
    encoder_blocks: int | None = _opt("--encoder-for: its residual blocks (default 4).")
    encoder_bound: float | None = _opt(
        "--encoder-for: the largest correction, in [0, 1] pixel units (0 = none)."
    )
    stored_weight: float | None = _opt(
        "--encoder-for: the stored image's weight against the restored one (default: the "
        "task's --refine setting)."
    )
    stored_slack: float | None = _opt(
        "--encoder-for: best.safetensors keeps a stored image at most this many dB below the "
        "forward output's (default 0.5)."
    )

    @property
    def spec(self) -> Task:
        """The task object this run trains (``Hiding(2)``, ...)."""
        from wincli.tasks import make_task

        return make_task(self.task or "rescaling", secrets=self.secrets or 1, scale=self.scale or 2)

    @classmethod
    def help(cls, name: str) -> str:
        """The help text of an option, with its default when that is a plain value."""
        f = FIELDS[name]
        default = f.metadata["default"]
        if default is None or callable(default):
            return f.metadata["help"]
        shown = ", ".join(map(str, default)) if isinstance(default, tuple) else default
        return f"{f.metadata['help']} (default: {shown})"


FIELDS = {f.name: f for f in dataclasses.fields(TrainOptions)}
RECIPE_OPTIONS = tuple(n for n, f in FIELDS.items() if f.metadata["kind"] == RECIPE)
RUNTIME_OPTIONS = tuple(n for n, f in FIELDS.items() if f.metadata["kind"] == RUNTIME)
PER_INVOCATION = ("resume", "out", "stop_at", "time_limit")  # never carried into a resumed run


def resolve(opts: TrainOptions, device: torch.device) -> TrainOptions:
    """Fill every option that was not given with its default (for this device and task)."""
    cuda = device.type == "cuda"
    fill = {}
    for name, f in FIELDS.items():
        default = f.metadata["default"]
        if getattr(opts, name) is None and default is not None:
            if default is list:
                fill[name] = []
            elif callable(default):
                fill[name] = None  # after the plain values it may depend on
            else:
                fill[name] = default
    opts = dataclasses.replace(opts, **fill)
    later = {n: FIELDS[n].metadata["default"](opts, cuda) for n, v in fill.items() if v is None}
    opts = dataclasses.replace(opts, **later)
    return dataclasses.replace(opts, betas=tuple(opts.betas))


def check_options(opts: TrainOptions) -> None:
    """Reject values that cannot train (zero is never silently replaced by a default)."""
    for name in ("steps", "batch", "val_every", "ckpt_every", "log_every", "val_size", "threads"):
        value = getattr(opts, name)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be positive, not {value}")
    for name in ("warmup", "lr", "holdout", "weight_decay", "workers"):
        value = getattr(opts, name)
        if value is not None and value < 0:
            raise InputError(f"--{name.replace('_', '-')} must be >= 0, not {value}")
    from wincli.tasks import TASK_CLASSES

    if opts.task is not None and opts.task not in TASK_CLASSES:
        raise InputError(f"--task must be one of {', '.join(TASK_CLASSES)}, not {opts.task}")
    if opts.secrets is not None and not 1 <= opts.secrets <= 4:
        raise InputError(f"--secrets must be 1 to 4, not {opts.secrets}")
    if opts.scale is not None and opts.scale not in (2, 4):
        raise InputError(f"--scale must be 2 or 4, not {opts.scale}")
    if opts.patch is not None and (opts.patch < 16 or opts.patch % 8):
        raise InputError(f"--patch must be a multiple of 8 (at least 16), not {opts.patch}")
    if opts.init not in (None, "task", "orthogonal"):
        raise InputError("--init must be task or orthogonal")
    from wincli.imaging import ESTIMATORS

    if opts.ste not in (None, *ESTIMATORS):
        raise InputError(f"--ste must be one of {', '.join(ESTIMATORS)}")
    if opts.out and not opts.resume and Path(opts.out).exists() and not Path(opts.out).is_dir():
        raise InputError(f"--out {opts.out}: is a file; a run needs a folder")
    if opts.jpeg is not None:
        from wincli.jpeg import parse_qualities

        try:
            parse_qualities(opts.jpeg)
        except ValueError as e:
            raise InputError(f"--jpeg: {e}") from None
    if opts.jpeg_share is not None and not 0 < opts.jpeg_share <= 1:
        raise InputError(f"--jpeg-share must be in (0, 1], not {opts.jpeg_share}")
    if opts.grow and not opts.init_from and not opts.resume:
        raise InputError("--grow grows a checkpoint: give it with --init-from NAME")
    if opts.precision not in (None, "auto", "fp32", "bf16"):
        raise InputError(f"--precision must be auto, fp32 or bf16, not {opts.precision}")
    if opts.stop_at is not None and opts.stop_at < 1:
        raise InputError(f"--stop-at must be positive, not {opts.stop_at}")
    for name in ("couplings", "growth"):
        value = getattr(opts, name)
        if value is not None and value < 1:
            raise InputError(f"--{name} must be positive, not {value}")
    if opts.restorer is not None and opts.restorer < 0:
        raise InputError(f"--restorer must be >= 0, not {opts.restorer}")


def resumed(saved: dict[str, Any], given: TrainOptions, run: Path) -> TrainOptions:
    """The options of a resumed run: the saved recipe, runtime options from the command line.

    A recipe option given with another value than the run's is an error (a resumed run keeps
    its recipe); options saved by older versions are filled with today's defaults later."""
    keep = {k: v for k, v in saved.items() if k in FIELDS and k not in PER_INVOCATION}
    if keep.get("threads") == 0:  # older runs saved 0 for "all cores"
        keep["threads"] = None
    for name in RECIPE_OPTIONS:
        value = getattr(given, name)
        if value is None or value == keep.get(name):
            continue
        if isinstance(value, (list, tuple)) and list(value) == list(keep.get(name) or []):
            continue
        raise InputError(
            f"--{name.replace('_', '-')} {value} differs from the run's {keep.get(name)}: "
            "a resumed run keeps its recipe (start a new run, or --init-from its model)"
        )
    runtime = {n: getattr(given, n) for n in RUNTIME_OPTIONS if getattr(given, n) is not None}
    runtime |= {"resume": str(run), "out": str(run)}
    return dataclasses.replace(TrainOptions(**keep), **runtime)
