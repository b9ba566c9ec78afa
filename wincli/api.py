"""Python API mirroring the commands, on PIL images or uint8 arrays.

>>> from PIL import Image
>>> import wincli
>>> stego = wincli.hide(Image.open("cover.png"), [Image.open("secret.png")])   # doctest: +SKIP
>>> cover, secrets = wincli.reveal(stego, secrets=1)
>>> lr = wincli.downscale(Image.open("photo.png"), scale=2)
>>> hr = wincli.upscale(lr, scale=2, size=(h, w))

Each function accepts ``model=`` (a :class:`~wincli.converter.Converter`, reused across calls)
or the loading options of ``Converter.load`` (``weights=``, ``device=``, ``tile=``, ...).
Arrays are (H, W, 3) or (H, W) uint8; results are PIL images (8-bit, like the files).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from wincli.converter import Converter, fit_secret
from wincli.errors import InputError
from wincli.io import from_uint8, rgb8

ImageLike = Any  # PIL.Image.Image | np.ndarray


def _rgb(img: ImageLike) -> torch.Tensor:
    if isinstance(img, Image.Image):
        arr = rgb8(img)
    else:
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, -1)
        if arr.ndim != 3 or arr.shape[-1] not in (3, 4) or arr.dtype != np.uint8:
            raise InputError("expected an (H, W, 3) uint8 array or a PIL image")
        arr = arr[..., :3]
    return from_uint8(arr)


def _gray(img: ImageLike) -> torch.Tensor:
    arr = np.asarray(img.convert("L")) if isinstance(img, Image.Image) else np.asarray(img)
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise InputError("expected an (H, W) uint8 array or a PIL image")
    return from_uint8(arr)


def _pil(x: torch.Tensor) -> Image.Image:
    from wincli.io import to_uint8

    return Image.fromarray(to_uint8(x))


def _conv(model: Converter | None, task: str, **kw) -> Converter:
    return model if model is not None else Converter.load(task, **kw)


def hide(
    cover: ImageLike,
    secrets: list[ImageLike],
    *,
    model: Converter | None = None,
    method: str = "win",
    bits: int = 1,
    passphrase: str | None = None,
    codec: str = "auto",
    **load,
) -> Image.Image:
    """Hide 1-4 secrets in ``cover``; returns the stego image.

    ``method="lsb"``: the secrets (any sizes) are coded with WebP/JPEG (``codec``), encrypted
    with ``passphrase`` (none: authenticated only) and LSB-matched into ``bits`` low bits.
    ``method="jpeg"``: the same payload on the cover's JPEG lattice (``wincli.lattice``): it
    survives a JPEG of the stego at quality 75 or better (``bits`` does not apply).
    """
    if method in ("lsb", "jpeg"):
        from wincli.verbs import classical_method

        hide_fn, _ = classical_method(method)
        opts = {"bits": bits} if method == "lsb" else {}
        stego, _ = hide_fn(
            _uint8(cover), [_uint8(s) for s in secrets], passphrase=passphrase, codec=codec, **opts
        )
        return Image.fromarray(stego)
    _method(method)
    c = _rgb(cover)
    secs = [fit_secret(_rgb(s), tuple(c.shape[-2:])) for s in secrets]
    conv = _conv(model, "hiding", secrets=len(secs), **load)
    return _pil(conv.forward(conv.config.spec.pack([c, *secs])))


def reveal(
    stego: ImageLike,
    secrets: int = 1,
    *,
    model: Converter | None = None,
    method: str = "win",
    passphrase: str | None = None,
    **load,
) -> tuple[Image.Image, list[Image.Image]]:
    """(recovered cover, [secret_1 ... secret_n]) from a stego image.

    ``method="lsb"`` or ``"jpeg"``: every hidden secret at its own size (``secrets`` is not
    needed); the "cover" returned is the stego itself (it carried the payload). Raises
    ``InputError`` when nothing is hidden or the passphrase is wrong. A JPEG opened from a file
    (``Image.open``) is read through its file, as ``win reveal`` reads it.
    """
    from wincli.verbs import classical_method, classical_payload

    if method not in ("lsb", "jpeg"):
        _method(method)
    pixels = _uint8(stego)
    path = getattr(stego, "filename", None) if isinstance(stego, Image.Image) else None
    if method in ("lsb", "jpeg"):
        from wincli.lattice import read_shared

        opts = {}
        if method == "jpeg" and path:
            opts["shared"] = read_shared(path)
        found = classical_method(method)[1](pixels, passphrase=passphrase, **opts)
        return Image.fromarray(pixels), [Image.fromarray(c.decode()) for c in found]
    classical = classical_payload(path, pixels)
    if classical:
        raise InputError(f"this stego was hidden with method={classical!r}; reveal it with that")
    conv = _conv(model, "hiding", secrets=secrets, **load)
    cover, *found = conv.config.spec.unpack(conv.inverse(_rgb(stego)))
    return _pil(cover), [_pil(s) for s in found]


def _method(method: str) -> None:
    if method != "win":
        raise InputError(f"method must be 'win', 'lsb' or 'jpeg', not {method!r}")


def _uint8(img: ImageLike) -> np.ndarray:
    """(H, W, 3) uint8 from a PIL image or an array (as ``_rgb`` accepts them)."""
    from wincli.io import to_uint8

    return to_uint8(_rgb(img))


def downscale(
    hr: ImageLike, scale: int = 2, *, model: Converter | None = None, **load
) -> Image.Image:
    conv = _conv(model, "rescaling", scale=scale, **load)
    return _pil(conv.forward(_rgb(hr)))


def upscale(
    lr: ImageLike,
    scale: int = 2,
    size: tuple[int, int] | None = None,
    *,
    model: Converter | None = None,
    **load,
) -> Image.Image:
    """``size`` = (H, W) of the original (default: LR size times the scale)."""
    conv = _conv(model, "rescaling", scale=scale, **load)
    return _pil(conv.inverse(_rgb(lr), size=size))


def decolorize(color: ImageLike, *, model: Converter | None = None, **load) -> Image.Image:
    conv = _conv(model, "decolorization", **load)
    return _pil(conv.forward(_rgb(color)))


def colorize(gray: ImageLike, *, model: Converter | None = None, **load) -> Image.Image:
    conv = _conv(model, "decolorization", **load)
    return _pil(conv.inverse(_gray(gray)))
