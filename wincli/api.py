"""Python API mirroring the commands, on PIL images or uint8 arrays.

>>> from PIL import Image
>>> import wincli
>>> stego = wincli.hide(Image.open("cover.png"), [Image.open("secret.png")])   # doctest: +SKIP
>>> cover, secrets = wincli.reveal(stego, secrets=1)
>>> lr = wincli.downscale(Image.open("photo.png"), scale=2)
>>> hr = wincli.upscale(lr, scale=2)          # the photo's exact size: lr.info records it

Each function accepts ``model=`` (a :class:`~wincli.converter.Converter`, reused across calls)
or the loading options of ``Converter.load`` (``weights=``, ``device=``, ``tile=``, ...).
Arrays are (H, W, 3) or (H, W) uint8; results are PIL images (8-bit, like the files). A stored
image (``downscale``, ``decolorize``) carries in ``.info`` the records its PNG file would (the
original size, the scale, the weights that made it): ``upscale`` / ``colorize`` read them from
it, or from the text chunks of a PNG opened with ``Image.open``, as the commands read files.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from PIL import Image

from wincli.converter import Converter, fit_secret
from wincli.errors import InputError
from wincli.io import LOSSY_FORMATS, from_uint8, rgb8

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


def _srgb(img: ImageLike) -> torch.Tensor:
    """``_rgb`` of a secret, converted to sRGB from the PIL image's colour profile."""
    from wincli.io import to_srgb

    icc = img.info.get("icc_profile") if isinstance(img, Image.Image) else None
    return to_srgb(_rgb(img), icc)


def _gray(img: ImageLike) -> torch.Tensor:
    arr = np.asarray(img.convert("L")) if isinstance(img, Image.Image) else np.asarray(img)
    if arr.ndim != 2 or arr.dtype != np.uint8:
        raise InputError("expected an (H, W) uint8 array or a PIL image")
    return from_uint8(arr)


def _pil(x: torch.Tensor, records: dict[str, str] | None = None) -> Image.Image:
    from wincli.io import to_uint8

    img = Image.fromarray(to_uint8(x))
    img.info.update(records or {})
    return img


def _records(img: ImageLike) -> SimpleNamespace:
    """The ``win:`` records a stored image carries (``.info`` of an API result, the text
    chunks of an opened PNG), shaped like the file reader's metadata (``.text``)."""
    text = {}
    if isinstance(img, Image.Image):
        for source in (img.info, getattr(img, "text", None) or {}):
            text |= {k: v for k, v in source.items() if isinstance(k, str) and k.startswith("win:")}
    return SimpleNamespace(text=text)


def _conv(model: Converter | None, task: str, **kw) -> Converter:
    return model if model is not None else Converter.load(task, **kw)


def hide(
    cover: ImageLike,
    secrets: list[ImageLike],
    *,
    model: Converter | None = None,
    method: str = "win",
    bits: int = 1,
    payload: float | None = None,
    passphrase: str | None = None,
    codec: str = "auto",
    fit: str | None = None,
    **load,
) -> Image.Image:
    """Hide 1-4 secrets in ``cover``; returns the stego image.

    ``method="lsb"``: the secrets (any sizes) are coded with WebP/JPEG (``codec``), encrypted
    with ``passphrase`` (none: authenticated only) and LSB-matched into ``bits`` low bits.
    ``method="jpeg"``: the same payload on the cover's JPEG lattice (``wincli.lattice``): it
    survives a JPEG of the stego at quality 75 or better (``bits`` does not apply).
    ``method="stealth"``: the same payload in adaptive +-1 changes (``wincli.stealth``) at
    ``payload`` bits per cover value (None: the CLI's default).
    WIN: secrets are brought to the cover's size and colour as by ``win hide``: a secret with a
    colour profile is converted to sRGB, one of another aspect ratio is refused unless ``fit``
    ("stretch", "crop" or "pad") says how.
    """
    from wincli.verbs import CLASSICAL, classical_method, method_options, sealed

    if method in CLASSICAL:
        hide_fn, _ = classical_method(method)
        stego, _ = hide_fn(
            _uint8(cover), [_uint8(s) for s in secrets], passphrase=passphrase, codec=codec,
            **method_options(method, bits, payload),
        )  # fmt: skip
        return Image.fromarray(stego)
    _method(method)
    c = _rgb(cover)
    secs = [fit_secret(_srgb(s), tuple(c.shape[-2:]), fit) for s in secrets]
    conv = _conv(model, "hiding", secrets=len(secs), **load)
    return _pil(sealed(conv, conv.forward(conv.config.spec.pack([c, *secs]))))


def reveal(
    stego: ImageLike,
    secrets: int = 1,
    *,
    model: Converter | None = None,
    method: str = "win",
    passphrase: str | None = None,
    force: bool = False,
    **load,
) -> tuple[Image.Image, list[Image.Image]]:
    """(recovered cover, [secret_1 ... secret_n]) from a stego image.

    ``method="lsb"``, ``"jpeg"`` or ``"stealth"``: every hidden secret at its own size
    (``secrets`` is not needed); the "cover" returned is the stego itself (it carried the
    payload). Raises
    ``InputError`` when nothing is hidden or the passphrase is wrong. A JPEG opened from a file
    (``Image.open``) is read through its file, as ``win reveal`` reads it.
    WIN: ``InputError`` when the stego's seal is missing or names another ``secrets`` or other
    weights, as ``win reveal`` (``force``: reveal anyway).
    """
    from wincli.verbs import CLASSICAL, check_seal, classical_method, classical_payload

    if method not in CLASSICAL:
        _method(method)
    pixels = _uint8(stego)
    path = getattr(stego, "filename", None) if isinstance(stego, Image.Image) else None
    if method in CLASSICAL:
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
    x = _rgb(stego)
    if not force:
        lossy = isinstance(stego, Image.Image) and stego.format in LOSSY_FORMATS
        for note in check_seal(conv, x, path or "stego", lossy):
            warnings.warn(note, stacklevel=2)
    cover, *found = conv.config.spec.unpack(conv.inverse(x))
    return _pil(cover), [_pil(s) for s in found]


def _method(method: str) -> None:
    if method != "win":
        raise InputError(f"method must be 'win', 'lsb', 'jpeg' or 'stealth', not {method!r}")


def _uint8(img: ImageLike) -> np.ndarray:
    """(H, W, 3) uint8 from a PIL image or an array (as ``_rgb`` accepts them)."""
    from wincli.io import to_uint8

    return to_uint8(_rgb(img))


def downscale(
    hr: ImageLike, scale: int = 2, *, model: Converter | None = None, **load
) -> Image.Image:
    """The LR image `win downscale` stores, with its records in ``.info``."""
    from wincli.io import SCALE_KEY, SIZE_KEY
    from wincli.verbs import stored_text

    conv = _conv(model, "rescaling", scale=scale, **load)
    x = _rgb(hr)
    h, w = x.shape[-2:]
    records = {SIZE_KEY: f"{w}x{h}", SCALE_KEY: str(conv.config.scale), **stored_text(conv)}
    return _pil(conv.forward(x), records)


def upscale(
    lr: ImageLike,
    scale: int = 2,
    size: tuple[int, int] | None = None,
    *,
    model: Converter | None = None,
    **load,
) -> Image.Image:
    """The HR image `win upscale` restores. ``size`` = (width, height) of the original, as
    PIL gives sizes (default: the size ``lr`` records, else its size times the scale); an LR
    image that records another scale or other weights is an ``InputError``, as in the CLI."""
    from wincli.io import SCALE_KEY
    from wincli.verbs import check_weights, recorded_size

    conv = _conv(model, "rescaling", scale=scale, **load)
    x, meta = _rgb(lr), _records(lr)
    s = conv.config.scale
    made = meta.text.get(SCALE_KEY)
    if made and made != str(s):
        raise InputError(f"this image was downscaled x{made}; use scale={made}")
    check_weights("this image", meta, conv)
    hw = (size[1], size[0]) if size is not None else recorded_size(meta, tuple(x.shape[-2:]), s)
    return _pil(conv.inverse(x, size=hw))


def decolorize(color: ImageLike, *, model: Converter | None = None, **load) -> Image.Image:
    """The gray image `win decolorize` stores, with its records in ``.info``."""
    from wincli.io import MODEL_KEY
    from wincli.verbs import stored_text

    conv = _conv(model, "decolorization", **load)
    records = {MODEL_KEY: conv.config.spec.name, **stored_text(conv)}
    return _pil(conv.forward(_rgb(color)), records)


def colorize(gray: ImageLike, *, model: Converter | None = None, **load) -> Image.Image:
    """The colour image `win colorize` restores (other weights than the gray's: InputError)."""
    from wincli.verbs import check_weights

    conv = _conv(model, "decolorization", **load)
    check_weights("this image", _records(gray), conv)
    return _pil(conv.inverse(_gray(gray)))
