"""Changes to ``weights/registry.json``, for the release tools: each one reads the file, applies
one change to one record and writes the file atomically (a reader never sees half a file).

>>> add_record(record)                                  # doctest: +SKIP  (ship a checkpoint)
>>> set_fields("rescaling-x2-win-cpu", metrics=m)       # doctest: +SKIP  (re-measured numbers)

Reading the registry as records is ``wincli.weights.load_registry``. A record's ``metrics``
are checked against the registry's schema (``wincli.evaluate.check_metrics``) before anything
is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def registry_file(path: Path | None = None) -> Path:
    """``path``, else the registry ``win`` loads (``wincli.weights.registry_path``), else the
    source checkout's."""
    from wincli.weights import _SOURCE_WEIGHTS, registry_path

    return Path(path or registry_path() or _SOURCE_WEIGHTS / "registry.json")


def read_json(path: Path | None = None) -> dict:
    """The registry file as plain data ({"hub": ..., "models": [...]})."""
    path = registry_file(path)
    return json.loads(path.read_text()) if path.exists() else {"hub": {}, "models": []}


def _write_json(data: dict, path: Path | None = None) -> None:
    from wincli.fs import atomic_write

    for record in data["models"]:
        _check(record)
    text = json.dumps(data, indent=1) + "\n"
    atomic_write(registry_file(path), lambda tmp: Path(tmp).write_text(text))


def _check(record: dict) -> None:
    """Raise ValueError unless ``record`` names a known task and its metrics fit the schema."""
    from wincli.evaluate import check_metrics
    from wincli.models import ModelConfig

    try:
        spec = ModelConfig.from_dict(record["config"]).spec
        check_metrics(spec, record.get("metrics", {}))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"registry record {record.get('name')!r}: {e}") from e


def set_fields(name: str, path: Path | None = None, **fields: Any) -> None:
    """Set top-level ``fields`` of the record called ``name`` (``metrics=``, ``encoder=``,
    ``bytes_per_pixel=``); KeyError when there is no such record."""
    data = read_json(path)
    found = [m for m in data["models"] if m["name"] == name]
    if not found:
        raise KeyError(f"{name} is not in the registry")
    for m in found:
        m.update(fields)
    _write_json(data, path)


def add_record(record: dict, path: Path | None = None) -> None:
    """Add ``record``, replacing one of the same name. A new default (not robust) takes the
    default from the record of the same task and variant it displaces (one default each; a
    robust model is picked by ``--robust``, not by this); a replacement with the same
    architecture keeps the measured ``bytes_per_pixel``."""
    from wincli.models import ModelConfig

    data = read_json(path)
    cfg = ModelConfig.from_dict(record["config"])
    record = dict(record)
    for m in data["models"]:
        if m["name"] == record["name"] and m["config"] == record["config"]:
            if "bytes_per_pixel" in m:
                record.setdefault("bytes_per_pixel", m["bytes_per_pixel"])
    models = [m for m in data["models"] if m["name"] != record["name"]]
    if record.get("default") and not record.get("robust"):
        for m in models:
            same = ModelConfig.from_dict(m["config"]).same_io(cfg) and m["variant"] == cfg.variant
            if same and not m.get("robust"):
                m["default"] = False
    data["models"] = [*models, record]
    _write_json(data, path)
