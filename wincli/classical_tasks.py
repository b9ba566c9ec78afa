"""The codec-in-LSB schemes that ``win eval`` sets beside WIN's rescaling and decolorization:
a bicubic thumbnail (or a Lab L / luma gray) that carries, in its low bits, what the receiver
needs to restore the original (``wincli.classical``'s encrypted payload, a codec stream at the
byte budget the low bits give).

>>> lr, info = thumbnail_lsb(hr, 2, bits=3, codec="auto", residual=True)   # doctest: +SKIP
>>> hr2 = restore_thumbnail(lr)
>>> gray, info = gray_lsb(color, bits=1, target="lab")
>>> color2 = colorize_gray(gray)

Arrays are (H, W, 3) or (H, W) uint8. Each payload starts with a kind byte (hiding payloads start
with n = 1..4 instead), so a payload is never read as another scheme's.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from wincli.classical import (
    SECRET,
    TAG,
    Coded,
    capacity,
    code_secret,
    embed_bytes,
    extract_bytes,
    header_bits,
    pack_payload,
    unpack_payload,
)
from wincli.errors import InputError

THUMB, THUMB_RESIDUAL, GRAY_LUMA, GRAY_LAB = 0x10, 0x11, 0x20, 0x21


def _one(kind: int, extra: bytes, coded: Coded) -> bytes:
    return bytes([kind]) + extra + pack_payload([coded])[1:]


def _read_one(data: bytes, kind_set: tuple[int, ...], extra: int) -> tuple[int, bytes, Coded]:
    if not data or data[0] not in kind_set:
        raise InputError("the hidden payload is not of this kind (made by another win verb?)")
    return data[0], data[1 : 1 + extra], unpack_payload(b"\x01" + data[1 + extra :])[0]


def _bicubic(img: np.ndarray, size: tuple[int, int], down: bool) -> np.ndarray:
    """The project's bicubic (anti-aliased, a = -0.5) on uint8 (H, W, 3), rounded to 8 bits."""
    from wincli.imaging import bicubic_down, bicubic_up
    from wincli.io import from_uint8

    x = from_uint8(img)
    y = bicubic_down(x, x.shape[-2] // size[0]) if down else bicubic_up(x, size[0] // x.shape[-2])
    return (y[0].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()


def _predict(lr_stego: np.ndarray, scale: int, bits: int) -> np.ndarray:
    """The HR prediction both sides can make: the LR's high bits (mid-bin), bicubic up."""
    mid = ((lr_stego >> bits) << bits).astype(np.int32) + ((1 << bits) >> 1)
    lr = np.clip(mid, 0, 255).astype(np.uint8)
    h, w = lr.shape[:2]
    return _bicubic(lr, (h * scale, w * scale), down=False)


def thumbnail_lsb(
    hr: np.ndarray, scale: int, *, bits: int = 3, codec: str = "auto", residual: bool = True
) -> tuple[np.ndarray, Coded]:
    """The bicubic thumbnail of (H, W, 3) uint8 ``hr`` (H, W multiples of ``scale``) carrying
    a WebP/JPEG stream of ``hr`` in its ``bits`` low bits (LSB replacement). ``residual``: the
    stream codes ``hr`` minus the receiver's own bicubic prediction (offset by 128)."""
    h, w = hr.shape[:2]
    lr = _bicubic(hr, (h // scale, w // scale), down=True)
    budget = capacity(lr.shape, bits) - TAG - 2 - SECRET.size
    if residual:
        keep = (lr >> bits) << bits  # what replacement leaves of the thumbnail
        pred = _predict(keep, scale, bits)
        img = np.clip(hr.astype(np.int32) - pred + 128, 0, 255).astype(np.uint8)
    else:
        img = hr
    coded = code_secret(img, budget, codec)
    data = _one(THUMB_RESIDUAL if residual else THUMB, bytes([scale]), coded)
    return embed_bytes(lr, data, bits=bits, matching=False), coded


def restore_thumbnail(lr_stego: np.ndarray) -> np.ndarray:
    """The HR image the receiver of :func:`thumbnail_lsb` gets."""
    kind, extra, coded = _read_one(extract_bytes(lr_stego), (THUMB, THUMB_RESIDUAL), 1)
    dec = coded.decode()
    if kind == THUMB:
        return dec
    pred = _predict(lr_stego, extra[0], header_bits(lr_stego))
    return np.clip(pred.astype(np.int32) + dec - 128, 0, 255).astype(np.uint8)


_M = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]]
)  # fmt: skip
_WHITE = np.array([0.95047, 1.0, 1.08883])


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) uint8 -> CIE Lab (D65) float: L in [0, 100], a and b about +-100."""
    c = rgb.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    t = (lin @ _M.T) / _WHITE
    eps = (6 / 29) ** 3
    f = np.where(t > eps, np.cbrt(np.maximum(t, eps)), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) float (..., 3) -> sRGB uint8 (out-of-gamut colours clipped)."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    t = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    lin = np.clip(t @ np.linalg.inv(_M).T, 0, 1)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.round(c * 255), 0, 255).astype(np.uint8)


def gray_lsb(
    color: np.ndarray, *, bits: int = 2, codec: str = "auto", target: str = "luma"
) -> tuple[np.ndarray, Coded]:
    """A gray (H, W) uint8 image carrying ``color``'s chroma as WebP/JPEG in its low bits.

    ``target="luma"``: the gray is the BT.601 luma (PIL "L") and the chroma is Cb, Cr;
    ``"lab"``: the gray is CIE Lab L (the WIN target, L * 255 / 100) and the chroma is a, b.
    The chroma travels as the RGB image (chroma 1, chroma 2, 128).
    """
    if target == "luma":
        ycc = np.asarray(Image.fromarray(color).convert("YCbCr"))
        gray, chroma = ycc[..., 0], ycc[..., 1:]
    elif target == "lab":
        lab = rgb_to_lab(color)
        gray = np.clip(np.round(lab[..., 0] * 2.55), 0, 255).astype(np.uint8)
        chroma = np.clip(np.round(lab[..., 1:] + 128), 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"target must be luma or lab, not {target!r}")
    img = np.concatenate([chroma, np.full_like(chroma[..., :1], 128)], -1)
    budget = capacity(gray.shape, bits) - TAG - 1 - SECRET.size
    coded = code_secret(img, budget, codec)
    data = _one(GRAY_LUMA if target == "luma" else GRAY_LAB, b"", coded)
    return embed_bytes(gray, data, bits=bits), coded


def colorize_gray(gray: np.ndarray) -> np.ndarray:
    """The colour image the receiver of :func:`gray_lsb` gets: (H, W, 3) uint8."""
    kind, _, coded = _read_one(extract_bytes(gray), (GRAY_LUMA, GRAY_LAB), 0)
    chroma = coded.decode()[..., :2]
    if kind == GRAY_LUMA:
        ycc = np.concatenate([gray[..., None], chroma], -1)
        return np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB"))
    lab = np.stack(
        [gray.astype(np.float64) / 2.55, chroma[..., 0] - 128.0, chroma[..., 1] - 128.0], -1
    )
    return lab_to_rgb(lab)
