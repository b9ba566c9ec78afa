"""The classical baselines and the honest frontier that `win eval` puts beside WIN.

>>> rows = task.frontier(conv, name, x)        # doctest: +SKIP   (dispatches here)

Textbook baselines (k-bit LSB replacement, bicubic down + up, the Lab L gray with no colour) and
the codec-in-LSB schemes of ``wincli.classical`` (rate-distortion, JPEG robustness), on the same
images as WIN and measured with the same ``wincli.evaluate.measure``. Rows are labelled by
scheme; a metric is None where nothing survived.
"""

from __future__ import annotations

import numpy as np
import torch

from wincli.imaging import round8
from wincli.io import from_uint8, to_uint8
from wincli.jpeg import QUALITIES, pillow_jpeg
from wincli.measure import Row, measure
from wincli.metrics import levels, psnr, ssim
from wincli.tasks import Task


def lsb_hide(
    cover8: torch.Tensor, secret8: torch.Tensor | list[torch.Tensor], k: int
) -> torch.Tensor:
    """k-bit LSB per secret (uint8 tensors): the cover keeps its high 8 - n k bits, then the
    high k bits of secret 1, ..., secret n, in that order."""
    secrets = [secret8] if isinstance(secret8, torch.Tensor) else list(secret8)
    n = len(secrets)
    if not 1 <= n * k <= 8:
        raise ValueError(f"{n} secrets x {k} bits do not fit in 8 bits")
    out = (cover8.to(torch.int32) >> (n * k)) << (n * k)
    for i, s in enumerate(secrets):
        out |= (s.to(torch.int32) >> (8 - k)) << ((n - 1 - i) * k)
    return out.to(torch.uint8)


def lsb_reveal(stego8: torch.Tensor, k: int, secrets: int = 1) -> torch.Tensor | list[torch.Tensor]:
    """Each secret's k-bit field shifted up, plus half a bin (a list when ``secrets`` > 1)."""
    half = (1 << (8 - k)) // 2
    out = []
    for i in range(secrets):
        field_ = (stego8.to(torch.int32) >> ((secrets - 1 - i) * k)) & ((1 << k) - 1)
        out.append(((field_ << (8 - k)) + half).clamp(0, 255).to(torch.uint8))
    return out[0] if secrets == 1 else out


def lsb_baselines(task: Task, x: torch.Tensor) -> list[tuple[str, torch.Tensor, list]]:
    """k-bit LSB replacement of the secrets for every k that fits, as (label, stego, revealed)."""
    cover, *secs = (levels(t).to(torch.uint8) for t in task.unpack(x))
    out = []
    for k in range(1, 7 // len(secs) + 1):
        st = lsb_hide(cover, secs, k)
        rv = lsb_reveal(st, k, len(secs))
        rv = [rv] if len(secs) == 1 else rv
        out.append((f"LSB {k}-bit", st / 255.0, [r / 255.0 for r in rv]))
    return out


LSB_BITS = (1, 2, 3, 4)  # every k that leaves the visible image at least 4 bits


def png_bytes(x: torch.Tensor) -> int:
    """Size of the PNG ``win`` writes for an 8-bit image (compress level 6, no metadata)."""
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(to_uint8(x)).save(buf, format="PNG", compress_level=6)
    return buf.tell()


def frontier_hiding(conv, name: str, task: Task, x: torch.Tensor) -> list[Row]:
    from wincli.classical import hide_lsb, reveal_lsb
    from wincli.errors import InputError

    rows = []

    def row(label, stego, revealed):
        rows.append(Row(name, label, measure(task, x, stego, revealed)))

    c8, *s8 = (to_uint8(t) for t in task.unpack(x))
    first = None
    for k in LSB_BITS:
        for codec in ("webp", "jpeg"):
            try:
                st, _ = hide_lsb(c8, s8, bits=k, codec=codec)
            except InputError:  # the cover is too small for this k
                continue
            label = f"{codec.upper()}-in-LSB {k}-bit"
            row(label, from_uint8(st), [from_uint8(r) for r in reveal_lsb(st)])
            first = first or (label, st)
    for q in QUALITIES:
        if first is not None:
            stego = pillow_jpeg(from_uint8(first[1]), q)
            got = _survived(reveal_lsb, to_uint8(stego))
            row(f"{first[0]}, stego as JPEG q{q}", stego,
                [from_uint8(r) for r in got] if got is not None else None)  # fmt: skip
    return rows + lattice_rows(task, name, x)


def lattice_rows(task: Task, name: str, x: torch.Tensor) -> list[Row]:
    """``win hide --method jpeg``: the stego, and revealed from JPEG files of it at each
    quality (``None`` where the payload did not survive, counted in ``lost``)."""
    from wincli.errors import InputError
    from wincli.lattice import hide_jpeg, reveal_jpeg, shared_copy

    c8, *s8 = (to_uint8(t) for t in task.unpack(x))
    try:
        stego, _ = hide_jpeg(c8, s8)
    except InputError:  # the cover is too small
        return []
    label = "codec on the JPEG q75 lattice"
    revealed = [from_uint8(c.decode()) for c in reveal_jpeg(stego)]
    rows = [Row(name, label, measure(task, x, from_uint8(stego), revealed))]
    for q in QUALITIES:
        pixels, shared = shared_copy(stego, q)
        got = _survived(lambda a, s=shared: reveal_jpeg(a, shared=s), pixels)
        revealed = [from_uint8(c.decode()) for c in got] if got is not None else None
        m = measure(task, x, from_uint8(pixels), revealed)
        m["lost"] = float(got is None)  # its mean: the share of images whose payload was lost
        rows.append(Row(name, f"{label}, stego as JPEG q{q}", m))
    return rows


def frontier_rescaling(conv, name: str, task: Task, hr: torch.Tensor) -> list[Row]:
    from wincli.classical import code_secret
    from wincli.classical_tasks import restore_thumbnail, thumbnail_lsb
    from wincli.errors import InputError

    rows = []
    scale = task.down
    hr8 = to_uint8(hr)

    def row(label, lr, rec, **extra):
        restored = [rec] if rec is not None else None  # None: the payload did not survive
        rows.append(Row(name, label, {**measure(task, hr, lr, restored), **extra}))

    first = None
    for k in LSB_BITS:
        for codec, residual in (("webp", False), ("jpeg", False), ("auto", True)):
            try:
                lr, _ = thumbnail_lsb(hr8, scale, bits=k, codec=codec, residual=residual)
            except InputError:
                continue
            what = "residual to bicubic" if residual else codec.upper()
            label = f"bicubic LR + {what} in LSB {k}-bit"
            row(label, from_uint8(lr), from_uint8(restore_thumbnail(lr)))
            first = first or (label, lr)
    if conv is not None:
        lr = conv.forward(hr)
        size = png_bytes(lr)
        for codec in ("jpeg", "webp"):
            coded = code_secret(hr8, size, codec)
            row(
                f"HR as {codec.upper()} in WIN's LR-PNG bytes",
                None,
                from_uint8(coded.decode()),
                bytes=float(len(coded.stream)),
                lr_png_bytes=float(size),
            )
    bicubic = round8(task.target(hr))
    for q in QUALITIES:
        lq = pillow_jpeg(bicubic, q)
        row(f"bicubic down+up, LR as JPEG q{q}", lq, task.stand_in(lq))
        if first is not None:
            lq = pillow_jpeg(from_uint8(first[1]), q)
            got = _survived(restore_thumbnail, to_uint8(lq))
            row(f"{first[0]}, LR as JPEG q{q}", lq, from_uint8(got) if got is not None else None)
    return rows


def _survived(restore, stored8):
    """``restore(stored8)``, or None when the hidden payload did not survive a re-encoding."""
    from wincli.errors import InputError

    try:
        return restore(stored8)
    except InputError:
        return None


def frontier_decolorization(conv, name: str, task: Task, color: torch.Tensor) -> list[Row]:
    from wincli.classical_tasks import colorize_gray, gray_lsb
    from wincli.errors import InputError

    rows = []
    c8 = to_uint8(color)
    for k in LSB_BITS:
        for gray_kind, label in (("luma", "luma (Y) gray"), ("lab", "Lab L gray")):
            try:
                gray, _ = gray_lsb(c8, bits=k, target=gray_kind)
            except InputError:
                continue
            m = measure(task, color, from_uint8(gray), [from_uint8(colorize_gray(gray))])
            if gray_kind == "luma":  # its gray is judged against the luma it was meant to be
                luma = from_uint8(np.asarray(_pil_l(c8)))
                m.update(gray_psnr=psnr(from_uint8(gray), luma))
                m.update(gray_ssim=ssim(from_uint8(gray), luma))
            rows.append(Row(name, f"{label} + chroma in LSB {k}-bit", m))
    try:
        gray, _ = gray_lsb(c8, bits=1, target="lab")
    except InputError:  # too small to carry its chroma
        return rows
    for q in QUALITIES:
        gq = pillow_jpeg(from_uint8(gray), q)
        got = _survived(colorize_gray, to_uint8(gq))
        restored = [from_uint8(got)] if got is not None else None
        rows.append(Row(name, f"Lab L gray + chroma in LSB 1-bit, gray as JPEG q{q}",
                        measure(task, color, gq, restored)))  # fmt: skip
    return rows


def _pil_l(rgb: np.ndarray):
    from PIL import Image

    return Image.fromarray(rgb).convert("L")


def task_baselines(task: Task, x: torch.Tensor) -> list[tuple[str, torch.Tensor, list]]:
    """The textbook baselines `win eval` puts beside WIN for ``task`` (label, stored image,
    restored parts): LSB hiding for hiding, else the task's own stand-in (``Task.baselines``)."""
    if task.kind == "hiding":
        return lsb_baselines(task, x)
    return task.baselines(x)


def task_frontier(conv, name: str, task: Task, x: torch.Tensor) -> list[Row]:
    """The classical frontier's rows for one sample of ``task`` (``win eval --frontier``),
    measured like WIN's; [] for a task that has none."""
    rows = {
        "hiding": frontier_hiding,
        "rescaling": frontier_rescaling,
        "decolorization": frontier_decolorization,
    }.get(task.kind)
    return rows(conv, name, task, x) if rows else []
