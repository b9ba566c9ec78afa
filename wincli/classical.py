"""Classical hiding: secrets compressed with WebP/JPEG, encrypted, and written into the k least
significant bits of the cover by LSB matching. One module, two uses: ``win hide --method lsb``
and the codec-in-LSB baseline of ``win eval`` (``wincli.classical_tasks`` builds the same
scheme for rescaling and decolorization).

>>> stego, info = hide_lsb(cover, [secret], bits=1, passphrase="pw")   # doctest: +SKIP
>>> secrets = reveal_lsb(stego, passphrase="pw")       # [(h, w, 3) uint8], each at its own size

Arrays are (H, W, 3) uint8. A *slot* is one channel value of the cover (H W 3 slots).

Layout:
- header (34 bytes: version, bits k, salt, nonce, ciphertext length), one bit in the LSB of each
  of 272 slots chosen by a public generator (so reveal can read it without a key);
- payload: AES-256-GCM ciphertext (the header is its associated data), k bits per slot, in slots
  ordered by a key-derived permutation of all the other slots (the payload is spread over the
  whole cover, not written in raster order).
The key and the permutation seed come from scrypt(passphrase, salt); without a passphrase the
passphrase is empty, so the payload is still authenticated and reveal can tell "nothing hidden
here or wrong passphrase" from a real payload. Each hide draws a fresh salt and nonce.

Plaintext: n (1 byte; with 0x80 set, every secret carries extras), then per secret: codec (1
byte), original width and height, stream length (4 bytes each, big-endian), the stream, and
with the flag its ICC profile and its alpha plane (lossless WebP), each as a 4-byte length and
the bytes (length 0: none). A secret that does not fit at full size is coded smaller and
brought back to its original size (bicubic) by reveal.

Embedding, "LSB matching" generalised to k bits: a slot with value v that must carry symbol s
becomes the nearest value in [0, 255] whose low k bits are s (ties broken at random); for k = 1
that is the classical +-1 matching.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

from wincli.errors import InputError

VERSION = 1
HEADER = struct.Struct(">BB16s12sI")  # version, bits, salt, nonce, ciphertext length
HEADER_BITS = HEADER.size * 8
TAG = 16  # AES-GCM tag bytes
SECRET = struct.Struct(">BIII")  # codec, original width, height, stream length
EXTRAS = 0x80  # set in the count byte: each stream is followed by its ICC profile and alpha
EXTRA = struct.Struct(">I")  # length of one extra (0: none)
CODECS = ("webp", "jpeg", "avif")  # index = the codec byte of a hidden secret
AVIF_SPEED = 4  # the final AVIF encode's effort (Pillow's default 6): smaller at the same quality
AVIF_EFFORT_PIXELS = 1 << 20  # and up to what size (each encode at 4 costs about 5 at 6)
PUBLIC_SEED = 0x57494E2D4C5342  # "WIN-LSB": where the header lives, known to everyone
SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 2**20}
NOTHING = "no hidden data found, or wrong passphrase"


@dataclass
class Coded:
    """One secret as it travels: a codec stream and the size to restore."""

    codec: str  # "webp", "jpeg" or "avif"
    stream: bytes
    size: tuple[int, int]  # original (width, height)
    quality: int  # -1 for lossless WebP
    icc: bytes | None = None  # the secret's colour profile, carried beside the stream
    alpha: bytes | None = None  # its alpha plane as a lossless WebP, carried beside the stream

    def decode_alpha(self) -> np.ndarray | None:
        """The (h, w) uint8 alpha plane that travelled, or None."""
        if not self.alpha:
            return None
        try:
            with Image.open(io.BytesIO(self.alpha)) as im:
                im = im.convert("L")
        except (OSError, ValueError) as exc:
            raise InputError(f"a hidden alpha plane does not decode ({exc})") from None
        if im.size != self.size:
            im = im.resize(self.size, Image.BICUBIC)
        return np.asarray(im, dtype=np.uint8).copy()

    def decode(self) -> np.ndarray:
        """The image reveal returns: the stream decoded, at the original size."""
        try:
            with Image.open(io.BytesIO(self.stream)) as im:
                im = im.convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise InputError(f"a hidden {self.codec} stream does not decode ({exc})") from None
        if im.size != self.size:
            im = im.resize(self.size, Image.BICUBIC)
        return np.asarray(im, dtype=np.uint8).copy()


# ------------------------------------------------------------------ codecs at a byte budget


def _encode(img: Image.Image, codec: str, quality: int, **kw) -> bytes:
    buf = io.BytesIO()
    if codec == "webp":
        img.save(buf, format="WEBP", quality=quality, method=6, **kw)
    elif codec == "avif":
        img.save(buf, format="AVIF", quality=quality, **kw)
    else:
        img.save(buf, format="JPEG", quality=quality, optimize=True, **kw)
    return buf.getvalue()


def _best_quality(img: Image.Image, codec: str, budget: int, **kw) -> tuple[int, bytes] | None:
    """The highest quality whose stream fits ``budget`` bytes (binary search), or None. AVIF:
    searched at the encoder's default effort, then (images up to ``AVIF_EFFORT_PIXELS``)
    re-encoded at ``AVIF_SPEED`` from that quality up while it fits."""
    lo, hi = (1, 100) if codec == "jpeg" else (0, 100)
    best = None
    while lo <= hi:
        q = (lo + hi) // 2
        data = _encode(img, codec, q, **kw)
        if len(data) <= budget:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
    if codec == "avif" and best is not None and img.width * img.height <= AVIF_EFFORT_PIXELS:
        for q in range(best[0], 101):
            data = _encode(img, codec, q, speed=AVIF_SPEED, **kw)
            if len(data) > budget:
                break
            best = (q, data)
    return best


def has_avif() -> bool:
    """Whether this Pillow writes AVIF."""
    from PIL import features

    return bool(features.check("avif"))


def code_secret(rgb: np.ndarray, budget: int, codec: str = "auto", avif: bool = False) -> Coded:
    """Compress (h, w, 3) uint8 ``rgb`` into at most ``budget`` bytes at the best quality.

    ``codec``: "webp" (method 6; lossless when it fits), "jpeg" (4:2:0 and 4:4:4 tried), "avif",
    or "auto" (whichever decodes closer to ``rgb``: WebP and JPEG, and AVIF too with ``avif``
    where Pillow writes it). Shrinks the image by 0.8 steps when nothing fits at full size;
    raises InputError when even 8 px does not fit.
    """
    if codec not in (*CODECS, "auto"):
        raise ValueError(f"codec must be webp, jpeg, avif or auto, not {codec!r}")
    if codec == "avif" and not has_avif():
        raise InputError("this Pillow cannot write AVIF; use --codec webp or jpeg")
    h, w = rgb.shape[:2]
    size = (w, h)
    img = Image.fromarray(rgb)
    while True:
        found: list[Coded] = []
        if codec in ("webp", "auto"):
            if budget >= img.width * img.height:  # lossless photos need ~1-2 bytes per pixel
                buf = io.BytesIO()
                img.save(buf, format="WEBP", lossless=True, quality=50, method=4)
                if buf.tell() <= budget:
                    return Coded("webp", buf.getvalue(), size, -1)
            hit = _best_quality(img, "webp", budget)
            if hit:
                found.append(Coded("webp", hit[1], size, hit[0]))
        if codec in ("jpeg", "auto"):
            for sub in (2, 0):  # 4:2:0, then 4:4:4
                hit = _best_quality(img, "jpeg", budget, subsampling=sub)
                if hit:
                    found.append(Coded("jpeg", hit[1], size, hit[0]))
        if codec == "avif" or (codec == "auto" and avif and has_avif()):
            hit = _best_quality(img, "avif", budget)
            if hit:
                found.append(Coded("avif", hit[1], size, hit[0]))
        if found:
            from wincli.metrics import psnr

            return max(found, key=lambda c: psnr(c.decode(), rgb))
        if min(img.size) <= 8:
            raise InputError(f"a {w}x{h} secret does not fit in {budget} bytes at any quality")
        img = img.resize(
            (max(8, round(img.width * 0.8)), max(8, round(img.height * 0.8))), Image.LANCZOS
        )


# ------------------------------------------------------------------ slots, keys and embedding


def _kdf(passphrase: str | None, salt: bytes) -> tuple[bytes, int]:
    """(AES-256 key, permutation seed) from scrypt(passphrase, salt)."""
    out = hashlib.scrypt((passphrase or "").encode("utf-8"), salt=salt, dklen=64, **SCRYPT)
    return out[:32], int.from_bytes(out[32:], "big")


def _header_slots(n_slots: int) -> np.ndarray:
    """The 272 public slots of the header (distinct; the same for every image of this size)."""
    if n_slots < 2 * HEADER_BITS:
        raise InputError("the cover is too small to hold anything")
    raw = np.random.Generator(np.random.PCG64(PUBLIC_SEED)).bit_generator.random_raw(
        4 * HEADER_BITS
    )
    chosen: list[int] = []
    seen: set[int] = set()
    for r in (raw % n_slots).tolist():
        if r not in seen:
            seen.add(r)
            chosen.append(r)
            if len(chosen) == HEADER_BITS:
                return np.array(chosen, dtype=np.int64)
    raise InputError("the cover is too small to hold anything")  # pragma: no cover


def _payload_slots(n_slots: int, header: np.ndarray, seed: int, count: int) -> np.ndarray:
    """The first ``count`` slots of a key-derived permutation of the non-header slots.

    Built only from the PCG64 raw stream (stable across NumPy versions) and a stable sort.
    """
    keys = np.random.Generator(np.random.PCG64(seed)).bit_generator.random_raw(n_slots)
    keys[header] = np.iinfo(np.uint64).max
    return np.argsort(keys, kind="stable")[:count]


def capacity(shape: tuple[int, ...], bits: int) -> int:
    """Ciphertext bytes an (H, W, 3) cover holds at ``bits`` per slot."""
    n_slots = int(np.prod(shape))
    return max(0, (n_slots - HEADER_BITS) * bits // 8)


def _to_symbols(data: bytes, bits: int) -> np.ndarray:
    b = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    b = np.concatenate([b, np.zeros((-len(b)) % bits, dtype=np.uint8)]).reshape(-1, bits)
    return (b * (1 << np.arange(bits - 1, -1, -1))).sum(1).astype(np.int16)


def _from_symbols(sym: np.ndarray, bits: int, n_bytes: int) -> bytes:
    b = (sym[:, None].astype(np.int64) >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(b.reshape(-1).astype(np.uint8))[:n_bytes].tobytes()


def lsb_match(values: np.ndarray, symbols: np.ndarray, bits: int, rng) -> np.ndarray:
    """Nearest value in [0, 255] with low ``bits`` equal to ``symbols`` (random tie break)."""
    v = values.astype(np.int16)
    m = 1 << bits
    base = v - (v % m) + symbols
    cands = np.stack([base - m, base, base + m])
    dist = np.abs(cands - v).astype(np.float64)
    dist[(cands < 0) | (cands > 255)] = np.inf
    dist += rng.random(dist.shape) * 0.5  # only breaks ties: distances differ by >= 1
    return np.take_along_axis(cands, dist.argmin(0)[None], 0)[0].astype(np.uint8)


# ------------------------------------------------------------------ hide / reveal


def pack_payload(coded: list[Coded]) -> bytes:
    """The plaintext ``embed_bytes`` hides: a count byte (with a flag for profiles / alpha),
    then per secret its codec, size and stream (and its profile and alpha)."""
    flag = EXTRAS if any(c.icc or c.alpha for c in coded) else 0
    parts = [bytes([len(coded) | flag])]
    for c in coded:
        parts.append(SECRET.pack(CODECS.index(c.codec), *c.size, len(c.stream)))
        parts.append(c.stream)
        if flag:
            for extra in (c.icc or b"", c.alpha or b""):
                parts += [EXTRA.pack(len(extra)), extra]
    return b"".join(parts)


def _extra(plain: bytes, pos: int, bad: InputError) -> tuple[bytes | None, int]:
    (size,) = EXTRA.unpack_from(plain, pos)
    pos += EXTRA.size
    if pos + size > len(plain):
        raise bad
    return plain[pos : pos + size] or None, pos + size


def unpack_payload(plain: bytes) -> list[Coded]:
    """The secrets of a ``pack_payload`` plaintext; InputError when it is malformed."""
    bad = InputError("the hidden payload is authentic but malformed (not written by win?)")
    try:
        n, extras, pos, out = plain[0] & ~EXTRAS, plain[0] & EXTRAS, 1, []
        for _ in range(n):
            codec, w, h, length = SECRET.unpack_from(plain, pos)
            pos += SECRET.size
            if not (0 < w * h <= (Image.MAX_IMAGE_PIXELS or 2**28)) or pos + length > len(plain):
                raise bad
            out.append(Coded(CODECS[codec], plain[pos : pos + length], (w, h), 0))
            pos += length
            if extras:
                out[-1].icc, pos = _extra(plain, pos, bad)
                out[-1].alpha, pos = _extra(plain, pos, bad)
    except (IndexError, struct.error):
        raise bad from None
    if not 1 <= len(out) <= 4 or pos != len(plain):
        raise bad
    return out


def _alpha_stream(alpha: np.ndarray | None) -> bytes | None:
    """A lossless WebP of an (h, w) alpha plane; None when there is none or it is opaque."""
    if alpha is None or (alpha == 255).all():
        return None
    buf = io.BytesIO()
    Image.fromarray(alpha).save(buf, format="WEBP", lossless=True, quality=100, method=4)
    return buf.getvalue()


def share(room: int, n: int, extra: int, too_small: str) -> int:
    """Bytes each of ``n`` secrets may use of a payload of ``room`` plaintext bytes when
    ``extra`` bytes (colour profiles, alpha planes) travel beside them; InputError
    ``too_small`` when that is under 64."""
    each = _each(room, n, extra)
    if each < 64:
        raise InputError(too_small)
    return each


def _each(room: int, n: int, extra: int) -> int:
    return (room - 1 - n * SECRET.size - extra) // n


def plan(shape: tuple[int, ...], n: int, bits: int, extra: int = 0) -> int:
    """Bytes each of ``n`` secrets may use in an (H, W, 3) cover at ``bits`` per slot, when
    ``extra`` bytes (colour profiles, alpha planes) travel beside them (:func:`share` without
    its refusal)."""
    return _each(capacity(shape, bits) - TAG, n, extra)


def embed_bytes(
    cover: np.ndarray,
    data: bytes,
    *,
    bits: int = 1,
    passphrase: str | None = None,
    matching: bool = True,
) -> np.ndarray:
    """Encrypt ``data`` and LSB-match it into a uint8 ``cover`` of any shape (RGB or gray).

    ``matching=False``: LSB replacement, which keeps the high ``8 - bits`` bits of every slot
    (the thumbnail scheme predicts from them). Fresh salt and nonce each call; raises
    InputError when it does not fit.
    """
    if not 1 <= bits <= 4:
        raise InputError(f"--bits must be 1 to 4 (the cover keeps at least 4 bits), not {bits}")
    if len(data) + TAG > capacity(cover.shape, bits):
        raise InputError(
            f"{len(data):,} bytes do not fit in a cover of {capacity(cover.shape, bits):,} bytes "
            f"at --bits {bits}"
        )
    header, cipher, seed = seal(data, bits, passphrase)
    flat = cover.reshape(-1).copy()
    rng = np.random.default_rng()
    hslots = _header_slots(flat.size)
    symbols = _to_symbols(cipher, bits)
    slots = _payload_slots(flat.size, hslots, seed, len(symbols))
    if matching:
        flat[hslots] = lsb_match(flat[hslots], _to_symbols(header, 1), 1, rng)
        flat[slots] = lsb_match(flat[slots], symbols, bits, rng)
    else:
        flat[hslots] = (flat[hslots] & 0xFE) | _to_symbols(header, 1).astype(np.uint8)
        flat[slots] = (flat[slots] & (0xFF ^ ((1 << bits) - 1))) | symbols.astype(np.uint8)
    return flat.reshape(cover.shape)


def header_bits(stego: np.ndarray) -> int:
    """The bits per slot that ``embed_bytes`` recorded in ``stego``'s public header."""
    flat = stego.reshape(-1)
    header = _from_symbols(flat[_header_slots(flat.size)].astype(np.int16) & 1, 1, HEADER.size)
    return HEADER.unpack(header)[1]


def _header(stego: np.ndarray) -> tuple[bytes, np.ndarray] | None:
    """(the header :func:`embed_bytes` wrote, its slots), or None when ``stego`` has none."""
    flat = stego.reshape(-1)
    hslots = _header_slots(flat.size)
    header = _from_symbols(flat[hslots].astype(np.int16) & 1, 1, HEADER.size)
    version, bits, _, _, length = HEADER.unpack(header)
    if version != VERSION or not 1 <= bits <= 4 or not TAG < length <= capacity(stego.shape, bits):
        return None
    return header, hslots


def carries(stego: np.ndarray) -> bool:
    """Whether ``stego`` holds a payload of :func:`embed_bytes` (its public header, read
    without the passphrase)."""
    try:
        return _header(stego) is not None
    except InputError:  # too small to hold a header
        return False


def extract_bytes(stego: np.ndarray, *, passphrase: str | None = None) -> bytes:
    """The bytes :func:`embed_bytes` hid; InputError (one line) when nothing authentic is found."""
    found = _header(stego)
    if found is None:
        raise InputError(NOTHING)
    header, hslots = found
    flat = stego.reshape(-1)
    _, bits, salt, _, length = HEADER.unpack(header)
    key, seed = _kdf(passphrase, salt)
    n_sym = -(-length * 8 // bits)
    slots = _payload_slots(flat.size, hslots, seed, n_sym)
    cipher = _from_symbols(flat[slots].astype(np.int16) % (1 << bits), bits, length)
    return decrypt(header, cipher, key)


def seal(data: bytes, field: int, passphrase: str | None) -> tuple[bytes, bytes, int]:
    """(header, AES-GCM ciphertext of ``data``, the key's permutation seed): a fresh salt and
    nonce, ``field`` in the header's second byte (the LSB bits; the JPEG lattice's quality)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    header = HEADER.pack(VERSION, field, salt, nonce, len(data) + TAG)
    key, seed = _kdf(passphrase, salt)
    return header, AESGCM(key).encrypt(nonce, data, header), seed


def decrypt(header: bytes, cipher: bytes, key: bytes) -> bytes:
    """The plaintext of ``cipher`` under ``key`` and the nonce that ``header`` names (the header
    is its associated data); InputError (``NOTHING``) when it is not authentic."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = HEADER.unpack(header)[3]
    try:
        return AESGCM(key).decrypt(nonce, cipher, header)
    except InvalidTag:
        raise InputError(NOTHING) from None


def hide_lsb(
    cover: np.ndarray,
    secrets: list[np.ndarray],
    *,
    bits: int = 1,
    passphrase: str | None = None,
    codec: str = "auto",
    profiles: list[bytes | None] | None = None,
    alphas: list[np.ndarray | None] | None = None,
) -> tuple[np.ndarray, list[Coded]]:
    """Hide 1-4 (h, w, 3) uint8 secrets (any sizes) in an (H, W, 3) uint8 cover, each with its
    ICC colour profile from ``profiles`` (None: untagged) and (h, w) alpha plane from ``alphas``
    (None: opaque; coded as a lossless WebP).

    Returns (stego (H, W, 3) uint8, the coded secrets; ``Coded.decode()`` is exactly what
    :func:`reveal_lsb` returns; ``Coded.icc`` and ``Coded.decode_alpha()`` what comes back
    beside it).
    """
    if not 1 <= bits <= 4:
        raise InputError(f"--bits must be 1 to 4 (the cover keeps at least 4 bits), not {bits}")

    def budget(n: int, extra: int) -> int:
        return share(
            capacity(cover.shape, bits) - TAG, n, extra,
            f"a {cover.shape[1]}x{cover.shape[0]} cover holds {capacity(cover.shape, bits)} "
            f"bytes at --bits {bits}: too small for {n} secret(s); use a larger cover or more "
            "--bits",
        )  # fmt: skip

    coded = code_secrets(secrets, budget, codec=codec, profiles=profiles, alphas=alphas)
    return embed_bytes(cover, pack_payload(coded), bits=bits, passphrase=passphrase), coded


def code_secrets(
    secrets: list[np.ndarray],
    budget,
    *,
    codec: str = "auto",
    profiles: list[bytes | None] | None = None,
    alphas: list[np.ndarray | None] | None = None,
    avif: bool = False,
) -> list[Coded]:
    """1-4 secrets coded for one payload, with their colour profiles and alpha planes;
    ``budget(n, extra)``: the bytes each of n secrets may use when ``extra`` bytes of profiles
    and alpha planes travel beside them (raises InputError when too small)."""
    if not 1 <= len(secrets) <= 4:
        raise InputError(f"hide takes 1 to 4 secrets, got {len(secrets)}")
    profiles = list(profiles or [None] * len(secrets))
    planes = [_alpha_stream(a) for a in (alphas or [None] * len(secrets))]
    pairs = zip(profiles, planes, strict=True)
    extra = sum(2 * EXTRA.size + len(p or b"") + len(a or b"") for p, a in pairs)
    room = budget(len(secrets), extra if any(profiles + planes) else 0)
    coded = [code_secret(s, room, codec, avif=avif) for s in secrets]
    for c, icc, plane in zip(coded, profiles, planes, strict=True):
        c.icc, c.alpha = icc or None, plane
    return coded


def reveal_lsb(stego: np.ndarray, *, passphrase: str | None = None) -> list[np.ndarray]:
    """The secrets hidden by :func:`hide_lsb`, each at its original size; InputError (one line,
    "no hidden data found, or wrong passphrase") when nothing authentic is found."""
    return [c.decode() for c in reveal_coded(stego, passphrase=passphrase)]


def reveal_coded(stego: np.ndarray, *, passphrase: str | None = None) -> list[Coded]:
    """Like :func:`reveal_lsb`, but the coded streams (what travelled)."""
    return unpack_payload(extract_bytes(stego, passphrase=passphrase))
