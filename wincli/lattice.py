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
the payload area's size in blocks, then the ciphertext, zero-padded to whole codewords) fills
the slots of a payload area two blocks in from every side of the cover, in a fixed public
order: the first codeword in the area's 13 x 13 block corner, in an order of its own, the rest
over all the other slots. Reveal looks for the area's corner at the 289 places a crop of up to
16 px on the top and left can have moved it (the nearest to the lattice first), decodes the
first codeword there for the header and the area's size, then the rest; a crop of up to 16 px
on any side keeps every payload block. What does not survive: a JPEG below quality 75 or with
other tables, resizing, a crop of more than 16 px on a side, a crop of the stego that is then
saved as a JPEG unless it removed whole 8x8 blocks from the top and left, and heavy filtering;
the codes either correct the damage or reveal says that nothing authentic was found. Stegos of
earlier versions (no margin, one order over the whole grid) are still read.
"""

from __future__ import annotations

import struct
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
MARGIN = 2  # 8x8 blocks left as they are on every side: a crop of up to 16 px keeps the payload
HEAD = 13  # the first codeword lies in the HEAD x HEAD blocks at the payload area's corner
HEAD_SLOTS = HEAD * HEAD * POSITIONS
DIMS = struct.Struct(">HH")  # the payload area's size in blocks, after the header in the frame
LUMA = np.array([0.299, 0.587, 0.114])


class Lattice:
    """The slots of one layout: ``POSITIONS`` coefficients of each 8x8 block of a payload area
    of ``dims`` blocks whose corner is the pixel ``origin``, in the frame's order.

    By default the layout ``shape`` is written with: the area ``MARGIN`` blocks in from every
    side. The frame's first ``HEAD_SLOTS`` bits go to the area's HEAD x HEAD corner in an order
    that does not depend on ``dims``, so a reader finds the header (which holds ``dims``) without
    knowing the image's size before a crop. ``legacy``: the layout of earlier versions (every
    whole block from the image's corner, one order over all)."""

    def __init__(
        self,
        shape: tuple[int, ...],
        quality: int = QUALITY,
        *,
        dims: tuple[int, int] | None = None,
        origin: tuple[int, int] = (8 * MARGIN, 8 * MARGIN),
        legacy: bool = False,
    ) -> None:
        from wincli.jpeg import dct_matrix, quant_table

        self.m = dct_matrix().numpy()
        steps = quant_table(quality).double().numpy()
        ac = [(i, j) for i in range(8) for j in range(8) if (i, j) != (0, 0)]
        ac = sorted((p for p in ac if steps[p] >= MIN_STEP), key=lambda p: (steps[p], sum(p)))
        self.rows, self.cols = (np.array(t) for t in zip(*ac[:POSITIONS], strict=True))
        self.steps = steps[self.rows, self.cols]  # (POSITIONS,)
        if legacy:
            origin, dims = (0, 0), (shape[0] // 8, shape[1] // 8)
        elif dims is None:
            dims = (shape[0] // 8 - 2 * MARGIN, shape[1] // 8 - 2 * MARGIN)
        self.origin = origin
        self.dims = (max(0, dims[0]), max(0, dims[1]))
        usable = legacy or min(self.dims) >= HEAD
        self.n_slots = self.dims[0] * self.dims[1] * POSITIONS if usable else 0
        # frame bit k -> block (bi[k], bj[k]) of the area, coefficient pos[k]
        order = _legacy_order if legacy else _order
        self.bi, self.bj, self.pos = order(self.dims) if self.n_slots else (np.zeros(0, int),) * 3

    def fits(self, shape: tuple[int, ...]) -> bool:
        """Whether an (H, W, ...) image holds the whole payload area."""
        (top, left), (n, k) = self.origin, self.dims
        return top + 8 * n <= shape[0] and left + 8 * k <= shape[1]

    def _area(self) -> tuple[slice, slice]:
        (top, left), (n, k) = self.origin, self.dims
        return slice(top, top + 8 * n), slice(left, left + 8 * k)

    def _coefs(self, area: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(blocks, 8, 8) DCT of the level-shifted luma of the (8n, 8k, 3) payload ``area``
        (block ``bi * dims[1] + bj``), and each channel's offset from the luma there (rgb =
        luma + offsets)."""
        f = area.astype(np.float64)
        y = f @ LUMA
        n, k = self.dims
        b = (y - 128).reshape(n, 8, k, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
        return self.m @ b @ self.m.T, f - y[..., None]

    def _pixels(self, coefs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        n, k = self.dims
        y = (self.m.T @ coefs @ self.m).reshape(n, k, 8, 8).transpose(0, 2, 1, 3)
        out = y.reshape(n * 8, k * 8)[..., None] + 128 + offsets
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def coefficients(self, image: np.ndarray, count: int) -> np.ndarray:
        """The DCT coefficients of the first ``count`` frame slots of ``image``, (H, W, 3) RGB
        or an (H, W) luma plane; only the blocks they lie in are read."""
        bi, bj, pos = self.bi[:count], self.bj[:count], self.pos[:count]
        needed, which = np.unique(bi * self.dims[1] + bj, return_inverse=True)
        ni, nj = np.divmod(needed, self.dims[1])
        r = (self.origin[0] + ni[:, None] * 8 + np.arange(8))[:, :, None]
        c = (self.origin[1] + nj[:, None] * 8 + np.arange(8))[:, None, :]
        f = image[r, c].astype(np.float64)
        y = f @ LUMA if f.ndim == 4 else f
        blocks = self.m @ (y - 128) @ self.m.T
        return blocks[which, self.rows[pos], self.cols[pos]]

    def read(self, image: np.ndarray, count: int, shared: np.ndarray | None = None) -> np.ndarray:
        """The first ``count`` frame bits that ``image`` (as :meth:`coefficients` takes it)
        carries.
        ``shared``: the (8, 8) luma table of the JPEG it was decoded from, whose blocks are the
        payload's; its coefficients are first put back on that JPEG's own lattice (the
        decoding's 8-bit rounding moved them), which leaves this lattice's whole half step as
        margin."""
        c = self.coefficients(image, count)
        pos = self.pos[:count]
        if shared is not None:
            own = shared[self.rows[pos], self.cols[pos]]
            c = np.round(c / own) * own
        q = np.round(c / self.steps[pos])
        return (np.abs(q) % 2).astype(np.uint8)

    def distance(self, image: np.ndarray, count: int) -> float:
        """Mean distance, in steps, of the first ``count`` frame slots' coefficients from this
        lattice's points: near 0 where a payload is, about 0.25 anywhere else."""
        v = self.coefficients(image, count) / self.steps[self.pos[:count]]
        return float(np.abs(v - np.round(v)).mean())

    def write(self, cover: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """``cover`` (H, W, 3) uint8 with ``bits`` in the first frame slots: each coefficient
        moved to the nearest lattice point with its bit's parity; then passes that put back
        what the 8-bit rounding and clipping moved, retargeting a coefficient that clipping
        keeps off its point to the point of the right parity nearest to where it can go."""
        where = self._area()
        coefs, offsets = self._coefs(cover[where])
        n = len(bits)
        block, pos = self.bi[:n] * self.dims[1] + self.bj[:n], self.pos[:n]
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
        out[where] = area
        return out


def _order(dims: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bi, bj, pos) of each frame bit in the layout: the HEAD x HEAD corner's slots first, in
    a public order of their own, then every other slot of the area in one drawn for ``dims``."""
    n, k = dims
    head = np.random.Generator(np.random.PCG64(PUBLIC_SEED)).permutation(HEAD_SLOTS)
    hb, hpos = np.divmod(head, POSITIONS)
    hi, hj = np.divmod(hb, HEAD)
    b, pos = np.divmod(np.arange(n * k * POSITIONS), POSITIONS)
    bi, bj = np.divmod(b, k)
    rest = np.flatnonzero((bi >= HEAD) | (bj >= HEAD))
    rest = rest[np.random.Generator(np.random.PCG64([PUBLIC_SEED, n, k])).permutation(rest.size)]
    return (np.concatenate([hi, bi[rest]]), np.concatenate([hj, bj[rest]]),
            np.concatenate([hpos, pos[rest]]))  # fmt: skip


def _legacy_order(dims: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bi, bj, pos) of each frame bit in the layout of earlier versions: one public
    permutation of all slots of the whole block grid."""
    n_slots = dims[0] * dims[1] * POSITIONS
    rng = np.random.Generator(np.random.PCG64(PUBLIC_SEED))
    order = np.argsort(rng.bit_generator.random_raw(n_slots), kind="stable")
    b, pos = np.divmod(order, POSITIONS)
    bi, bj = np.divmod(b, dims[1])
    return bi, bj, pos


def _nearest(v: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """The integer nearest to each ``v`` whose parity is its bit."""
    q = np.round(v)
    wrong = (np.abs(q) % 2) != bits
    return np.where(wrong, q + np.where(v > q, 1.0, -1.0), q)


def _frame_bytes(length: int, extra: int = DIMS.size) -> int:
    """Coded bytes of a frame whose ciphertext is ``length`` bytes (``extra``: the bytes between
    header and ciphertext; none in the legacy layout)."""
    return -(-(HEADER.size + extra + length) // DATA) * 255


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


def capacity(shape: tuple[int, ...]) -> int:
    """Ciphertext bytes an (H, W, 3) cover holds."""
    codewords = Lattice(shape).n_slots // (8 * 255)
    return max(0, codewords * DATA - HEADER.size - DIMS.size)


def embed_bytes(cover: np.ndarray, data: bytes, *, passphrase: str | None = None) -> np.ndarray:
    """Encrypt ``data`` and write it on the JPEG lattice of an (H, W, 3) uint8 ``cover``."""
    from reedsolo import RSCodec

    room = capacity(cover.shape)
    if len(data) + TAG > room:
        raise InputError(f"{len(data):,} bytes do not fit in a cover of {room:,} bytes")
    lattice = Lattice(cover.shape)
    header, cipher, _ = seal(data, QUALITY, passphrase)
    plain = header + DIMS.pack(*lattice.dims) + cipher
    plain += bytes(-len(plain) % DATA)
    coded = bytes(RSCodec(PARITY).encode(plain))
    return lattice.write(cover, np.unpackbits(np.frombuffer(coded, dtype=np.uint8)))


SEARCH = 16  # payload corners tried, the nearest to the lattice first (a JPEG puts every
# block-aligned corner near it: nine of them)


def _corners(head: Lattice, image: np.ndarray) -> list[tuple[int, int]]:
    """The pixels where the payload area's corner may be after a crop of up to ``8 * MARGIN``
    px on the top and left: the ``SEARCH`` where the slots of the ``head`` lattice (the first
    codeword's) lie nearest to it."""
    h, w = image.shape[:2]
    scored = []
    for top in range(min(8 * MARGIN, h - 8 * HEAD) + 1):
        for left in range(min(8 * MARGIN, w - 8 * HEAD) + 1):
            head.origin = (top, left)
            scored.append((head.distance(image, 8 * 255), (top, left)))
    return [corner for _, corner in sorted(scored)[:SEARCH]]


def _reader(lattice: Lattice, image: np.ndarray, shared: Shared | None, lost: InputError):
    """A function: the first ``n_bytes`` coded bytes of ``lattice`` in ``image``, corrected
    codeword by codeword (InputError ``lost`` when one cannot be); the luma and table of the
    JPEG ``shared`` are read first where its blocks are the payload's."""
    from reedsolo import RSCodec

    rs = RSCodec(PARITY)
    aligned = not (lattice.origin[0] % 8 or lattice.origin[1] % 8)
    same = shared is not None and shared.luma.shape == image.shape[:2]
    own = shared if same and aligned else None

    def decode(n_bytes: int) -> bytes:
        if 8 * n_bytes > lattice.n_slots:
            raise lost
        readings = [lattice.read(image, 8 * n_bytes)]
        if own is not None:
            readings.insert(0, lattice.read(own.luma, 8 * n_bytes, own.table))
        out = bytearray()
        for start in range(0, n_bytes, 255):
            word = _correct(rs, readings, start)
            if word is None:
                raise lost
            out += word
        return bytes(out)

    return decode


def _fields(first: bytes) -> tuple | None:
    """The header's fields at the start of a first codeword; None when it is not one of ours."""
    fields = HEADER.unpack(first[: HEADER.size])
    version, quality, _, _, length = fields
    return fields if version == VERSION and quality == QUALITY and TAG < length else None


def _open(stego: np.ndarray, shared: Shared | None):
    """(decode, the first codeword, the header's fields, the bytes between header and
    ciphertext) of the frame ``stego`` carries, wherever a crop of up to ``8 * MARGIN`` px on
    any side left it; InputError (one line) when there is none or the codes cannot correct it."""
    lost = InputError(
        f"{NOTHING} (or a JPEG below q{QUALITY}, resizing or cropping by more than "
        f"{8 * MARGIN} px lost it)"
    )
    head = Lattice(stego.shape, dims=(HEAD, HEAD))
    for corner in _corners(head, stego):
        head.origin = corner
        try:
            first = _reader(head, stego, shared, lost)(255)
        except InputError:
            continue
        fields = _fields(first)
        if fields is None:
            continue
        dims = DIMS.unpack(first[HEADER.size : HEADER.size + DIMS.size])
        lattice = Lattice(stego.shape, dims=dims, origin=corner)
        if not lattice.fits(stego.shape) or 8 * _frame_bytes(fields[4]) > lattice.n_slots:
            raise lost
        return _reader(lattice, stego, shared, lost), first, fields, DIMS.size
    legacy = Lattice(stego.shape, legacy=True)
    if legacy.n_slots >= 8 * 255:
        decode = _reader(legacy, stego, shared, lost)
        first = decode(255)
        fields = _fields(first)
        if fields is not None and 8 * _frame_bytes(fields[4], 0) <= legacy.n_slots:
            return decode, first, fields, 0
    raise lost


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
    found or the codes cannot correct what a re-encoding or crop did to it. ``shared``: what
    the JPEG file ``stego`` was decoded from holds (:func:`read_shared`), if it was one."""
    decode, first, (_, _, salt, _, length), extra = _open(stego, shared)
    n = _frame_bytes(length, extra)
    plain = first if n == 255 else decode(n)
    key, _ = _kdf(passphrase, salt)
    start = HEADER.size + extra
    return decrypt(first[: HEADER.size], plain[start : start + length], key)


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
            f"too small for {n} secret(s); use a larger cover (about 1 byte per 50 pixels, "
            "at least 136 x 136)",
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
