#!/usr/bin/env python3
"""Measure a classical JPEG-aware hiding scheme: the baseline a JPEG-robust hiding model must beat.

    pip install reedsolo==1.7.0        # the scheme's error correction (not a wincli dependency)
    python scripts/jpeg_lattice_hiding.py --data ../shared/data/eval/Kodak24 --crop 512

The secret is compressed (AVIF, at the highest quality that fits), protected by Reed-Solomon
codes, interleaved, and written as the parity of quantised luma DCT coefficients of the cover:
the ``--positions`` coefficients of each 8x8 block whose libjpeg step at ``--lattice`` quality is
the smallest of those at least ``--min-step``, each moved to the nearest multiple of that step
with the wanted parity. A JPEG at the lattice quality or better re-quantises those coefficients
onto (or finely around) the same multiples, so the bits survive; at lower qualities they do not.
The other coefficients and the chroma are left as they are.

Pairs are (image i, image i+1) of the sorted files, both center-cropped to ``--crop``. Prints the
stego's PSNR against the cover (the PNG, and after each JPEG) and the revealed secret's PSNR
after each JPEG ("lost" when the codes cannot correct the errors), mean over the pairs.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def luma_and_offsets(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """JFIF luma (H, W) and each channel's offset from it (H, W, 3): rgb = luma + offsets."""
    f = rgb.astype(np.float64)
    y = f @ np.array([0.299, 0.587, 0.114])
    return y, f - y[..., None]


def block_dct(plane: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(H, W) -> (H/8, W/8, 8, 8) orthonormal DCT of the level-shifted blocks (JPEG's)."""
    h, w = plane.shape
    blocks = (plane - 128).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    return m @ blocks @ m.T


def block_idct(coefs: np.ndarray, m: np.ndarray) -> np.ndarray:
    n, k = coefs.shape[:2]
    return (m.T @ coefs @ m).transpose(0, 2, 1, 3).reshape(n * 8, k * 8) + 128


class Lattice:
    """Where the bits go: ``positions`` AC coefficients per block on the ``quality`` lattice."""

    def __init__(self, quality: int, positions: int, min_step: float) -> None:
        from wincli.jpeg import _DCT, quant_table

        self.m = _DCT.double().numpy()
        self.steps = quant_table(quality).double().numpy()
        ac = [(i, j) for i in range(8) for j in range(8) if (i, j) != (0, 0)]
        ac = [p for p in ac if self.steps[p] >= min_step]
        ac.sort(key=lambda p: (self.steps[p], p[0] + p[1]))
        if len(ac) < positions:
            raise SystemExit(f"error: only {len(ac)} positions have a step >= {min_step}")
        self.positions = ac[:positions]

    def capacity_bits(self, h: int, w: int) -> int:
        return (h // 8) * (w // 8) * len(self.positions)

    def embed(self, cover: np.ndarray, bits: np.ndarray, rounds: int = 8) -> np.ndarray:
        """The cover with ``bits`` written; then ``rounds`` passes that put the coefficients
        which 8-bit rounding and clipping moved back on their targets (the other coefficients
        absorb the change), until none is off by half a step or more."""
        y, offsets = luma_and_offsets(cover)
        c = block_dct(y, self.m)
        want = bits.reshape(-1, len(self.positions))
        targets = []
        for k, p in enumerate(self.positions):
            v = c[:, :, p[0], p[1]].reshape(-1) / self.steps[p]
            q = np.round(v)
            wrong = (np.abs(q) % 2) != want[:, k]
            q = np.where(wrong, q + np.where(v > q, 1.0, -1.0), q)  # toward the original value
            targets.append((q * self.steps[p]).reshape(c.shape[:2]))
        out = cover
        for _ in range(rounds + 1):
            for (i, j), t in zip(self.positions, targets, strict=True):
                c[:, :, i, j] = t
            out = block_idct(c, self.m)[..., None] + offsets
            out = np.clip(np.round(out), 0, 255).astype(np.uint8)
            y, offsets = luma_and_offsets(out)
            c = block_dct(y, self.m)
            off = max(np.abs(c[:, :, i, j] - t).max() / self.steps[i, j]
                      for (i, j), t in zip(self.positions, targets, strict=True))  # fmt: skip
            if off < 0.4:
                break
        return out

    def extract(self, stego: np.ndarray) -> np.ndarray:
        c = block_dct(luma_and_offsets(stego)[0], self.m)
        cols = [np.abs(np.round(c[:, :, i, j].reshape(-1) / self.steps[i, j])) % 2 for i, j in
                self.positions]  # fmt: skip
        return np.stack(cols, 1).reshape(-1).astype(np.uint8)


def compress(secret: np.ndarray, limit: int) -> bytes:
    """The secret as AVIF at the highest quality of at most ``limit`` bytes."""
    lo, hi, best = 1, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        buf = io.BytesIO()
        Image.fromarray(secret).save(buf, "AVIF", quality=q)
        if buf.tell() <= limit:
            best, lo = buf.getvalue(), q + 1
        else:
            hi = q - 1
    if best is None:
        raise SystemExit(f"error: the secret does not fit in {limit} bytes")
    return best


class Scheme:
    """Payload framing: 4-byte length + AVIF, Reed-Solomon codewords of 255 bytes with ``parity``
    bytes each, bits scattered over the whole cover by a fixed permutation."""

    def __init__(self, lattice: Lattice, h: int, w: int, parity: int, rounds: int) -> None:
        from reedsolo import RSCodec

        self.rounds = rounds
        self.lattice, self.rs = lattice, RSCodec(parity)
        self.raw_bytes = lattice.capacity_bits(h, w) // 8
        self.room = self.raw_bytes // 255 * (255 - parity) - 4
        self.perm = np.random.default_rng(0).permutation(self.raw_bytes * 8)

    def hide(self, cover: np.ndarray, secret: np.ndarray) -> tuple[np.ndarray, int]:
        data = compress(secret, self.room)
        coded = bytes(self.rs.encode(len(data).to_bytes(4, "big") + data))
        bits = np.zeros(self.raw_bytes * 8, np.uint8)
        bits[: len(coded) * 8] = np.unpackbits(np.frombuffer(coded, np.uint8))
        scattered = np.empty_like(bits)
        scattered[self.perm] = bits
        return self.lattice.embed(cover, scattered, self.rounds), len(data)

    def reveal(self, stego: np.ndarray) -> np.ndarray | None:
        bits = self.lattice.extract(stego)[: self.raw_bytes * 8][self.perm]
        try:
            data = bytes(self.rs.decode(bytearray(np.packbits(bits).tobytes()))[0])
            n = int.from_bytes(data[:4], "big")
            return np.asarray(Image.open(io.BytesIO(data[4 : 4 + n])).convert("RGB"))
        except Exception:  # uncorrectable: the payload is lost
            return None


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / max(mse, 1e-10))


def center(img: np.ndarray, crop: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(crop, h, w) // 16 * 16
    i, j = (h - s) // 2, (w - s) // 2
    return img[i : i + s, j : j + s]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval" / "Kodak24"))
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--lattice", type=int, default=75, help="the lowest JPEG quality to survive")
    ap.add_argument("--positions", type=int, default=14, help="coefficients per 8x8 block")
    ap.add_argument("--min-step", type=float, default=7.0)
    ap.add_argument("--parity", type=int, default=32, help="Reed-Solomon bytes per 255")
    ap.add_argument("--rounds", type=int, default=8, help="passes against rounding and clipping")
    ap.add_argument("--jpeg", type=int, action="append", default=None)
    args = ap.parse_args(argv)
    try:
        import reedsolo  # noqa: F401
    except ImportError:
        sys.exit("error: this baseline needs reedsolo (pip install reedsolo==1.7.0)")
    from wincli.io import list_images

    files = list_images([Path(args.data)])
    qualities = args.jpeg or [95, 90, 75, 50]
    lattice = Lattice(args.lattice, args.positions, args.min_step)
    rows: dict[str, list[float]] = {}
    for k in range(min(args.pairs, len(files) // 2)):
        cover, secret = (center(np.asarray(Image.open(f).convert("RGB")), args.crop) for f in
                         files[2 * k : 2 * k + 2])  # fmt: skip
        h, w = min(cover.shape[0], secret.shape[0]), min(cover.shape[1], secret.shape[1])
        cover, secret = cover[:h, :w], secret[:h, :w]
        scheme = Scheme(lattice, h, w, args.parity, args.rounds)
        stego, size = scheme.hide(cover, secret)
        rows.setdefault("bpp", []).append(8 * size / (h * w))
        rows.setdefault("stego", []).append(psnr(stego, cover))
        for q in [None, *qualities]:
            got = stego if q is None else jpeg(stego, q)
            back = scheme.reveal(got)
            tag = "lossless" if q is None else f"q{q}"
            rows.setdefault(f"secret {tag}", []).append(psnr(back, secret) if back is not None
                                                        else float("nan"))  # fmt: skip
            if q is not None:
                rows.setdefault(f"stego {tag}", []).append(psnr(got, cover))
    print(
        f"{len(rows['bpp'])} pairs from {args.data}, crop {args.crop}; lattice "
        f"q{args.lattice}, {args.positions} positions (step >= {args.min_step}), "
        f"RS parity {args.parity}"
    )
    for name, vals in rows.items():
        lost = sum(math.isnan(v) for v in vals)
        kept = [v for v in vals if not math.isnan(v)]
        mean = f"{np.mean(kept):.2f}" if kept else "-"
        print(f"{name}: {mean}" + (f" ({lost} of {len(vals)} lost)" if lost else ""))


if __name__ == "__main__":
    main()
