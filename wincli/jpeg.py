"""JPEG as a channel: the real codec (Pillow) on tensors, a differentiable stand-in for its
gradient, and the training-time channel that puts the two together.

>>> shared = pillow_jpeg(stored, 90)           # (B, C, H, W) -> what a JPEG q90 leaves of it
>>> y = jpeg_ste(stored, [90, 75])             # the same values, with a gradient
>>> channel = JpegChannel(70, 95, share=0.5)   # training: half the batch through a JPEG
>>> received = channel(stored)

Values are always the real codec's (Pillow, libjpeg defaults: 4:2:0 chroma subsampling for
colour, one plane for grey), so a model trained through :class:`JpegChannel` meets exactly what
``Image.save(..., quality=q)`` does to its file. The gradient comes from :func:`jpeg_surrogate`:
JFIF YCbCr, 2x2 chroma averaging, the 8x8 DCT, the libjpeg quantisation tables scaled by the
quality, a straight-through rounding of the coefficients, and bilinear chroma upsampling.
"""

from __future__ import annotations

import io as _io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from wincli.precision import full_precision

QUALITIES = (95, 90, 75, 50)  # the qualities `win eval` reports

# ITU T.81 Annex K tables (the ones libjpeg scales by the quality)
_LUMA = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]  # fmt: skip
_CHROMA = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
] + [99] * 32  # fmt: skip


def quant_table(quality: int, chroma: bool = False) -> torch.Tensor:
    """The (8, 8) quantisation table libjpeg uses at ``quality`` (1-100)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 / q if q < 50 else 200 - 2 * q
    base = torch.tensor(_CHROMA if chroma else _LUMA, dtype=torch.float32)
    return ((base * scale + 50) // 100).clamp(1, 255).view(8, 8)


def dct_matrix() -> torch.Tensor:
    """The orthonormal 8-point DCT-II (float64): a block's JPEG coefficients are M @ block @ M.T."""
    k = torch.arange(8, dtype=torch.float64)
    m = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    m[0] /= math.sqrt(2)
    return m


_DCT = dct_matrix().float()


def pillow_jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """What a Pillow JPEG at ``quality`` leaves of ``image``: (B, C, H, W) float in [0, 1],
    C = 3 (RGB, 4:2:0) or 1 (grey) -> the same shape, on the 8-bit grid. No gradient."""
    out = []
    arr = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    for one in arr:
        planes = one.permute(1, 2, 0).numpy()
        pil = Image.fromarray(planes[..., 0] if planes.shape[2] == 1 else planes)
        buf = _io.BytesIO()
        pil.save(buf, "JPEG", quality=int(quality))
        back = np.asarray(Image.open(buf).convert(pil.mode))
        back = back[..., None] if back.ndim == 2 else back
        out.append(torch.from_numpy(back.copy()).permute(2, 0, 1))
    return (torch.stack(out).float() / 255).to(image.device)


def _blocks(plane: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) with H, W multiples of 8 -> (B, H/8, W/8, 8, 8)."""
    b, _, h, w = plane.shape
    return plane.view(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)


def _unblocks(blocks: torch.Tensor) -> torch.Tensor:
    b, nh, nw = blocks.shape[:3]
    return blocks.permute(0, 1, 3, 2, 4).reshape(b, 1, nh * 8, nw * 8)


def _code_plane(plane: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
    """DCT, quantise (straight-through rounding), dequantise, inverse DCT of a level-shifted
    (B, 1, H, W) plane on the 0-255 scale; ``tables`` (B, 8, 8), one per sample."""
    m = _DCT.to(plane.device, plane.dtype)
    coef = m @ _blocks(plane - 128) @ m.T
    t = tables[:, None, None].to(plane.dtype)
    scaled = coef / t
    rounded = scaled + (torch.round(scaled) - scaled).detach()
    return _unblocks(m.T @ (rounded * t) @ m) + 128


def jpeg_surrogate(image: torch.Tensor, qualities: list[int]) -> torch.Tensor:
    """A differentiable JPEG: (B, C, H, W) float in [0, 1], C = 3 or 1, one quality per sample
    -> the same shape. Close to Pillow's output (within a few tenths of a dB at q75-95); used
    for its gradient, see :func:`jpeg_ste`."""
    b, c, h, w = image.shape
    x = image * 255
    ph, pw = -h % 16, -w % 16
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    luma = torch.stack([quant_table(q) for q in qualities]).to(x.device)
    if c == 1:
        y = _code_plane(x, luma)
        return (y[..., :h, :w] / 255).clamp(0, 1)
    r, g, bl = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * bl
    cb = -0.168736 * r - 0.331264 * g + 0.5 * bl + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * bl + 128
    chroma = torch.stack([quant_table(q, chroma=True) for q in qualities]).to(x.device)
    y = _code_plane(y, luma)
    cb, cr = (
        F.interpolate(
            _code_plane(F.avg_pool2d(p, 2), chroma), scale_factor=2, mode="bilinear",
            align_corners=False,
        )
        for p in (cb, cr)
    )  # fmt: skip
    rgb = torch.cat(
        [
            y + 1.402 * (cr - 128),
            y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
            y + 1.772 * (cb - 128),
        ],
        1,
    )
    return (rgb[..., :h, :w] / 255).clamp(0, 1)


def jpeg_ste(image: torch.Tensor, qualities: list[int]) -> torch.Tensor:
    """Pillow's JPEG values with :func:`jpeg_surrogate`'s gradient: (B, C, H, W) in [0, 1],
    one quality per sample -> the same shape."""
    soft = jpeg_surrogate(image, qualities)
    real = torch.cat([pillow_jpeg(image[i : i + 1], q) for i, q in enumerate(qualities)])
    return soft + (real - soft).detach()


class JpegChannel:
    """Training-time channel between the 8-bit stored image and the inverse: a random
    ``share`` of each batch goes through a real JPEG at a quality drawn uniformly from
    ``[low, high]``; the rest passes unchanged, so the lossless path stays trained.

    The draws come from torch's global generator (the training loop seeds it per step, so a
    resumed run draws what the straight run drew)."""

    def __init__(self, low: int, high: int, share: float = 0.5) -> None:
        if not 1 <= low <= high <= 100:
            raise ValueError(f"JPEG qualities must satisfy 1 <= low <= high <= 100: {low}-{high}")
        if not 0 < share <= 1:
            raise ValueError(f"JPEG share must be in (0, 1], not {share}")
        self.low, self.high, self.share = low, high, share

    def __call__(self, stored: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) on the 8-bit grid -> the same, some samples JPEG'd."""
        b = stored.shape[0]
        n = max(1, round(self.share * b))
        picked = sorted(torch.randperm(b)[:n].tolist())
        qualities = torch.randint(self.low, self.high + 1, (n,)).tolist()
        off, full = full_precision(stored)  # DCTs and quantisation in float32 under autocast
        with off:
            out = full.clone()
            out[picked] = jpeg_ste(full[picked], qualities)
        return out


def parse_qualities(text: str) -> tuple[int, int]:
    """``"70-95"`` -> (70, 95); ``"90"`` -> (90, 90)."""
    low, _, high = text.partition("-")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"JPEG qualities must read LOW-HIGH, like 70-95, not {text!r}") from None
    if not 1 <= lo <= hi <= 100:
        raise ValueError(f"JPEG qualities must satisfy 1 <= LOW <= HIGH <= 100, not {text!r}")
    return lo, hi
