"""The architecture config record: everything needed to rebuild a network.

>>> cfg = ModelConfig(task="rescaling", scale=2)
>>> cfg.c_in, cfg.c_out
(3, 3)

A config is plain data (``asdict`` / ``from_dict``) so it can live in the weights registry and in
checkpoint metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TASKS = ("hiding", "rescaling", "decolorization")
VARIANTS = ("win", "win-naive")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one WIN / WIN-Naive network.

    task/secrets/scale fix the channel counts; the rest sizes the network:
    ``width`` (n) of the WIMs, ``ratio`` r, ``modules`` (M WIMs per stage), ``couplings`` (B per
    WIM), dense-block ``growth`` and ``depth``; ``late_width``/``late_modules``/``late_couplings``
    size the second x2 stage of x4 rescaling (0 = same as the first); ``naive_couplings`` is the
    coupling count of WIN-Naive.
    """

    task: str
    variant: str = "win"
    secrets: int = 1
    scale: int = 2
    width: int = 32
    ratio: float = 0.75
    modules: int = 2
    couplings: int = 4
    growth: int = 32
    depth: int = 5
    late_width: int = 0
    late_modules: int = 0
    late_couplings: int = 0
    naive_couplings: int = 8

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")
        if self.variant not in VARIANTS:
            raise ValueError(
                f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        if self.task == "hiding" and not 1 <= self.secrets <= 4:
            raise ValueError(f"hiding takes 1 to 4 secrets, not {self.secrets}")
        if self.task == "rescaling" and self.scale not in (2, 4):
            raise ValueError(f"rescaling scale must be 2 or 4, not {self.scale}")

    @property
    def c_in(self) -> int:
        """Channels of the high-dimensional side x."""
        return 3 * (self.secrets + 1) if self.task == "hiding" else 3

    @property
    def c_out(self) -> int:
        """Channels the network outputs (x4 rescaling: 4 groups of 3)."""
        if self.task == "decolorization":
            return 1
        if self.task == "rescaling" and self.scale == 4:
            return 12
        return 3

    @property
    def stages(self) -> int:
        """Number of squeezes (x2 stages)."""
        return {2: 1, 4: 2}[self.scale] if self.task == "rescaling" else 1

    @property
    def multiple(self) -> int:
        """Height and width must be a multiple of this."""
        return 2**self.stages

    @property
    def name(self) -> str:
        extra = {"hiding": f"-{self.secrets}", "rescaling": f"-x{self.scale}"}.get(self.task, "")
        return f"{self.task}{extra}"

    def same_io(self, other: ModelConfig) -> bool:
        """Same task, channels and size multiple: one can stand in for the other."""
        mine = (self.task, self.c_in, self.c_out, self.multiple)
        return mine == (other.task, other.c_in, other.c_out, other.multiple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


TASK_NAMES = (
    "hiding-1", "hiding-2", "hiding-3", "hiding-4", "rescaling-x2", "rescaling-x4",
    "decolorization",
)  # fmt: skip


def parse_task_name(name: str) -> dict[str, Any]:
    """``"hiding-2"`` -> {task: hiding, secrets: 2}; ``"rescaling-x4"`` -> {task: rescaling,
    scale: 4}; ``"decolorization"`` -> {task: decolorization}. The inverse of
    ``ModelConfig.name``; one parser for scripts, tests and the CLI."""
    task, _, arg = name.partition("-")
    try:
        if task == "hiding" and arg in ("1", "2", "3", "4"):
            return {"task": "hiding", "secrets": int(arg)}
        if task == "rescaling" and arg in ("x2", "x4"):
            return {"task": "rescaling", "scale": int(arg[1:])}
        if name == "decolorization":
            return {"task": "decolorization"}
    except ValueError:
        pass
    raise ValueError(f"unknown task name {name!r}; one of {', '.join(TASK_NAMES)}")
