"""The three tasks as objects: what goes in, what is stored, what comes back, what is measured.

>>> task = parse_task("hiding-2")                  # Hiding(secrets=2)
>>> task.c_in, task.c_out, task.multiple           # (9, 3, 2)
>>> x = task.pack([cover, s1, s2])                  # doctest: +SKIP   (B, 9, H, W)
>>> y_star = task.target(x)                         # the cover (bicubic LR / Lab L for the others)

A task owns its channel counts and size multiple, how its inputs are packed and named, its
forward target, how the network output becomes the stored image and back, its loss criteria and
the part of ``x`` the reverse loss and the quality numbers look at, its preset tweaks, its
benchmark sets and its refinement search. Adding a task is one class, ``register_task`` and its
registry entries (``tests/test_tasks.py`` adds a toy one). All tensors are (B, C, H, W) float
in [0, 1].

The loss criteria live here with the tasks; ``wincli.train.objective`` combines them, and
``wincli.imaging`` holds the image math (8-bit rounding, resampling, colour spaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from wincli.errors import OptionError

if TYPE_CHECKING:  # torch loads with the first tensor, not with `win --help`
    import torch

# ------------------------------------------------------------------ loss criteria


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().flatten(1).sum(1).mean()


def l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).flatten(1).sum(1).mean()


def charbonnier(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return ((a - b) ** 2 + eps**2).sqrt().flatten(1).sum(1).mean()


# ------------------------------------------------------------------ the tasks


class Task:
    """What every task answers. Subclasses are frozen dataclasses (equal when their
    parameters are equal), so a task can key a dict or be compared with ``==``."""

    kind: ClassVar[str]
    stored_name: ClassVar[str]  # what the stored image is called in reports ("stego", ...)
    restored_name: ClassVar[str]  # what the inverse gives back ("secret", "hr", "color")
    restored_verb: ClassVar[str]  # the file label of a restored image ("revealed", ...)
    default_init: ClassVar[str] = "task"  # training start: task-aware or orthogonal
    # The evaluation sets under data/eval and their center crop (None: whole images): what
    # `win eval`, the registry and the quality floors measure.
    benchmarks: ClassVar[tuple[tuple[str, int | None], ...]] = ()
    baseline_label: ClassVar[str | None] = None  # the textbook baseline's row in `win eval`

    # -- shapes
    @property
    def name(self) -> str:
        return self.kind

    @property
    def images_per_sample(self) -> int:
        """Images packed into one input x (hiding: cover + secrets)."""
        return 1

    @property
    def input_names(self) -> list[str]:
        """A name per packed image ("cover", "secret1", ...; "hr"; "color")."""
        return [self.restored_name]

    @property
    def c_in(self) -> int:
        """Channels of the high-dimensional side x."""
        return 3 * self.images_per_sample

    @property
    def c_out(self) -> int:
        """Channels the network outputs."""
        return 3

    @property
    def stored_channels(self) -> int:
        """Channels of the stored image (``to_image`` of the network output)."""
        return self.c_out

    @property
    def stages(self) -> int:
        """Number of x2 squeezes."""
        return 1

    @property
    def multiple(self) -> int:
        """Height and width must be a multiple of this."""
        return 2**self.stages

    @property
    def down(self) -> int:
        """The stored image is this many times smaller than x on each side."""
        return 1

    @property
    def unsqueeze(self) -> bool:
        """Whether the network un-squeezes its features back to the input resolution."""
        return self.down == 1

    def config_fields(self) -> dict[str, Any]:
        """The ``ModelConfig`` fields that name this task (besides ``task``)."""
        return {}

    def kwargs(self) -> dict[str, Any]:
        """``{"task": kind, **config_fields()}``: what ``ModelConfig``/``build_model`` take."""
        return {"task": self.kind, **self.config_fields()}

    # -- data
    def pack(self, images: list[torch.Tensor]) -> torch.Tensor:
        """images_per_sample (B, 3, H, W) images -> x (B, c_in, H, W)."""
        if len(images) != self.images_per_sample:
            raise ValueError(f"{self.name} takes {self.images_per_sample} image(s)")
        import torch

        return torch.cat(images, 1)

    def unpack(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x (B, c_in, H, W) -> the images it packs (the inverse of ``pack``)."""
        return list(x.split(3, 1))

    @property
    def restored_names(self) -> list[str]:
        """A name per restored part ("secret1", ...; "hr"; "color")."""
        return [self.restored_name]

    def restored(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The parts of x (or of a reconstruction) the user gets back and that the reverse loss
        and quality numbers compare: hiding's secrets, the HR image, the colour image."""
        return [x]

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """y*: the image the forward pass should produce."""
        raise NotImplementedError

    def to_image(self, y: torch.Tensor) -> torch.Tensor:
        """Network output -> the image that is stored."""
        return y

    def from_image(self, image: torch.Tensor) -> torch.Tensor:
        """Stored image -> what ``inverse`` takes."""
        return image

    # -- losses
    crit_forward = staticmethod(l2)
    crit_reverse = staticmethod(charbonnier)

    def forward_loss(self, y: torch.Tensor, image: torch.Tensor, target: torch.Tensor):
        """The forward criterion of the stored image against y*."""
        return self.crit_forward(image, target)

    def default_lr(self) -> float:
        return 1e-3

    def refine_search(self) -> dict[str, Any]:
        """How ``--refine N`` searches the stored image for this task (``wincli.refine.Refine``
        fields: step size, the stored image's weight, decay), chosen on the held-out training
        photos; {}: the generic search."""
        return {}

    def preset_fields(self, preset: str) -> dict[str, Any]:
        """``ModelConfig`` fields this task sets on top of a preset's (``paper`` or ``cpu``)."""
        return {}

    # -- evaluation
    @property
    def stored_label(self) -> str:
        """The stored image as report rows name it ("LR as JPEG q90")."""
        return self.stored_name

    def derived_metrics(self, m: dict[str, float | None]) -> dict[str, float | None]:
        """Numbers computed from a sample's measured ones (hiding: stego + secret PSNR)."""
        return {}

    def baselines(self, x: torch.Tensor) -> list[tuple[str, torch.Tensor, list[torch.Tensor]]]:
        """The textbook baselines `win eval` puts beside WIN, as (label, stored image, restored
        parts): by default y* rounded to 8 bits and what ``stand_in`` restores from it, labelled
        ``baseline_label``; [] where the task has none."""
        if self.baseline_label is None:
            return []
        from wincli.imaging import round8

        stored = round8(self.target(x))
        return [(self.baseline_label, stored, [self.stand_in(stored)])]

    def stand_in(self, stored: torch.Tensor) -> torch.Tensor | None:
        """What a receiver gets from the textbook baseline's stored image (also after a JPEG of
        it), where the baseline restores anything; None otherwise."""
        return None

    # -- the task's instances
    @classmethod
    def from_args(cls, *, secrets: int = 1, scale: int = 2) -> Task:
        """The instance ``make_task(kind, secrets=, scale=)`` names (arguments it does not take
        are ignored)."""
        return cls()

    @classmethod
    def instances(cls) -> tuple[Task, ...]:
        """Every instance there is, each with its own ``name`` (what ``parse_task`` reads)."""
        return (cls(),)


@dataclass(frozen=True)
class Hiding(Task):
    secrets: int = 1
    kind: ClassVar[str] = "hiding"
    stored_name: ClassVar[str] = "stego"
    restored_name: ClassVar[str] = "secret"
    restored_verb: ClassVar[str] = "revealed"
    default_init: ClassVar[str] = "orthogonal"  # a task-aware start stalls the secrets
    benchmarks: ClassVar[tuple[tuple[str, int | None], ...]] = (("Kodak24", 512),)
    crit_forward = staticmethod(l1)
    crit_reverse = staticmethod(l1)

    def __post_init__(self) -> None:
        if not 1 <= self.secrets <= 4:
            raise OptionError(f"hiding takes 1 to 4 secrets, not {self.secrets}")

    @property
    def name(self) -> str:
        return f"hiding-{self.secrets}"

    @property
    def images_per_sample(self) -> int:
        return self.secrets + 1

    @property
    def input_names(self) -> list[str]:
        return ["cover", *(f"secret{i}" for i in range(1, self.secrets + 1))]

    def config_fields(self) -> dict[str, Any]:
        return {"secrets": self.secrets}

    def preset_fields(self, preset: str) -> dict[str, Any]:
        fields = {"width": HIDING_WIDTH[self.secrets]}  # SM = 0.75 n holds 12 (n + 1) channels
        if preset == "paper":
            fields["growth"] = PAPER_HIDING_GROWTH[self.secrets]
        return fields

    @classmethod
    def from_args(cls, *, secrets: int = 1, scale: int = 2) -> Task:
        return cls(secrets)

    @classmethod
    def instances(cls) -> tuple[Task, ...]:
        return tuple(cls(n) for n in (1, 2, 3, 4))

    @property
    def restored_names(self) -> list[str]:
        return self.input_names[1:]

    def restored(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.unpack(x)[1:]

    def target(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :3]

    def derived_metrics(self, m: dict[str, float | None]) -> dict[str, float | None]:
        stego, secret = m.get("stego_psnr"), m.get("secret_psnr")
        return {"sum_psnr": None if stego is None or secret is None else stego + secret}


@dataclass(frozen=True)
class Rescaling(Task):
    scale: int = 2
    kind: ClassVar[str] = "rescaling"
    stored_name: ClassVar[str] = "lr"
    restored_name: ClassVar[str] = "hr"
    restored_verb: ClassVar[str] = "restored"
    benchmarks: ClassVar[tuple[tuple[str, int | None], ...]] = (("Set5", None), ("Set14", None))
    baseline_label: ClassVar[str | None] = "bicubic down+up"

    def __post_init__(self) -> None:
        if self.scale not in (2, 4):
            raise OptionError(f"rescaling scale must be 2 or 4, not {self.scale}")

    @property
    def name(self) -> str:
        return f"rescaling-x{self.scale}"

    @property
    def c_out(self) -> int:
        return 3 * self.groups

    @property
    def stored_channels(self) -> int:
        return 3

    @property
    def groups(self) -> int:
        """x4 outputs 4 LR candidates (12 channels); the stored LR is their mean."""
        return 4 if self.scale == 4 else 1

    @property
    def stages(self) -> int:
        return {2: 1, 4: 2}[self.scale]

    @property
    def down(self) -> int:
        return self.scale

    def config_fields(self) -> dict[str, Any]:
        return {"scale": self.scale}

    def preset_fields(self, preset: str) -> dict[str, Any]:
        if self.stages == 1:
            return {}
        late = dict(late_width=256, late_modules=1)  # x4: the second stage has its own width
        return late | {"late_couplings": 3 if preset == "paper" else 1}

    @classmethod
    def from_args(cls, *, secrets: int = 1, scale: int = 2) -> Task:
        return cls(scale)

    @classmethod
    def instances(cls) -> tuple[Task, ...]:
        return (cls(2), cls(4))

    def target(self, x: torch.Tensor) -> torch.Tensor:
        from wincli.imaging import bicubic_down

        return bicubic_down(x, self.scale)

    def to_image(self, y: torch.Tensor) -> torch.Tensor:
        if self.groups == 1:
            return y
        b, _, h, w = y.shape
        return y.view(b, self.groups, 3, h, w).mean(1)

    def from_image(self, image: torch.Tensor) -> torch.Tensor:
        return image.repeat(1, self.groups, 1, 1) if self.groups > 1 else image

    def forward_loss(self, y: torch.Tensor, image: torch.Tensor, target: torch.Tensor):
        if self.groups == 1:
            return self.crit_forward(image, target)
        groups = y.view(y.shape[0], self.groups, 3, *y.shape[-2:])
        each = sum(self.crit_forward(groups[:, g], target) for g in range(self.groups))
        return each / self.groups + self.crit_forward(image, target)

    def default_lr(self) -> float:
        return 3e-4 if self.scale == 4 else 1e-3

    @property
    def stored_label(self) -> str:
        return "LR"

    def stand_in(self, stored: torch.Tensor) -> torch.Tensor:
        from wincli.imaging import bicubic_up

        return bicubic_up(stored, self.down)  # bicubic super-resolution of the LR

    def refine_search(self) -> dict[str, Any]:
        return {"lr": 0.004, "stored_weight": 0.05 if self.scale == 2 else 0.3, "decay": True}


@dataclass(frozen=True)
class Decolorization(Task):
    kind: ClassVar[str] = "decolorization"
    stored_name: ClassVar[str] = "gray"
    restored_name: ClassVar[str] = "color"
    restored_verb: ClassVar[str] = "recolored"
    benchmarks: ClassVar[tuple[tuple[str, int | None], ...]] = (("Kodak24", None),)
    baseline_label: ClassVar[str | None] = "Lab L, no colour"

    @property
    def c_out(self) -> int:
        return 1

    def target(self, x: torch.Tensor) -> torch.Tensor:
        from wincli.imaging import lab_lightness

        return lab_lightness(x)

    def refine_search(self) -> dict[str, Any]:
        return {"lr": 0.0005, "stored_weight": 0.3}

    def stand_in(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.repeat(1, 3, 1, 1)  # the gray shown as a colour image


# Stage widths of the hiding networks (SM = 0.75 n must hold the 12 (n + 1) squeezed channels)
# and the paper preset's dense-block growth, chosen to land on the paper's parameter counts.
HIDING_WIDTH = {1: 32, 2: 48, 3: 64, 4: 80}
PAPER_HIDING_GROWTH = {1: 32, 2: 32, 3: 36, 4: 34}

VARIANTS = ("win", "win-naive")  # the network variants every task is built as
PRESETS = ("paper", "cpu")  # network sizes: the paper's, and about 8x smaller (docs/method.md)

TASK_CLASSES: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Make a task class known by its ``kind`` to ``make_task``, ``parse_task``, model configs,
    presets, training and the registry (a class decorator; adding a task is one class, its
    registration and its registry entries)."""
    TASK_CLASSES[cls.kind] = cls
    return cls


for _cls in (Hiding, Rescaling, Decolorization):
    register_task(_cls)
TASKS = tuple(TASK_CLASSES)  # the built-in tasks (the CLI's choices)
TASK_NAMES = tuple(t.name for c in TASK_CLASSES.values() for t in c.instances())


def make_task(kind: str, *, secrets: int = 1, scale: int = 2) -> Task:
    """``("hiding", secrets=2)`` -> Hiding(2); the argument a task does not take is ignored
    (the CLI and the API pass both)."""
    if kind not in TASK_CLASSES:
        raise OptionError(f"unknown task {kind!r}; choose one of {', '.join(TASK_CLASSES)}")
    return TASK_CLASSES[kind].from_args(secrets=secrets, scale=scale)


def as_task(task: Task | str, *, secrets: int = 1, scale: int = 2) -> Task:
    """A Task as given, or the one ``make_task`` names: what the library's entry points take
    (``Converter.load(Hiding(2))`` or ``Converter.load("hiding", secrets=2)``)."""
    return task if isinstance(task, Task) else make_task(task, secrets=secrets, scale=scale)


def parse_task(name: str) -> Task:
    """``"hiding-2"`` -> Hiding(2), ``"rescaling-x4"`` -> Rescaling(4), ``"decolorization"``;
    the inverse of ``Task.name``: one parser for the CLI, scripts and tests."""
    known = {t.name: t for c in TASK_CLASSES.values() for t in c.instances()}
    if name not in known:
        raise OptionError(f"unknown task name {name!r}; one of {', '.join(known)}")
    return known[name]
