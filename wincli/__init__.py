"""wincli: reversible image conversion with Well-posed Invertible Networks.

>>> import wincli
>>> net = wincli.build_model("hiding", secrets=1, preset="cpu")     # doctest: +SKIP
>>> stego = wincli.hide(cover_img, [secret_img])                     # PIL in, PIL out

Attributes are imported lazily so that ``win --help`` does not pay for torch.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "build_model": "wincli.models",
    "hide": "wincli.api",
    "reveal": "wincli.api",
    "downscale": "wincli.api",
    "upscale": "wincli.api",
    "decolorize": "wincli.api",
    "colorize": "wincli.api",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'wincli' has no attribute {name!r}")
