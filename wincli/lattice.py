"""Hiding that survives JPEG: the payload of ``--method lsb`` written on a JPEG's lattice.

>>> stego, coded = hide_jpeg(cover, [secret], passphrase="pw")     # doctest: +SKIP
>>> secrets = [c.decode() for c in reveal_jpeg(stego_as_shared)]  # after a JPEG at q >= 75

``win hide --method jpeg``. The secrets are coded and encrypted exactly as for ``--method lsb``
(``wincli.classical``: WebP, JPEG or AVIF at the best quality that fits, AES-256-GCM with a
scrypt key), then protected by Reed-Solomon codes (255-byte codewords, 48 parity bytes) and
written as the parity of quantised luma DCT coefficients: in every 8x8 block of the cover, the
14 AC coefficients whose libjpeg step at quality 75 is the smallest of those of at least 7 are
moved to the nearest multiple of that step with the wanted parity. A later JPEG at quality 75 or
better quantises those coefficients back onto (or within half a step of) the same multiples, so
the bits come back through it; chroma, the other coefficients and the unused blocks are left as
they are. After the 8-bit rounding and clipping, a few passes put back the coefficients they
moved (the others absorb the change).

Layout: the frame (the ``wincli.classical`` header with the lattice quality in its ``bits`` byte,
then the ciphertext, zero-padded to whole codewords) fills the first slots of a fixed public
permutation of all (block, coefficient) slots; reveal decodes the first codeword for the header,
then the rest. What does not survive: a JPEG below quality 75 or with other tables, resizing,
any crop (the permutation is drawn for the stego's own block grid, so a crop of even one pixel
moves every slot), and heavy filtering; the codes either correct the damage or reveal says that
nothing authentic was found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wincli.classical import (
    HEADER,
    NOTHING,
    TAG,
    VERSION,
    Coded,
    _kdf,
    code_secrets,
    decrypt,
    pack_payload,
    seal,
    share,
    unpack_payload,
)
from wincli.errors import InputError

QUALITY = 75  # the lowest JPEG quality the payload is written to survive
POSITIONS = 14  # coefficients per 8x8 block
MIN_STEP = 7  # smaller steps are cheaper but do not survive a JPEG's rounding
PARITY = 48  # Reed-Solomon parity bytes per 255-byte codeword
DATA = 255 - PARITY
ROUNDS = 8  # correcting passes after the 8-bit rounding and clipping
PUBLIC_SEED = 0x57494E2D4A504547  # "WIN-JPEG": the slot order, known to everyone
LUMA = np.array([0.299, 0.587, 0.114])


class Lattice:
    """The slots of one cover size: ``positions`` coefficients of every whole 8x8 block."""

    def __init__(self, shape: tuple[int, ...], quality: int = QUALITY) -> None:
        from wincli.jpeg import dct_matrix, quant_table

        self.m = dct_matrix().numpy()
        steps = quant_table(quality).double().numpy()
        ac = [(i, j) for i in range(8) for j in range(8) if (i, j) != (0, 0)]
        ac = sorted((p for p in ac if steps[p] >= MIN_STEP), key=lambda p: (steps[p], sum(p)))
        self.rows, self.cols = (np.array(t) for t in zip(*ac[:POSITIONS], strict=True))
        self.steps = steps[self.rows, self.cols]  # (POSITIONS,)
        self.blocks = (shape[0] // 8, shape[1] // 8)
        self.n_slots = _n_slots(shape)
        rng = np.random.Generator(np.random.PCG64(PUBLIC_SEED))
        keys = rng.bit_generator.random_raw(self.n_slots)
        self.order = np.argsort(keys, kind="stable")  # frame bit k -> slot order[k]

    def _coefs(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(blocks, 8, 8) DCT of the level-shifted luma of the blocked area, and each channel's
        offset from the luma there (rgb = luma + offsets); a 2-D ``rgb`` is the luma itself (and
        has no offsets)."""
        h, w = self.blocks[0] * 8, self.blocks[1] * 8
        f = rgb[:h, :w].astype(np.float64)
        y = f @ LUMA if f.ndim == 3 else f
        b = (y - 128).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
        return self.m @ b @ self.m.T, (f - y[..., None] if f.ndim == 3 else None)

    def _pixels(self, coefs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        n, k = self.blocks
        y = (self.m.T @ coefs @ self.m).reshape(n, k, 8, 8).transpose(0, 2, 1, 3)
        out = y.reshape(n * 8, k * 8)[..., None] + 128 + offsets
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def read(self, rgb: np.ndarray, count: int, shared: np.ndarray | None = None) -> np.ndarray:
        """The first ``count`` frame bits that ``rgb`` (H, W, 3), or a luma plane (H, W),
        carries. ``shared``: the (8, 8) luma table of the JPEG it was decoded from; its coefficients
        are first put back on that JPEG's own lattice (the decoding's 8-bit rounding moved
        them), which leaves this lattice's whole half step as margin."""
        block, pos = np.divmod(self.order[:count], POSITIONS)
        needed, which = np.unique(block, return_inverse=True)
        c = self._block_coefs(rgb, needed)[which, self.rows[pos], self.cols[pos]]
        if shared is not None:
            own = shared[self.rows[pos], self.cols[pos]]
            c = np.round(c / own) * own
        q = np.round(c / self.steps[pos])
        return (np.abs(q) % 2).astype(np.uint8)

    def _block_coefs(self, rgb: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        """(len(blocks), 8, 8) DCT of the level-shifted luma of the numbered 8x8 blocks (row
        by row), as :meth:`_coefs` computes it for all of them."""
        bi, bj = np.divmod(blocks, self.blocks[1])
        r = (bi[:, None] * 8 + np.arange(8))[:, :, None]
        c = (bj[:, None] * 8 + np.arange(8))[:, None, :]
        f = rgb[r, c].astype(np.float64)
        y = f @ LUMA if f.ndim == 4 else f
        return self.m @ (y - 128) @ self.m.T

    def write(self, cover: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """``cover`` (H, W, 3) uint8 with ``bits`` in the first frame slots: each coefficient
        moved to the nearest lattice point with its bit's parity; then passes that put back
        what the 8-bit rounding and clipping moved, retargeting a coefficient that clipping
        keeps off its point to the point of the right parity nearest to where it can go."""
        coefs, offsets = self._coefs(cover)
        slots = self.order[: len(bits)]
        block, pos = np.divmod(slots, POSITIONS)
        r, c, step = self.rows[pos], self.cols[pos], self.steps[pos]
        target = _nearest(coefs[block, r, c] / step, bits) * step
        for _ in range(ROUNDS + 1):
            coefs[block, r, c] = target
            area = self._pixels(coefs, offsets)
            coefs, offsets = self._coefs(area)
            got = coefs[block, r, c] / step
            off = np.abs(got - target / step)
            if off.max(initial=0) < 0.25:
                break
            stuck = off >= 0.25
            target[stuck] = _nearest(got[stuck], bits[stuck]) * step[stuck]
        out = cover.copy()
        out[: area.shape[0], : area.shape[1]] = area
        return out


def _nearest(v: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The integer nearest to each ``v`` whose parity is its bit."""
    q = np.round(v)
    wrong = (np.abs(q) % 2) != bits
    return np.where(wrong, q + np.where(v > q, 1.0, -1.0), q)


def _frame_bytes(length: int) -> int:
    """Coded bytes of a frame whose ciphertext is ``length`` bytes."""
    return -(-(HEADER.size + length) // DATA) * 255


def _correct(rs, readings, start: int) -> bytes | None:
    """The codeword at byte ``start`` corrected from the first reading that allows it; None
    when none does."""
    from reedsolo import ReedSolomonError

    for bits in readings:
        word = np.packbits(bits[8 * start : 8 * (start + 255)]).tobytes()
        try:
            return bytes(rs.decode(bytearray(word))[0])
        except ReedSolomonError:
            continue
    return None


def _n_slots(shape: tuple[int, ...]) -> int:
    """Slots of an (H, W, ...) cover: ``POSITIONS`` per whole 8x8 block."""
    return (shape[0] // 8) * (shape[1] // 8) * POSITIONS


def capacity(shape: tuple[int, ...]) -> int:
    """Ciphertext bytes an (H, W, 3) cover holds."""
    codewords = _n_slots(shape) // (8 * 255)
    return max(0, codewords * DATA - HEADER.size)


def embed_bytes(cover: np.ndarray, data: bytes, *, passphrase: str | None = None) -> np.ndarray:
    """Encrypt ``data`` and write it on the JPEG lattice of an (H, W, 3) uint8 ``cover``."""
    from reedsolo import RSCodec

    room = capacity(cover.shape)
    if len(data) + TAG > room:
        raise InputError(f"{len(data):,} bytes do not fit in a cover of {room:,} bytes")
    header, cipher, _ = seal(data, QUALITY, passphrase)
    plain = header + cipher
    plain += bytes(-len(plain) % DATA)
    coded = bytes(RSCodec(PARITY).encode(plain))
    bits = np.unpackbits(np.frombuffer(coded, dtype=np.uint8))
    return Lattice(cover.shape).write(cover, bits)


def _open(stego: np.ndarray, shared: Shared | None):
    """(decode, the first codeword, the header's fields) of the frame ``stego`` carries;
    InputError (one line) when there is none or the codes cannot correct it."""
    from reedsolo import RSCodec

    lattice, rs = Lattice(stego.shape), RSCodec(PARITY)
    lost = InputError(f"{NOTHING} (or a JPEG below q{QUALITY}, resizing or cropping lost it)")

    def decode(n_bytes: int) -> bytes:
        """The first ``n_bytes`` coded bytes, corrected codeword by codeword; a codeword that
        the codes cannot correct as read is read again without the JPEG's table."""
        if 8 * n_bytes > lattice.n_slots:
            raise lost
        readings = [lattice.read(stego, 8 * n_bytes)]
        if shared is not None:  # the JPEG's own luma and table first
            readings.insert(0, lattice.read(shared.luma, 8 * n_bytes, shared.table))
        out = bytearray()
        for start in range(0, n_bytes, 255):
            word = _correct(rs, readings, start)
            if word is None:
                raise lost
            out += word
        return bytes(out)

    first = decode(255)
    fields = HEADER.unpack(first[: HEADER.size])
    version, quality, _, _, length = fields
    if version != VERSION or quality != QUALITY or not TAG < length <= capacity(stego.shape):
        raise lost
    return decode, first, fields


def carries(stego: np.ndarray, shared: Shared | None = None) -> bool:
    """Whether ``stego`` holds a frame of :func:`embed_bytes` (its header decodes, without the
    passphrase); ``shared`` as for :func:`extract_bytes`."""
    try:
        _open(stego, shared)
    except InputError:
        return False
    return True


def extract_bytes(
    stego: np.ndarray, *, passphrase: str | None = None, shared: Shared | None = None
) -> bytes:
    """The bytes :func:`embed_bytes` hid; InputError (one line) when nothing authentic is
    found or the codes cannot correct what a re-encoding did to it. ``shared``: what the JPEG
    file ``stego`` was decoded from holds (:func:`read_shared`), if it was one."""
    decode, first, (_, _, salt, _, length) = _open(stego, shared)
    plain = first if _frame_bytes(length) == 255 else decode(_frame_bytes(length))
    key, _ = _kdf(passphrase, salt)
    return decrypt(first[: HEADER.size], plain[HEADER.size : HEADER.size + length], key)


def hide_jpeg(
    cover: np.ndarray,
    secrets: list[np.ndarray],
    *,
    passphrase: str | None = None,
    codec: str = "auto",
    profiles: list[bytes | None] | None = None,
    alphas: list[np.ndarray | None] | None = None,
) -> tuple[np.ndarray, list[Coded]]:
    """Hide 1-4 (h, w, 3) uint8 secrets (any sizes) in an (H, W, 3) uint8 cover so that they
    survive a JPEG of the stego at quality 75 or better; as :func:`wincli.classical.hide_lsb`
    otherwise (profiles, alpha planes, the coded secrets returned)."""
    room = capacity(cover.shape)

    def budget(n: int, extra: int) -> int:
        return share(
            room - TAG, n, extra,
            f"a {cover.shape[1]}x{cover.shape[0]} cover holds {room:,} bytes with --method jpeg: "
            f"too small for {n} secret(s); use a larger cover (about 1 byte per 45 pixels)",
        )  # fmt: skip

    coded = code_secrets(secrets, budget, codec=codec, profiles=profiles, alphas=alphas, avif=True)
    return embed_bytes(cover, pack_payload(coded), passphrase=passphrase), coded


def reveal_jpeg(
    stego: np.ndarray, *, passphrase: str | None = None, shared: Shared | None = None
) -> list[Coded]:
    """The coded secrets :func:`hide_jpeg` hid (``.decode()``: each at its original size);
    ``shared`` as for :func:`extract_bytes`."""
    return unpack_payload(extract_bytes(stego, passphrase=passphrase, shared=shared))


@dataclass
class Shared:
    """What a JPEG file holds beyond its RGB pixels: the decoded luma plane, before the colour
    conversion's clipping (which moves saturated colours' luma), and the luma table."""

    luma: np.ndarray  # (H, W) uint8
    table: np.ndarray  # (8, 8) quantisation steps


def read_shared(path) -> Shared | None:
    """The :class:`Shared` of a JPEG file; None for other formats."""
    from PIL import Image

    with Image.open(path) as im:
        tables = getattr(im, "quantization", None) if im.format == "JPEG" else None
        if not tables or len(tables[0]) != 64 or im.mode not in ("RGB", "YCbCr"):
            return None
        table = np.asarray(tables[0], dtype=np.float64).reshape(8, 8)
        im.draft("YCbCr", im.size)
        luma = np.asarray(im.getchannel(0), dtype=np.uint8)
    return Shared(luma, table)


def shared_copy(rgb: np.ndarray, quality: int) -> tuple[np.ndarray, Shared]:
    """What a Pillow JPEG file of ``rgb`` at ``quality`` decodes to (RGB) and holds besides."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        pixels = np.asarray(im.convert("RGB"))
    buf.seek(0)
    shared = read_shared(buf)
    assert shared is not None  # a JPEG file always has its tables
    return pixels, shared
