"""Steganalysis of stego images: SPAM features, a regularised linear classifier, P_E and AUC.

>>> f = spam_rgb(img)                                   # (H, W, 3) uint8 -> 2058 features
>>> res = detect(cover_feats, stego_feats, splits=10)   # paired rows: row i = source image i
>>> res["pe_mean"], res["auc_mean"]

Features: the second-order SPAM model (Pevny, Bas, Fridrich 2010; T = 3, 686 features: the
co-occurrences of three consecutive truncated differences, straight and diagonal directions
averaged, as the reference spam686 code computes them) on each RGB channel (3 x 686). It is
computed here in NumPy and equals the optional ``sealwatch`` package's SPAM exactly (a test);
``backend="sealwatch"`` uses sealwatch's Rust implementation instead.
The detector is a Fisher linear discriminant with ridge regularisation, trained on half of the
source images and tested on the other half (a split by source image, never by crop: a cover
and its stego always fall on the same side), repeated over ``splits`` random halvings.

P_E = min over thresholds of (P_FA + P_MD) / 2 (0.5 = undetectable, 0 = always caught).
"""

from __future__ import annotations

import numpy as np

T = 3
BINS = 2 * T + 1


def _triples(d: np.ndarray, step: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Consecutive differences (w, v, u) along ``step`` of the difference array ``d``."""
    h, w = d.shape
    di, dj = step
    rows, cols = h - 2 * di, w - 2 * dj
    return tuple(d[k * di : k * di + rows, k * dj : k * dj + cols] for k in range(3))


def _markov(x: np.ndarray, diagonal: bool) -> np.ndarray:
    """343 co-occurrence frequencies of three consecutive truncated differences (w, v, u) for
    one direction (right or down-right), normalised to sum to one, as the reference SPAM code
    (spam686.m, and sealwatch) computes them."""
    x = x.astype(np.int32)
    if diagonal:
        d, step = x[:-1, :-1] - x[1:, 1:], (1, 1)
    else:
        d, step = x[:, :-1] - x[:, 1:], (0, 1)
    w, v, u = (np.clip(t, -T, T) + T for t in _triples(d, step))
    joint = np.bincount(((w * BINS + v) * BINS + u).ravel(), minlength=BINS**3)
    return joint.astype(np.float64) / max(int(joint.sum()), 1)  # [w, v, u], sums to one


def spam(x: np.ndarray) -> np.ndarray:
    """686 SPAM features of one (H, W) uint8 channel: straight directions averaged, then
    diagonal directions averaged."""
    views = [x, x[:, ::-1], x.T, x.T[:, ::-1]]  # right, left, down, up
    diag = [x, x[::-1, ::-1], x[:, ::-1], x[::-1, :]]  # the four diagonals
    f1 = np.mean([_markov(v, False) for v in views], 0)
    f2 = np.mean([_markov(v, True) for v in diag], 0)
    return np.concatenate([f1, f2])


def spam_rgb(img: np.ndarray, backend: str = "numpy") -> np.ndarray:
    """SPAM per channel of an (H, W, 3) uint8 image: 2058 features."""
    if backend == "sealwatch":
        sw = import_sealwatch()
        return np.concatenate(
            [
                np.concatenate(
                    [
                        np.ravel(v)
                        for v in sw.spam.extract(np.ascontiguousarray(img[..., c])).values()
                    ]
                )
                for c in range(3)
            ]
        )
    return np.concatenate([spam(np.ascontiguousarray(img[..., c])) for c in range(3)])


def crm_rgb(img: np.ndarray) -> np.ndarray:
    """The color rich model (CRM, 2073 features) of an (H, W, 3) uint8 image, from sealwatch."""
    sw = import_sealwatch()
    feats = sw.crm.extract(np.ascontiguousarray(img))
    return np.concatenate([np.ravel(feats[k]) for k in sorted(feats)]).astype(np.float64)


def import_sealwatch():
    """Import sealwatch without torchvision: sealwatch imports it at import time for its neural
    detectors only, and PyPI's torchvision does not load beside the CPU torch 2.13 build. An
    empty placeholder is registered when it is missing (the SPAM features do not use it)."""
    import importlib
    import sys
    import types

    class _Placeholder(types.ModuleType):
        """Any attribute is an empty class (sealwatch subclasses a few transforms)."""

        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (), {})

    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken: both are replaced by the placeholder
        tv, tr = _Placeholder("torchvision"), _Placeholder("torchvision.transforms")
        tv.transforms = tr
        sys.modules["torchvision"], sys.modules["torchvision.transforms"] = tv, tr
    try:
        return importlib.import_module("sealwatch")
    except ImportError as exc:
        raise ImportError(
            "sealwatch is not installed: pip install --no-deps sealwatch jpeglib && "
            "pip install scipy h5py pandas tqdm (a plain `pip install sealwatch` pulls a CUDA "
            f"torch and torchvision) ({exc})"
        ) from None


def fld_fit(xc: np.ndarray, xs: np.ndarray, ridge: float = 1e-2) -> tuple[np.ndarray, float]:
    """Fisher linear discriminant on standardised features with ridge ``ridge`` (relative to
    the mean within-class variance): returns (w, b) with score = x @ w + b, stego > 0."""
    mu = np.concatenate([xc, xs]).mean(0)
    sd = np.concatenate([xc, xs]).std(0) + 1e-12
    zc, zs = (xc - mu) / sd, (xs - mu) / sd
    sw = np.cov(zc, rowvar=False) + np.cov(zs, rowvar=False)
    sw += ridge * np.trace(sw) / len(sw) * np.eye(len(sw)) + 1e-9 * np.eye(len(sw))
    w = np.linalg.solve(sw, zs.mean(0) - zc.mean(0))
    b = -0.5 * float((zs.mean(0) + zc.mean(0)) @ w)
    return w / sd, b - float((mu / sd) @ w)


def p_error(scores_cover: np.ndarray, scores_stego: np.ndarray) -> float:
    """min over thresholds of (P_FA + P_MD) / 2."""
    s = np.concatenate([scores_cover, scores_stego])
    y = np.concatenate([np.zeros(len(scores_cover)), np.ones(len(scores_stego))])
    order = np.argsort(s, kind="stable")
    y = y[order]
    # threshold after position k: covers at or below are "cover", stegos at or below are missed
    fa = 1 - np.concatenate([[0], np.cumsum(1 - y)]) / len(scores_cover)
    md = np.concatenate([[0], np.cumsum(y)]) / len(scores_stego)
    return float(np.min((fa + md) / 2))


def auc(scores_cover: np.ndarray, scores_stego: np.ndarray) -> float:
    """Probability that a stego scores above a cover (ties count half)."""
    c = np.asarray(scores_cover)[:, None]
    s = np.asarray(scores_stego)[None, :]
    return float(((s > c).sum() + 0.5 * (s == c).sum()) / (c.size * s.size))


def detect(
    cover: np.ndarray,
    stego: np.ndarray,
    splits: int = 10,
    seed: int = 0,
    ridge: float = 1e-2,
    groups: np.ndarray | None = None,
) -> dict:
    """Train/test the detector over ``splits`` halvings by source: row i of both comes from
    source ``groups[i]`` (default: source i), and a source's rows all go to one half."""
    n = len(cover)
    groups = np.arange(n) if groups is None else np.asarray(groups)
    names = np.unique(groups)
    rng = np.random.default_rng(seed)
    pes, aucs = [], []
    for _ in range(splits):
        half = rng.permutation(names)[: len(names) // 2]
        train_rows = np.isin(groups, half)
        tr, te = np.flatnonzero(train_rows), np.flatnonzero(~train_rows)
        w, b = fld_fit(cover[tr], stego[tr], ridge)
        sc, ss = cover[te] @ w + b, stego[te] @ w + b
        pes.append(p_error(sc, ss))
        aucs.append(auc(sc, ss))
    return {
        "pe_mean": float(np.mean(pes)),
        "pe_std": float(np.std(pes)),
        "auc_mean": float(np.mean(aucs)),
        "splits": splits,
        "n_sources": len(names),
    }


def lsb_matching_full(cover: np.ndarray, seed: int = 0) -> np.ndarray:
    """Positive control: a random bit in every LSB, embedded by +-1 matching (full payload),
    with the embedder of ``--method lsb`` (``wincli.classical.lsb_match``)."""
    from wincli.classical import lsb_match

    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, cover.shape)
    return lsb_match(cover.reshape(-1), bits.reshape(-1), 1, rng).reshape(cover.shape)
