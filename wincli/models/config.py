"""The architecture config record: everything needed to rebuild a network.

>>> cfg = ModelConfig(task="rescaling", scale=2)
>>> cfg.c_in, cfg.c_out
(3, 3)

A config is plain data (``asdict`` / ``from_dict``) so it can live in the weights registry and in
checkpoint metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

from wincli.tasks import TASK_CLASSES, VARIANTS, Task, make_task


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
    restorer: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASK_CLASSES:
            known = ", ".join(TASK_CLASSES)
            raise ValueError(f"unknown task {self.task!r}; choose one of {known}")
        if self.variant not in VARIANTS:
            raise ValueError(
                f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}"
            )
        spec = make_task(self.task, secrets=self.secrets, scale=self.scale)  # validates
        # the argument a task does not take keeps its default: no secrets on a rescaling model
        for name, default in (("secrets", 1), ("scale", 2)):
            if name not in spec.config_fields() and getattr(self, name) != default:
                raise ValueError(f"a {self.task} model has no {name}")

    @cached_property
    def spec(self) -> Task:
        """The task object (``Hiding(2)``, ``Rescaling(4)``, ``Decolorization()``)."""
        return make_task(self.task, secrets=self.secrets, scale=self.scale)

    @property
    def c_in(self) -> int:
        """Channels of the high-dimensional side x."""
        return self.spec.c_in

    @property
    def c_out(self) -> int:
        """Channels the network outputs (x4 rescaling: 4 groups of 3)."""
        return self.spec.c_out

    @property
    def stages(self) -> int:
        """Number of squeezes (x2 stages)."""
        return self.spec.stages

    @property
    def multiple(self) -> int:
        """Height and width must be a multiple of this."""
        return self.spec.multiple

    @property
    def name(self) -> str:
        return self.spec.name

    def same_io(self, other: ModelConfig) -> bool:
        """Same task, channels and size multiple: one can stand in for the other."""
        mine = (self.task, self.c_in, self.c_out, self.multiple)
        return mine == (other.task, other.c_in, other.c_out, other.multiple)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; ``secrets`` only for hiding, ``scale`` only for rescaling, ``restorer``
        only when there is one."""
        d = asdict(self)
        for name in ("secrets", "scale"):
            if name not in self.spec.config_fields():
                del d[name]
        if not self.restorer:
            del d["restorer"]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        return cls(**data)
