"""Pretrained checkpoints as data, and where to load them from.

>>> rec = default_record("rescaling", scale=2)                 # doctest: +SKIP
>>> path, source = resolve(rec)      # WIN_WEIGHTS_DIR -> bundled weights/ -> HF cache -> Hub
>>> net = load_record(rec)           # sha256 checked, safetensors only, strict key match

The registry is ``weights/registry.json``: one record per checkpoint with task, secrets/scale,
variant, preset, architecture config, file, sha256, Hub repo id and revision, parameter count,
training recipe and the metrics we measured. ``HF_HUB_OFFLINE=1`` and ``HF_HOME`` are honoured
by huggingface_hub itself; ``WIN_WEIGHTS_DIR`` names a folder searched before the bundled one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wincli.errors import WeightsError

if TYPE_CHECKING:  # torch loads with the first network, not with `win models list`
    from wincli.models import ModelConfig
    from wincli.tasks import Task

_SOURCE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def bundled_dir() -> Path | None:
    """The shipped ``weights/`` folder: beside the package in a checkout, or inside the wheel."""
    if (_SOURCE_WEIGHTS / "registry.json").exists():
        return _SOURCE_WEIGHTS
    try:
        pkg = resources.files("wincli._bundled")
        if pkg.joinpath("registry.json").is_file():
            return Path(str(pkg))
    except (ModuleNotFoundError, TypeError):
        pass
    return None


@dataclass(frozen=True)
class WeightsRecord:
    """One checkpoint. ``config`` is the architecture; ``metrics`` what we measured."""

    name: str
    task: str
    variant: str
    preset: str
    config: dict[str, Any]
    file: str
    sha256: str
    params: int
    secrets: int = 1
    scale: int = 2
    default: bool = False
    repo_id: str = ""
    revision: str = "main"
    recipe: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    status: str = ""  # printed by the CLI when the checkpoint is used, e.g. below its floors
    # peak activation bytes per pixel of the high-dimensional side, whole image, the larger of
    # forward and inverse (scripts/bench_memory.py --per-model); sizes --tile auto
    bytes_per_pixel: float | None = None
    # The one-pass encoder trained for this checkpoint's inverse (wincli/encoder.py): file,
    # sha256, config, recipe, metrics; empty when none ships.
    encoder: dict[str, Any] = field(default_factory=dict)
    # A model trained for files that get re-encoded as JPEG (``win train --jpeg``): the
    # qualities it was trained over ("jpeg": "70-95"), the share of each batch ("share"), and
    # for a model continued at other qualities, each stage's ("stages": [{"jpeg", "share",
    # "steps"}]); its numbers after each JPEG quality are in ``metrics`` ("jpeg" sections).
    # Empty: a lossless one.
    robust: dict[str, Any] = field(default_factory=dict)
    # The restored PSNR's change in bf16 against fp32 through 8-bit files ("delta_db": {set:
    # dB}, "command": how it was measured); ``--precision auto`` uses bf16 only when every
    # change is within ``wincli.precision.AUTO_MAX_LOSS_DB``. Empty: never measured (fp32).
    bf16: dict[str, Any] = field(default_factory=dict)
    # Seconds of the store and restore commands on a 12 MP photo with default options, end to
    # end on the reference machine ("store", "restore", "cores", "measured", "command":
    # scripts/time_12mp.py). Empty: not measured.
    seconds_12mp: dict[str, Any] = field(default_factory=dict)

    @property
    def bf16_ok(self) -> bool | None:
        """bf16 measured within the bound (True), measured outside it (False), or unknown."""
        from wincli.precision import AUTO_MAX_LOSS_DB

        deltas = self.bf16.get("delta_db", {})
        if not deltas:
            return None
        return all(d >= -AUTO_MAX_LOSS_DB for d in deltas.values())

    @property
    def model_config(self) -> ModelConfig:
        from wincli.models import ModelConfig

        return ModelConfig.from_dict(self.config)

    @property
    def spec(self) -> Task:
        from wincli.tasks import make_task

        return make_task(self.task, secrets=self.secrets, scale=self.scale)


def default_metrics(rec: WeightsRecord) -> dict[str, dict[str, float]]:
    """{set: metrics} of what the CLI stores by default with ``rec``: the one-pass encoder's
    section where it has one, else the rounded forward output's ("8bit")."""
    section = "one_pass" if rec.encoder else "8bit"
    return {
        name: entry.get(section, entry.get("8bit", {}))
        for name, entry in rec.metrics.items()
        if isinstance(entry, dict)
    }


def registry_path() -> Path | None:
    d = bundled_dir()
    return d / "registry.json" if d else None


def load_registry(path: Path | None = None) -> list[WeightsRecord]:
    path = path or registry_path()
    if path is None or not path.exists():
        return []
    data = json.loads(path.read_text())
    hub = data.get("hub", {})
    out = []
    for rec in data.get("models", []):
        rec = {**rec}
        rec.setdefault("repo_id", hub.get("repo_id", ""))
        rec.setdefault("revision", hub.get("revision", "main"))
        out.append(WeightsRecord(**rec))
    return out


def default_record(
    task: Task | str,
    *,
    secrets: int = 1,
    scale: int = 2,
    variant: str = "win",
    registry: list[WeightsRecord] | None = None,
    robust: bool = False,
) -> WeightsRecord:
    """The default checkpoint for a task (a Task, or its kind with ``secrets`` / ``scale``):
    the one marked ``default``, else the first; with ``robust``, its JPEG-robust checkpoint."""
    from wincli.tasks import as_task

    spec = as_task(task, secrets=secrets, scale=scale)
    records = [
        r
        for r in (registry if registry is not None else load_registry())
        if r.spec == spec and r.variant == variant and bool(r.robust) == robust
    ]
    if not records:
        what = spec.name
        if robust:
            raise WeightsError(
                f"no JPEG-robust {what} ({variant}) checkpoint ships with this version; "
                f"robust models: {', '.join(robust_tasks(registry)) or 'none'}"
            )
        raise WeightsError(
            f"no pretrained {what} ({variant}) checkpoint ships with this version; train one with "
            f"`win train` and pass it with --weights"
        )
    defaults = [r for r in records if r.default]
    return (defaults or records)[0]


def robust_tasks(registry: list[WeightsRecord] | None = None) -> list[str]:
    """The task names (``rescaling-x2``, ...) that have a JPEG-robust checkpoint."""
    records = registry if registry is not None else load_registry()
    return sorted({r.spec.name for r in records if r.robust})


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hub_cache_dir() -> str | None:
    """The huggingface_hub cache, read from the environment at call time (HF_HUB_CACHE, then
    HF_HOME/hub; None lets huggingface_hub use its default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def hub_reachable(timeout: float = 5.0) -> str | None:
    """None when the Hub's host answers a TCP connection, else why not (one short line): a
    download is not even tried offline, where huggingface_hub would retry for half a minute."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"cannot reach {host} ({exc.strerror or type(exc).__name__}); offline?"


def _hub_download(rec: WeightsRecord, local_only: bool) -> Path:
    from huggingface_hub import hf_hub_download

    if not local_only:
        why = hub_reachable()
        if why:
            raise WeightsError(f"{rec.file}: {why}")

    return Path(
        hf_hub_download(
            rec.repo_id,
            rec.file,
            revision=rec.revision,
            cache_dir=hub_cache_dir(),
            local_files_only=local_only,
        )
    )


def resolve(rec: WeightsRecord, allow_download: bool = True) -> tuple[Path, str]:
    """(path, source) for a record: WIN_WEIGHTS_DIR, bundled weights/, HF cache, Hub."""
    override = os.environ.get("WIN_WEIGHTS_DIR")
    if override and not Path(override).is_dir():
        import warnings

        warnings.warn(f"WIN_WEIGHTS_DIR={override} is not a folder; ignored", stacklevel=2)
    if override and (Path(override) / rec.file).is_file():
        return Path(override) / rec.file, f"WIN_WEIGHTS_DIR ({override})"
    bundled = bundled_dir()
    if bundled and (bundled / rec.file).is_file():
        return bundled / rec.file, f"bundled ({bundled})"
    if not rec.repo_id:
        raise WeightsError(f"{rec.file}: not bundled and no Hub repo recorded; pass --weights FILE")
    try:
        return _hub_download(
            rec, local_only=True
        ), f"Hugging Face cache ({rec.repo_id}@{rec.revision})"
    except Exception as cache_exc:  # noqa: BLE001 - every hub error becomes one message
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        if not allow_download or offline:
            raise WeightsError(
                f"{rec.file} not found in {rec.repo_id} at revision {rec.revision} "
                f"(offline, not in the cache: {type(cache_exc).__name__}); "
                f"run `win models pull {rec.name}` online or pass --weights FILE"
            ) from None
    try:
        return _hub_download(rec, local_only=False), f"Hub download ({rec.repo_id}@{rec.revision})"
    except WeightsError as exc:
        raise WeightsError(f"{exc}; pass --weights FILE") from None
    except Exception as exc:  # noqa: BLE001
        raise WeightsError(
            f"cannot download {rec.file} from {rec.repo_id} at revision {rec.revision} "
            f"({type(exc).__name__}); pass --weights FILE"
        ) from None


def verify(rec: WeightsRecord, path: Path) -> None:
    digest = sha256_file(path)
    if digest != rec.sha256:
        raise WeightsError(
            f"{path}: sha256 {digest[:12]}... does not match the registry's {rec.sha256[:12]}... "
            f"for {rec.name}; the file is corrupt or was replaced"
        )


def load_record(rec: WeightsRecord, allow_download: bool = True):
    """Resolve, hash-check and load a registry checkpoint; returns (model, path, source)."""
    from wincli.checkpoint import load_model

    path, source = resolve(rec, allow_download)
    verify(rec, path)
    return load_model(path, rec.model_config, trusted=True), path, source


def encoder_record(rec: WeightsRecord) -> WeightsRecord | None:
    """``rec``'s one-pass encoder as a record of its own (file, sha256, same Hub repo), so that
    it resolves, downloads and verifies like any checkpoint; None when it has none."""
    if not rec.encoder:
        return None
    from dataclasses import replace

    return replace(
        rec, name=f"{rec.name}-encoder", file=rec.encoder["file"], sha256=rec.encoder["sha256"],
        encoder={},
    )  # fmt: skip


def with_encoders(records: list[WeightsRecord]) -> list[WeightsRecord]:
    """Each record followed by its encoder's record, where it has one."""
    return [x for r in records for x in (r, encoder_record(r)) if x is not None]


def load_record_encoder(rec: WeightsRecord, net, allow_download: bool = True):
    """The encoder registered for ``rec`` (hash-checked, and checked to serve ``net``), or
    None when none ships."""
    from wincli.encoder import load_encoder

    enc = encoder_record(rec)
    if enc is None:
        return None
    path, _ = resolve(enc, allow_download)
    verify(enc, path)
    return load_encoder(path, net, trusted=True)


def load_weights_file(path: str | Path, expect: ModelConfig | None = None):
    """Load a user's own safetensors file (architecture from its metadata)."""
    from wincli.checkpoint import load_model

    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{p}: no such weights file")
    if p.suffix != ".safetensors":
        raise WeightsError(f"{p}: only .safetensors checkpoints load (.pt files can run code)")
    model = load_model(p)
    if expect is not None:
        got = model.config
        if not got.same_io(expect):
            raise WeightsError(f"{p}: is a {got.name} checkpoint, not {expect.name}")
    return model


def where_from(rec: WeightsRecord) -> str:
    """Where ``rec`` would load from now, without downloading."""
    try:
        _, source = resolve(rec, allow_download=False)
        return source
    except WeightsError:
        return f"Hub ({rec.repo_id}@{rec.revision}), not cached"


def pull(name: str | None = None) -> list[str]:
    """Download registry files into the Hugging Face cache; returns one line per file."""
    records = load_registry()
    if name:
        records = [r for r in records if r.name == name]
        if not records:
            raise WeightsError(f"no checkpoint named {name!r}; see `win models list`")
    records = with_encoders(records)
    lines = []
    for rec in records:
        try:
            path = _hub_download(rec, local_only=False)
        except WeightsError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise WeightsError(
                f"cannot download {rec.file} from {rec.repo_id} at revision "
                f"{rec.revision} ({type(exc).__name__})"
            ) from None
        verify(rec, path)
        lines.append(f"{rec.name}: {path}")
    return lines


def verify_all() -> list[tuple[str, str]]:
    """(name, "ok (source)" | "FAILED ..." | "not available locally") for every record."""
    out = []
    for rec in with_encoders(load_registry()):
        try:
            path, source = resolve(rec, allow_download=False)
        except WeightsError:
            out.append((rec.name, "not available locally"))
            continue
        try:
            verify(rec, path)
            out.append((rec.name, f"ok ({source})"))
        except WeightsError as exc:
            out.append((rec.name, f"FAILED: {exc}"))
    return out
