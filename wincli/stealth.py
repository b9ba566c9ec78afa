"""Adaptive hiding (``win hide --method stealth``): the ``--method lsb`` payload written with
+-1 changes where a detector least expects them.

>>> stego, coded = hide_stealth(cover, [secret], passphrase="pw")   # doctest: +SKIP
>>> coded = reveal_stealth(stego, passphrase="pw")          # [Coded]; .decode() -> (h, w, 3)

Arrays are (H, W, 3) uint8; a *slot* is one channel value.

- **Cost**: HILL (Li et al. 2014) per channel: the 3x3 KB high-pass residual, its magnitude
  averaged over 3x3, inverted, averaged over 15x15. Changes in smooth regions cost much, in
  texture little.
- **Coding**: syndrome-trellis codes (Filler, Judas, Fridrich 2011), constraint height 7: the
  message is the syndrome H y of the stego's LSBs y, and the Viterbi search picks the LSBs of
  least total cost with that syndrome. Each changed slot moves by +1 or -1 (the direction drawn
  at random for each hide; 0 and 255 move inward). The slots are split into chunks of about a
  thousand, each an independent code of the same rate, so memory stays bounded and the search
  runs over many chunks at once.
- **Keys**: scrypt(passphrase, "WIN-STEALTH" + the image size) gives the AES-256 key and the
  seed of the slot permutation and of the code. Nothing is public: without the passphrase the
  stego is a photo with noise in its last bits. Without ``--passphrase`` the passphrase is
  empty, so anyone with win can reveal it (it is then obfuscated, not secret).
- **Layout**: the first ``HEAD_SLOTS`` slots of the permutation carry, at rate 1/64, the
  payload's length XOR a key-derived mask (4 bytes); the rest carry the 12-byte nonce and the
  AES-256-GCM ciphertext of the ``--method lsb`` plaintext (coded secrets, sizes, profiles),
  at the rate that length gives. A wrong passphrase, a photo and a stego of another method all
  fail the authentication: "no hidden data found, or wrong passphrase".

The payload is given in bits per slot (``payload``, default ``STEALTH_PAYLOAD``): the secrets
are coded (AVIF/WebP/JPEG, as ``--method jpeg``) to fit what that payload holds.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from wincli.classical import NOTHING, TAG, Coded, code_secrets, pack_payload, unpack_payload
from wincli.errors import InputError
from wincli.options import STEALTH_MAX_PAYLOAD, STEALTH_PAYLOAD, check_payload

HEIGHT = 7  # constraint height of the trellis: 2**7 states
STATES = 1 << HEIGHT
CHUNK = 1024  # slots per code (about)
GROUP = 1024  # codes searched together
LENGTH_BITS = 32
HEAD_RATE = 64  # slots per header bit
HEAD_SLOTS = LENGTH_BITS * HEAD_RATE
NONCE = 12
SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 2**20}
WET = 1e10  # the cost of a slot that must not change
FLAT = 1e6  # HILL's cost where a 15 x 15 neighbourhood has no texture at all
FLAT_SHARE = 0.05  # warn when more of the changes than this had to go into such regions


# ------------------------------------------------------------------ cost


def _box(x: np.ndarray, k: int) -> np.ndarray:
    """Mean over a k x k window (k odd) with symmetric padding, same size as ``x``."""
    r = k // 2
    p = np.pad(x, r, mode="symmetric").astype(np.float64)
    c = np.zeros((p.shape[0] + 1, p.shape[1] + 1))
    c[1:, 1:] = p.cumsum(0).cumsum(1)
    h, w = x.shape
    s = c[k : k + h, k : k + w] - c[:h, k : k + w] - c[k : k + h, :w] + c[:h, :w]
    return (s / (k * k)).astype(np.float32)


def hill_cost(plane: np.ndarray) -> np.ndarray:
    """HILL's cost of a +-1 change of each value of an (H, W) uint8 plane."""
    x = np.pad(plane.astype(np.float32), 1, mode="symmetric")
    h, w = plane.shape
    # KB high-pass: [[-1, 2, -1], [2, -4, 2], [-1, 2, -1]] / 4
    corners = x[:h, :w] + x[:h, 2:] + x[2:, :w] + x[2:, 2:]
    edges = x[:h, 1:-1] + x[2:, 1:-1] + x[1:-1, :w] + x[1:-1, 2:]
    residual = (2 * edges - corners - 4 * x[1:-1, 1:-1]) / 4
    return _box(1.0 / (_box(np.abs(residual), 3) + 1e-10), 15)


def costs(cover: np.ndarray) -> np.ndarray:
    """Per-slot costs of an (H, W, 3) uint8 cover, flattened like ``cover.reshape(-1)``."""
    planes = [hill_cost(cover[..., c]) for c in range(cover.shape[2])]
    return np.minimum(np.stack(planes, -1).reshape(-1), WET)


# ------------------------------------------------------------------ syndrome-trellis codes


def _columns(rng: np.random.Generator, width: int) -> np.ndarray:
    """``width`` columns of the code's HEIGHT x width submatrix, as ints with the top and bottom
    bits set (the usual choice for good codes)."""
    mid = rng.integers(0, 1 << (HEIGHT - 2), size=width, dtype=np.int64)
    return (1 | (mid << 1) | (1 << (HEIGHT - 1))).astype(np.int64)


def stc_embed(x: np.ndarray, rho: np.ndarray, msg: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Stego LSBs for K codes at once: ``x`` (K, m w) cover LSBs, ``rho`` (K, m w) costs,
    ``msg`` (K, m) bits, ``cols`` (w,) the submatrix. Returns y (K, m w) uint8 with
    ``stc_extract(y, cols) == msg`` of least total cost. The trellis is held states-first,
    (STATES, K), so that each step's moves gather whole rows."""
    k, n = x.shape
    m, width = msg.shape[1], len(cols)
    states = np.arange(STATES)
    partner = [states ^ c for c in cols]
    cost = np.full((STATES, k), np.inf, dtype=np.float32)
    cost[0] = 0
    path = np.empty((n, STATES, k), dtype=bool)
    r = rho.T.astype(np.float32)
    flip0 = np.where(x.T == 1, r, 0).astype(np.float32)  # cost of y = 0
    flip1 = np.where(x.T == 0, r, 0).astype(np.float32)  # cost of y = 1
    stay, move = np.empty_like(cost), np.empty_like(cost)
    half = STATES // 2
    for j in range(m):
        for t in range(width):
            i = j * width + t
            np.add(cost, flip0[i], out=stay)
            np.take(cost, partner[t], axis=0, out=move)
            move += flip1[i]
            np.less(move, stay, out=path[i])
            np.minimum(stay, move, out=cost)
        # keep the states whose lowest bit is this message bit, shifted down
        pairs = cost.reshape(half, 2, k)
        cost[:half] = np.where(msg[:, j] == 1, pairs[:, 1], pairs[:, 0])
        cost[half:] = np.inf
    state = np.argmin(cost, 0)
    codes = np.arange(k)
    y = np.empty((k, n), dtype=np.uint8)
    for j in range(m - 1, -1, -1):
        state = (state << 1) | msg[:, j]
        for t in range(width - 1, -1, -1):
            i = j * width + t
            bit = path[i, state, codes]
            y[:, i] = bit
            state = np.where(bit, state ^ cols[t], state)
    return y


def stc_extract(y: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The (K, m) syndromes of (K, m w) LSBs ``y``."""
    k, n = y.shape
    width = len(cols)
    m = n // width
    state = np.zeros(k, dtype=np.int64)
    msg = np.empty((k, m), dtype=np.uint8)
    for j in range(m):
        for t in range(width):
            state ^= y[:, j * width + t].astype(np.int64) * cols[t]
        msg[:, j] = state & 1
        state >>= 1
    return msg


def _layout(n_slots: int, n_bits: int) -> tuple[int, int, int]:
    """(codes, bits per code, width) for ``n_bits`` over ``n_slots``: codes x bits >= n_bits
    and codes x bits x width <= n_slots."""
    width = n_slots // n_bits
    if width < 2:
        raise InputError("the payload does not fit")
    per = max(1, CHUNK // width)
    codes = -(-n_bits // per)
    width = n_slots // (codes * per)
    return codes, per, width


def _embed_bits(values, rho, bits, rng, keys, threads: int = 1) -> np.ndarray:
    """``values`` (n,) uint8 slots with ``bits`` (any length) written by STC; ``keys``: the
    key-derived generator for the code; ``rng`` draws the padding and the directions;
    ``threads`` codes are searched at once."""
    codes, per, width = _layout(len(values), len(bits))
    cols = _columns(keys, width)
    pad = rng.integers(0, 2, size=codes * per - len(bits), dtype=np.uint8)
    msg = np.concatenate([bits, pad]).reshape(codes, per)
    used = codes * per * width
    x = (values[:used] & 1).reshape(codes, -1)
    r = rho[:used].reshape(codes, -1)
    y = np.empty_like(x)

    def group(g: int) -> None:
        y[g : g + GROUP] = stc_embed(x[g : g + GROUP], r[g : g + GROUP], msg[g : g + GROUP], cols)

    with ThreadPoolExecutor(threads) as pool:  # NumPy releases the GIL in the trellis' steps
        list(pool.map(group, range(0, codes, GROUP)))
    changed = (y != x).reshape(-1)
    up = rng.integers(0, 2, size=used, dtype=np.int16) * 2 - 1
    v = values[:used].astype(np.int16)
    up = np.where(v == 0, 1, np.where(v == 255, -1, up))
    out = values.copy()
    out[:used] = np.where(changed, v + up, v).astype(np.uint8)
    return out


def _extract_bits(values: np.ndarray, n_bits: int, keys) -> np.ndarray:
    codes, per, width = _layout(len(values), n_bits)
    cols = _columns(keys, width)
    y = (values[: codes * per * width] & 1).reshape(codes, -1)
    return stc_extract(y, cols).reshape(-1)[:n_bits]


# ------------------------------------------------------------------ keys and layout


def _keys(passphrase: str | None, shape: tuple[int, ...]) -> tuple[bytes, int, int]:
    """(AES key, permutation seed, code seed) for a cover of ``shape``."""
    salt = b"WIN-STEALTH" + "x".join(map(str, shape)).encode()
    out = hashlib.scrypt((passphrase or "").encode("utf-8"), salt=salt, dklen=56, **SCRYPT)
    return out[:32], int.from_bytes(out[32:48], "big"), int.from_bytes(out[48:], "big")


def _order(n_slots: int, seed: int) -> np.ndarray:
    """A key-derived permutation of the slots (NumPy's legacy ``RandomState``, whose stream is
    frozen: the same on every NumPy)."""
    words = np.frombuffer(seed.to_bytes(16, "big"), dtype=">u4").astype(np.uint32)
    return np.random.RandomState(words).permutation(n_slots)


def _code_rng(seed: int, part: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, part]))


def _mask(key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(key + b"length").digest()[:4], "big")


def capacity(shape: tuple[int, ...], payload: float = STEALTH_PAYLOAD) -> int:
    """Plaintext bytes a cover of ``shape`` carries at ``payload`` bits per slot."""
    slots = int(np.prod(shape)) - HEAD_SLOTS
    return max(0, int(slots * payload) // 8 - NONCE - TAG)


def _bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def embed(
    cover: np.ndarray, plain: bytes, *, passphrase=None, payload=STEALTH_PAYLOAD, threads=None
) -> np.ndarray:
    """``plain`` encrypted and written into a uint8 (H, W, 3) ``cover``; a new array.
    ``threads``: how many codes are searched at once (None: every core)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    check_payload(payload)
    if len(plain) > capacity(cover.shape, payload):
        raise InputError(
            f"{len(plain):,} bytes do not fit in a cover of {capacity(cover.shape, payload):,} "
            f"bytes at --payload {payload}"
        )
    key, perm_seed, code_seed = _keys(passphrase, cover.shape)
    nonce = os.urandom(NONCE)
    body = nonce + AESGCM(key).encrypt(nonce, plain, b"WIN-STEALTH")
    order = _order(cover.size, perm_seed)
    flat = cover.reshape(-1)
    values = flat[order]
    rho = costs(cover)[order]
    rng = np.random.default_rng()
    threads = threads or os.cpu_count() or 1
    length = (len(body) ^ _mask(key)).to_bytes(4, "big")
    head = _embed_bits(values[:HEAD_SLOTS], rho[:HEAD_SLOTS], _bits(length), rng,
                       _code_rng(code_seed, 0))  # fmt: skip
    rest = _embed_bits(values[HEAD_SLOTS:], rho[HEAD_SLOTS:], _bits(body), rng,
                       _code_rng(code_seed, 1), threads)  # fmt: skip
    out = np.empty_like(flat)
    stego = np.concatenate([head, rest])
    changed = stego != values
    flat_share = (rho[changed] >= FLAT).mean() if changed.any() else 0.0
    if flat_share > FLAT_SHARE:
        warnings.warn(
            f"{100 * flat_share:.0f}% of the changes had to go into flat "
            "regions of the cover, where a detector sees them: use a cover with more texture, a "
            "larger one or a smaller --payload",
            stacklevel=2,
        )
    out[order] = stego
    return out.reshape(cover.shape)


def extract(stego: np.ndarray, *, passphrase=None) -> bytes:
    """The plaintext :func:`embed` wrote; InputError (``NOTHING``) when nothing authentic."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if stego.size <= HEAD_SLOTS * 2:
        raise InputError(NOTHING)
    key, perm_seed, code_seed = _keys(passphrase, stego.shape)
    values = stego.reshape(-1)[_order(stego.size, perm_seed)]
    head = _extract_bits(values[:HEAD_SLOTS], LENGTH_BITS, _code_rng(code_seed, 0))
    n = int.from_bytes(np.packbits(head).tobytes(), "big") ^ _mask(key)
    room = (stego.size - HEAD_SLOTS) * STEALTH_MAX_PAYLOAD // 8
    if not NONCE + TAG < n <= room:
        raise InputError(NOTHING)
    bits = _extract_bits(values[HEAD_SLOTS:], 8 * n, _code_rng(code_seed, 1))
    body = np.packbits(bits).tobytes()
    try:
        return AESGCM(key).decrypt(body[:NONCE], body[NONCE:], b"WIN-STEALTH")
    except InvalidTag:
        raise InputError(NOTHING) from None


# ------------------------------------------------------------------ hide / reveal


def hide_stealth(
    cover: np.ndarray,
    secrets: list[np.ndarray],
    *,
    payload: float = STEALTH_PAYLOAD,
    passphrase: str | None = None,
    codec: str = "auto",
    profiles=None,
    alphas=None,
) -> tuple[np.ndarray, list[Coded]]:
    """Hide 1-4 (h, w, 3) uint8 secrets in an (H, W, 3) uint8 cover at ``payload`` bits per
    slot; (stego, the coded secrets), as :func:`wincli.classical.hide_lsb`."""
    from wincli.classical import share

    room = capacity(cover.shape, payload)

    def budget(n: int, extra: int) -> int:
        return share(
            room, n, extra,
            f"a {cover.shape[1]}x{cover.shape[0]} cover holds {room:,} bytes at --payload "
            f"{payload}: too small for {n} secret(s); use a larger cover or a larger --payload",
        )  # fmt: skip

    coded = code_secrets(secrets, budget, codec=codec, profiles=profiles, alphas=alphas, avif=True)
    return embed(cover, pack_payload(coded), passphrase=passphrase, payload=payload), coded


def carries(stego: np.ndarray, *, passphrase: str | None = None) -> bool:
    """Whether ``stego`` carries a payload :func:`embed` wrote with ``passphrase``."""
    try:
        extract(stego, passphrase=passphrase)
    except InputError:
        return False
    return True


def reveal_stealth(stego: np.ndarray, *, passphrase: str | None = None) -> list[Coded]:
    """The coded secrets :func:`hide_stealth` hid; InputError (``NOTHING``) otherwise."""
    return unpack_payload(extract(stego, passphrase=passphrase))
