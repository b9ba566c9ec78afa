"""What `win eval` writes: rows as CSV or JSON, and the images with their x20 residual maps.

>>> write_rows(Path("r.json"), rows, summary(rows))        # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from wincli.evaluate import Row


def residual_map(a: torch.Tensor, b: torch.Tensor, gain: float = 20.0) -> torch.Tensor:
    """|a - b| x gain, clipped: the paper's magnified residual figures."""
    return ((a - b).abs() * gain).clamp(0, 1)


def image_saver(folder: Path):
    """A ``save(name, images, residual_pairs)`` callback writing PNGs into ``folder``."""
    from wincli.io import write_image

    folder.mkdir(parents=True, exist_ok=True)

    def save(name: str, images: dict, pairs: dict) -> None:
        for key, img in images.items():
            write_image(folder / f"{name}_{key}.png", img)
        for key, (a, b) in pairs.items():
            c = min(a.shape[1], b.shape[1])
            write_image(folder / f"{name}_{key}_residual_x20.png", residual_map(a[:, :c], b[:, :c]))

    return save


def _finite(d: dict) -> dict:
    """Strict JSON: infinite or NaN values become None (null)."""
    return {k: (v if v is None or math.isfinite(v) else None) for k, v in d.items()}


def write_rows(path: Path, rows: list[Row], means: dict) -> None:
    """Rows (and means) as CSV or JSON, chosen by the suffix; written atomically."""
    import csv
    import io
    import json

    from wincli.errors import OutputError
    from wincli.fs import atomic_write

    path = Path(path)
    if path.suffix.lower() == ".json":
        doc = {
            "null": "PSNR of identical images (infinite), or a payload that did not survive",
            "rows": [{**r.__dict__, "metrics": _finite(r.metrics)} for r in rows],
            "means": {m: _finite(d) for m, d in means.items()},
        }
        text = json.dumps(doc, indent=1, allow_nan=False)
    elif path.suffix.lower() == ".csv":
        keys = sorted({k for r in rows for k in r.metrics})
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["image", "method", *keys])
        for r in rows:
            w.writerow([r.image, r.method, *(r.metrics.get(k, "") for k in keys)])
        for m, d in means.items():
            w.writerow(["MEAN", m, *(d.get(k, "") for k in keys)])
        text = buf.getvalue()
    else:
        raise OutputError(f"{path}: --out must end in .csv or .json")
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
