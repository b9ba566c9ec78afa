"""The seal of a WIN stego: how ``win reveal`` knows that something is hidden, and by what.

A WIN network's inverse turns any image into secret-shaped output, so the stego itself cannot
say whether it carries secrets (``scripts/reveal_nothing.py`` measures how poorly statistics of
the revealed secrets tell). ``win hide`` therefore writes a small record into the last bits of
the stego it stores:

- **what**: a 64-bit mark, the number of secrets and the first 32 bits of the network's weights
  identity (``Converter.weights_id``), 104 bits, each written into three values (majority on
  reading): 312 of the stego's values, chosen by a permutation seeded from the image size.
- **how**: a value whose last bit differs moves by +1 or -1 (0 and 255 move inward), so about
  156 values change by one level; the stego's PSNR moves by less than 0.01 dB at 256 x 256.
- **what it is not**: the seal is public, like the secrets themselves (anyone with win reveals
  both). A JPEG copy loses it, as it loses a lossless model's secrets; ``reveal`` of a lossy
  file with a ``--robust`` model skips the check.

>>> stego = seal(stego, secrets=1, weights_id="0123abcd...")   # doctest: +SKIP
>>> read_seal(stego)                                           # doctest: +SKIP
Seal(secrets=1, weights='0123abcd')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

REPEAT = 3  # values per bit
MARK = 8  # bytes
FIELDS = 5  # bytes: secrets, 4 bytes of the weights identity
BITS = (MARK + FIELDS) * 8
SLOTS = BITS * REPEAT
MIN_VALUES = 2 * SLOTS  # smaller images (under 15 x 15 px) are not sealed, nor checked


@dataclass(frozen=True)
class Seal:
    """What a seal says: the number of secrets and the weights identity's first 8 hex digits."""

    secrets: int
    weights: str


def sealable(x: torch.Tensor) -> bool:
    """Whether an image of this shape carries a seal (it has room for one)."""
    return x[0].numel() >= MIN_VALUES


def _layout(shape) -> tuple[tuple[torch.Tensor, ...], np.ndarray, bytes, bytes]:
    """(slot indices per axis, +-1 steps, mark, mask) for a (C, H, W) image."""
    c, h, w = (int(s) for s in shape)
    digest = hashlib.sha256(b"WIN-SEAL\0%d\0%d\0%d" % (c, h, w)).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    slots = rng.choice(c * h * w, SLOTS, replace=False)
    steps = rng.choice(np.array([-1, 1]), SLOTS)
    where = tuple(torch.from_numpy(i) for i in np.unravel_index(slots, (c, h, w)))
    return where, steps, digest[8:16], digest[16:21]


def _levels(x: torch.Tensor, where) -> np.ndarray:
    """The 8-bit levels of ``x`` (1, C, H, W) in [0, 1] at ``where`` (as ``to_uint8`` rounds)."""
    vals = x.detach()[0][where].float().clamp(0.0, 1.0).mul(255.0).round()
    return vals.to(torch.int64).cpu().numpy()


def seal(x: torch.Tensor, secrets: int, weights_id: str) -> torch.Tensor:
    """``x`` (1, C, H, W) float32, the stego about to be stored, with its seal written in place
    (its sealed values become exact 8-bit levels); unchanged when it is too small for one."""
    if not sealable(x):
        return x
    where, steps, mark, mask = _layout(x.shape[1:])
    fields = bytes([secrets]) + bytes.fromhex(weights_id[:8])
    message = mark + bytes(a ^ b for a, b in zip(fields, mask, strict=True))
    bits = np.repeat(np.unpackbits(np.frombuffer(message, np.uint8)), REPEAT).astype(np.int64)
    vals = _levels(x, where)
    change = (vals & 1) != bits
    step = np.where(vals + steps > 255, -1, np.where(vals + steps < 0, 1, steps))
    vals = np.where(change, vals + step, vals)
    x[0][where] = torch.from_numpy(vals.astype(np.float32) / 255.0).to(x.dtype)
    return x


def read_seal(x: torch.Tensor) -> Seal | None:
    """The seal of an 8-bit image (1, C, H, W) float in [0, 1]; None where there is none."""
    if not sealable(x):
        return None
    where, _, mark, mask = _layout(x.shape[1:])
    votes = (_levels(x, where) & 1).reshape(BITS, REPEAT).sum(1)
    message = np.packbits((votes * 2 > REPEAT).astype(np.uint8)).tobytes()
    if message[:MARK] != mark:
        return None
    fields = bytes(a ^ b for a, b in zip(message[MARK:], mask, strict=True))
    return Seal(fields[0], fields[1:].hex())
