"""The file verbs the CLI calls: read the inputs, run a :class:`~wincli.converter.Converter`,
write the outputs atomically, and say what the receiver will get.

>>> conv = Converter.load("hiding", secrets=1)                          # doctest: +SKIP
>>> hide_file(conv, "cover.png", ["secret.png"], "stego.png", check=True).check_psnr
{'stego': 40.1, 'secret1': 37.2}
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch.nn.functional as F

from wincli.converter import Converter, fit_secret, pad_to
from wincli.errors import InputError
from wincli.io import (
    MODEL_KEY,
    ROBUST_KEY,
    SCALE_KEY,
    SIZE_KEY,
    WEIGHTS_KEY,
    from_uint8,
    to_uint8,
)


@dataclass
class Result:
    """What a verb wrote and, with ``check``, the PSNR the receiver will get."""

    outputs: list[str]
    notes: list[str]
    check_psnr: dict[str, float] | None = None


def hide_file(
    conv: Converter,
    cover_path,
    secret_paths,
    out,
    *,
    force_lossy=False,
    check=False,
    fit=None,
    strip_metadata=False,
) -> Result:
    """cover + 1-4 secrets -> stego PNG with the cover's alpha, colour profile and EXIF.

    Secrets are hidden as sRGB (a secret with another profile is converted, with a note) and
    without transparency (a warning): the stego has no room for anything but pixels."""
    from wincli.io import check_output_path, read_image, to_srgb, write_image
    from wincli.metrics import psnr

    n = conv.config.secrets
    if len(secret_paths) != n:
        raise InputError(f"this model hides {n} secret(s), got {len(secret_paths)}")
    lossy = may_write_lossy(conv, out, force_lossy)
    out = check_output_path(out, [cover_path, *secret_paths], force_lossy=lossy, what="stego image")
    cover, meta = read_image(cover_path)
    notes = []
    secrets = []
    for p in secret_paths:
        sec, smeta = read_image(p)
        notes += _secret_notes(p, smeta)
        sec = to_srgb(sec, smeta.icc)
        if sec.shape[-2:] != cover.shape[-2:]:
            sec2 = fit_secret(sec, tuple(cover.shape[-2:]), fit)
            notes.append(
                f"{p}: {sec.shape[-1]}x{sec.shape[-2]} brought to the cover's "
                f"{cover.shape[-1]}x{cover.shape[-2]} ({fit or 'stretch'}); reveal returns "
                "that size"
            )
            sec = sec2
        secrets.append(sec)
    task = conv.config.spec
    x = task.pack([cover, *secrets])
    del secrets  # x holds them (a 12 MP secret is 144 MB of float32)
    stego = sealed(conv, conv.forward(x))
    write_image(out, stego, meta, strip_metadata=strip_metadata)
    fidelity = psnr(stego, cover)
    del stego  # --check reads the written file back
    if fidelity < VISIBLE_PSNR:
        notes.append(
            f"{out}: differs visibly from the cover ({fidelity:.1f} dB PSNR); noise-like "
            "covers hide poorly, and the secrets will reveal poorly too (see --check)"
        )
    notes += _size_note(cover_path, out)
    result = Result([str(out)], notes)
    if check:
        back, _ = read_image(out)
        result.check_psnr = {"stego": psnr(back, cover), **check_scores(conv, x, back)}
    return result


def _size_note(cover_path, out) -> list[str]:
    """A note when a PNG stego is much larger than its PNG cover (smooth covers: the hidden
    secrets are noise that PNG cannot compress; ``scripts/stego_size.py`` measures it)."""
    from pathlib import Path

    cover_path, out = Path(cover_path), Path(out)
    if cover_path.suffix.lower() != ".png" or out.suffix.lower() != ".png":
        return []
    ratio = out.stat().st_size / max(1, cover_path.stat().st_size)
    if ratio <= STEGO_SIZE_RATIO:
        return []
    return [
        f"{out}: {ratio:.1f}x the cover's file size: the hidden images are fine noise that PNG "
        "cannot compress, most of all on a smooth cover (a busier cover hides them in less)"
    ]


STEGO_SIZE_RATIO = 1.5  # held-out photos: median 1.15, smooth ones up to 2 (stego_size.py)
VISIBLE_PSNR = 30.0  # a stego this far from its cover shows it (natural covers: 35-45 dB)
CHECK_QUALITY = 90  # --check on a robust model's file also restores it after this JPEG


def may_write_lossy(conv: Converter, out, force_lossy: bool) -> bool:
    """A robust model may write JPEG without --force-lossy: that is what it is trained for."""
    from pathlib import Path

    return force_lossy or (conv.robust and Path(out).suffix.lower() in (".jpg", ".jpeg"))


def check_scores(conv: Converter, x, written) -> dict[str, float]:
    """``--check``: the PSNR of each part restored from the written stored image ("secret1",
    "hr", ...) over the whole image, as a user measures it, read back from disk and, for a
    robust model, after a JPEG ("hr after JPEG q90"); for rescaling also the paper's protocol
    number, with ``scale`` border pixels shaved."""
    from wincli.metrics import psnr

    task = conv.config.spec
    shave = task.down if task.down > 1 else 0
    out = {}
    for suffix, image in received(conv, written).items():
        restored = task.restored(conv.inverse(image, size=tuple(x.shape[-2:])))
        for name, got, ref in zip(task.restored_names, restored, task.restored(x), strict=True):
            out[f"{name}{suffix}"] = psnr(got, ref)
            if shave and not suffix:
                out[f"{name} with {shave} border px shaved (the paper's protocol)"] = psnr(
                    got, ref, shave
                )
    return out


def received(conv: Converter, stored) -> dict[str, object]:
    """What ``--check`` restores from: the file as written ("") and, for a robust model, after
    a Pillow JPEG at ``CHECK_QUALITY`` (" after JPEG q90")."""
    out = {"": stored}
    if conv.robust:
        from wincli.jpeg import pillow_jpeg

        out[f" after JPEG q{CHECK_QUALITY}"] = pillow_jpeg(stored, CHECK_QUALITY)
    return out


def _secret_notes(path, meta) -> list[str]:
    """What WIN hiding cannot keep of a secret, said once each."""
    import warnings

    from wincli.io import is_srgb

    if meta.alpha is not None and (meta.alpha < 255).any():
        warnings.warn(
            f"{path}: its transparency is not hidden (WIN hides RGB; --method lsb keeps it)",
            stacklevel=3,
        )
    if not is_srgb(meta.icc):
        return [f"{path}: converted from its colour profile to sRGB before hiding"]
    return []


def _reveal_targets(stego_path, out_dir, names: list[str], force_lossy: bool = False) -> list:
    """Checked output paths for reveal: ``out_dir/NAME``, or ``STEM_NAME`` beside the stego."""
    from pathlib import Path

    from wincli.io import check_output_path

    stego_path = Path(stego_path)
    if out_dir is None:
        folder, prefix = stego_path.parent, f"{stego_path.stem}_"
    else:
        folder, prefix = Path(out_dir), ""
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder}: reveal writes a folder of files; -o must be a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from wincli.errors import OutputError

        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror})") from None
    return [
        check_output_path(folder / f"{prefix}{name}", [stego_path], force_lossy=force_lossy)
        for name in names
    ]


def lossy_input_notes(path, meta, what: str, conv: Converter) -> list[str]:
    """A note when the image to invert was stored lossily (its hidden low bits are damaged),
    with the hint to use the robust model where one exists; nothing when it is the robust
    model that restores it (that is what it is for)."""
    from wincli.weights import robust_tasks

    if not meta.lossy or conv.robust:
        return []
    note = (
        f"{path}: is {meta.format} (lossy), which damages the {what} it carries: expect a "
        "poor result (keep WIN images as PNG)"
    )
    if conv.config.spec.name in robust_tasks():
        note += "; if it was stored with --robust, restore it with --robust"
    return [note]


def reveal_file(
    conv: Converter,
    stego_path,
    out_dir=None,
    *,
    with_cover=False,
    force_lossy=False,
    strip_metadata=False,
    force=False,
) -> Result:
    """stego -> secret1..N PNGs (and the recovered cover with ``with_cover``); refused when the
    stego's seal says nothing is hidden for this model (``force``: revealed anyway)."""
    from wincli.io import read_image, write_image

    stego, meta = read_image(stego_path)
    classical = classical_payload(stego_path, to_uint8(stego))
    if classical:
        raise hidden_with(stego_path, classical)
    notes = [] if force else check_seal(conv, stego, stego_path, meta.lossy)
    n = conv.config.secrets
    names = [f"secret{i}.png" for i in range(1, n + 1)] + (["cover.png"] if with_cover else [])
    targets = _reveal_targets(stego_path, out_dir, names, force_lossy)
    cover, *secrets = conv.config.spec.unpack(conv.inverse(stego))
    for t, secret in zip(targets, secrets, strict=False):
        write_image(t, secret)  # hidden as sRGB, with nothing of the cover's metadata
    if with_cover:
        write_image(targets[-1], cover, meta, strip_metadata=strip_metadata)
    notes += lossy_input_notes(stego_path, meta, "secrets", conv)
    return Result([str(t) for t in targets], notes)


def sealed(conv: Converter, stego):
    """The stego about to be stored, with its seal (``wincli.seal``): the hide's -n and weights."""
    from wincli.seal import seal

    return seal(stego.float(), conv.config.secrets, conv.weights_id)


def check_seal(conv: Converter, stego, path, lossy: bool) -> list[str]:
    """Refuse (one line) to reveal what ``stego`` cannot hold for ``conv``: nothing sealed, or
    sealed by a hide with another -n or other weights; the notes when it cannot be checked."""
    from wincli.seal import read_seal, sealable

    if not sealable(stego):
        return [f"{path}: too small to carry a seal: reveal cannot check that something is hidden"]
    found = read_seal(stego)
    if found is None and lossy and conv.robust:
        return [f"{path}: a lossy copy keeps no seal: reveal cannot check that something is hidden"]
    if found is None:
        why = (
            "a JPEG copy of a stego loses it" if lossy else "a plain image, or a stego edited since"
        )
        raise InputError(
            f"{path}: nothing hidden here by win hide (no seal: {why}); --force reveals anyway"
        )
    n, ours = conv.config.secrets, conv.weights_id[:8]
    if found.secrets == n and found.weights == ours:
        return []
    rec = sealed_by(found) if found.weights != ours else None
    flags = [f"-n {found.secrets}"] if found.secrets != n else []
    if rec is not None and not rec.default:
        flags.append(f"--weights {rec.name}")
    how = (" with " + " ".join(flags) if flags else "") + (
        " without --weights" if rec is not None and rec.default and found.secrets == n else ""
    )
    if found.weights != ours and rec is None:
        n_flag = f"-n {found.secrets} and " if found.secrets != n else ""
        raise InputError(
            f"{path}: hidden with other weights (identity {found.weights}...): reveal with "
            f"{n_flag}the hide's --weights"
        )
    what = rec.name if rec is not None else f"{found.secrets} secret(s)"
    raise InputError(f"{path}: hidden with {what}: reveal{how}")


def sealed_by(found):
    """The registry record of the hiding weights a seal names (None: none that loads here)."""
    return _hiding_ids(found.secrets).get(found.weights)


@functools.cache
def _hiding_ids(secrets: int) -> dict:
    """{weights identity (8 hex digits): record} of the registry's hiding models that load here."""
    from wincli.encoder import inverse_id
    from wincli.errors import WincliError
    from wincli.weights import load_record, load_registry

    ids = {}
    for rec in load_registry():
        if rec.task != "hiding" or rec.secrets != secrets:
            continue
        try:
            net, _, _ = load_record(rec, allow_download=False)
        except WincliError:
            continue
        ids[inverse_id(net)[:8]] = rec
    return ids


def hide_classical_file(
    cover_path,
    secret_paths,
    out,
    *,
    bits: int = 1,
    passphrase: str | None = None,
    codec: str = "auto",
    force_lossy: bool = False,
    check: bool = False,
    method: str = "lsb",
    payload: float | None = None,
) -> Result:
    """``win hide --method lsb|jpeg|stealth``: secrets coded, encrypted and LSB-matched into the
    cover (lsb), written on its JPEG lattice (jpeg) or in adaptive +-1 changes at ``payload``
    bits per value (stealth). ``check`` re-reads the file and reveals from it (jpeg: also after
    a JPEG q90 of it)."""
    from wincli.io import check_output_path, read_image, write_image
    from wincli.metrics import psnr

    out = check_output_path(
        out, [cover_path, *secret_paths], force_lossy=force_lossy, what="stego image"
    )
    cover, meta = read_image(cover_path)
    read = [read_image(p) for p in secret_paths]
    secrets = [x for x, _ in read]
    hide, _ = classical_method(method)
    stego, coded = hide(
        to_uint8(cover),
        [to_uint8(s) for s in secrets],
        passphrase=passphrase,
        codec=codec,
        profiles=[m.icc for _, m in read],  # colour profiles and alpha travel in the payload
        alphas=[m.alpha for _, m in read],
        **method_options(method, bits, payload),
    )
    write_image(out, from_uint8(stego), meta)
    notes = [
        f"secret{i}: {c.codec} {'lossless' if c.quality < 0 else f'quality {c.quality}'}, "
        f"{len(c.stream):,} bytes"
        + (f", coded at a smaller size than {c.size[0]}x{c.size[1]}" if _shrunk(c) else "")
        + f", reveals at {psnr(from_uint8(c.decode()), sec):.2f} dB"
        for i, (c, sec) in enumerate(zip(coded, secrets, strict=True), 1)
    ]
    notes.append(
        "the payload is encrypted with the passphrase (AES-256-GCM)"
        if passphrase
        else "no passphrase: the payload is authenticated but not secret (anyone with win can "
        "reveal it); give --passphrase to encrypt it"
    )
    result = Result([str(out)], notes)
    if check:
        result.check_psnr = _check_classical(out, cover, secrets, passphrase, method)
    return result


CLASSICAL = ("lsb", "jpeg", "stealth")  # the methods that need no network


def classical_method(method: str):
    """(hide, reveal_coded) of a classical method."""
    if method == "jpeg":
        from wincli.lattice import hide_jpeg, reveal_jpeg

        return hide_jpeg, reveal_jpeg
    if method == "stealth":
        from wincli.stealth import hide_stealth, reveal_stealth

        return hide_stealth, reveal_stealth
    from wincli.classical import hide_lsb, reveal_coded

    return hide_lsb, reveal_coded


def method_options(method: str, bits: int = 1, payload: float | None = None) -> dict:
    """The options of a classical method's hide: ``bits`` (lsb), ``payload`` (stealth, None:
    its default)."""
    if method == "lsb":
        return {"bits": bits}
    if method == "stealth" and payload is not None:
        return {"payload": payload}
    return {}


def _check_classical(out, cover, secrets, passphrase, method: str) -> dict[str, float]:
    """--check of a classical stego: its PSNR and each secret's, revealed from the written file
    (jpeg: and from a JPEG at ``CHECK_QUALITY`` of it)."""
    from wincli.io import read_image
    from wincli.jpeg import pillow_jpeg
    from wincli.metrics import psnr

    back, _ = read_image(out)
    _, reveal = classical_method(method)
    scores = {"stego": psnr(back, cover)}
    versions = {"": back}
    if method == "jpeg":
        versions[f" after JPEG q{CHECK_QUALITY}"] = pillow_jpeg(back, CHECK_QUALITY)
    for tag, image in versions.items():
        got = reveal(to_uint8(image), passphrase=passphrase)
        for i, (c, sec) in enumerate(zip(got, secrets, strict=True), 1):
            scores[f"secret{i}{tag}"] = psnr(from_uint8(c.decode()), sec)
    return scores


def _shrunk(coded) -> bool:
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(coded.stream)) as im:
        return im.size != coded.size


def classical_payload(path, pixels, skip: str | None = None) -> str | None:
    """The classical method ("lsb", "jpeg") whose payload the (H, W, 3) uint8 ``pixels`` read
    from ``path`` (None: not from a file) carry, found by its public header (no passphrase
    needed); None when neither (``skip``: do not look for that one)."""
    from wincli.classical import carries as lsb_carries
    from wincli.lattice import carries as jpeg_carries
    from wincli.lattice import read_shared

    if skip != "lsb" and lsb_carries(pixels):
        return "lsb"
    if skip != "jpeg" and jpeg_carries(pixels, read_shared(path) if path else None):
        return "jpeg"
    return None


def hidden_with(path, method: str) -> InputError:
    """The error for a stego revealed other than with the classical ``method`` that hid it."""
    fix = f"reveal it with --method {method}"
    return InputError(f"{path}: was hidden with --method {method}; {fix}")


def reveal_classical_file(
    stego_path, out_dir=None, *, passphrase: str | None = None, method: str = "lsb"
) -> Result:
    """``win reveal --method lsb|jpeg|stealth``: every hidden secret at its own size
    (secret1.png ...)."""
    from wincli.io import ImageMeta, read_image, write_image

    stego, _ = read_image(stego_path)
    pixels = to_uint8(stego)
    opts = {}
    if method == "jpeg":
        from wincli.lattice import read_shared

        opts["shared"] = read_shared(stego_path)
    try:
        found = classical_method(method)[1](pixels, passphrase=passphrase, **opts)
    except InputError:
        other = classical_payload(stego_path, pixels, skip=method)
        if other is None and method != "stealth":
            from wincli.stealth import carries

            other = "stealth" if carries(pixels, passphrase=passphrase) else None
        if other is None:
            raise
        raise hidden_with(stego_path, other) from None
    targets = _reveal_targets(
        stego_path, out_dir, [f"secret{i}.png" for i in range(1, len(found) + 1)]
    )
    for t, c in zip(targets, found, strict=True):
        meta = ImageMeta(mode="RGB", size=c.size, icc=c.icc, alpha=c.decode_alpha())
        write_image(t, from_uint8(c.decode()), meta)
    return Result([str(t) for t in targets], [f"{len(found)} secret(s) found"])


def stored_text(conv: Converter) -> dict[str, str]:
    """What a stored image records of the network that made it."""
    return {WEIGHTS_KEY: conv.weights_id} | ({ROBUST_KEY: "1"} if conv.robust else {})


def check_weights(path, meta, conv: Converter) -> None:
    """A stored image records the weights that made it: restoring it with others is an error."""
    text = meta.text or {}
    made = text.get(WEIGHTS_KEY)
    if made and made != conv.weights_id:
        was_robust = text.get(ROBUST_KEY) == "1"
        if was_robust != conv.robust:
            flag = "with" if was_robust else "without"
            raise InputError(f"{path}: was stored {flag} --robust; restore it {flag} --robust")
        raise InputError(
            f"{path}: was stored by other weights than {conv.source}; restore it with the "
            "weights that made it (the default, or the --weights file used to store it)"
        )


def downscale_file(
    conv: Converter, hr_path, out, *, force_lossy=False, check=False, strip_metadata=False
) -> Result:
    """HR -> LR PNG that records the HR size in a text chunk (for odd sizes)."""
    from wincli.io import check_output_path, read_image, write_image

    lossy = may_write_lossy(conv, out, force_lossy)
    out = check_output_path(out, [hr_path], force_lossy=lossy, what="low-resolution image")
    hr, meta = read_image(hr_path)
    lr = conv.forward(hr)
    h, w = hr.shape[-2:]
    s = conv.config.scale
    if meta.alpha is not None:  # alpha follows the image: downscale it the same way
        from wincli.imaging import bicubic_down

        a = from_uint8(meta.alpha)
        a = bicubic_down(pad_to(a, s), s)[..., : lr.shape[-2], : lr.shape[-1]]
        meta.alpha = to_uint8(a)
    text = {SIZE_KEY: f"{w}x{h}", SCALE_KEY: str(s), **stored_text(conv)}
    write_image(out, lr, meta, text=text, strip_metadata=strip_metadata)
    result = Result([str(out)], [])
    if check:
        back, _ = read_image(out, min_side=4)
        result.check_psnr = check_scores(conv, hr, back)
    return result


def recorded_size(meta, lr_shape, scale: int) -> tuple[int, int] | None:
    text = (meta.text or {}).get(SIZE_KEY)
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.split("x"))
    except ValueError:
        return None
    lh, lw = lr_shape
    if math.ceil(h / scale) == lh and math.ceil(w / scale) == lw:
        return h, w
    return None


def upscale_file(conv: Converter, lr_path, out, *, strip_metadata=False) -> Result:
    """LR -> HR; restores the exact original size recorded by ``downscale``."""
    from wincli.io import check_output_path, read_image, write_image

    out = check_output_path(out, [lr_path], force_lossy=True)
    s = conv.config.scale
    lr, meta = read_image(lr_path, min_side=4)
    recorded_scale = (meta.text or {}).get(SCALE_KEY)
    notes = lossy_input_notes(lr_path, meta, "high-resolution detail", conv)
    if recorded_scale and recorded_scale != str(s):
        raise InputError(
            f"{lr_path}: was downscaled x{recorded_scale}; use --scale {recorded_scale}"
        )
    check_weights(lr_path, meta, conv)
    size = recorded_size(meta, tuple(lr.shape[-2:]), s)
    if size is None and not (meta.lossy and conv.robust):  # a shared copy loses its text
        notes.append(
            f"{lr_path}: not made by `win downscale` (no original size recorded), so this is not "
            f"a restoration: expect about bicubic quality, not super-resolution; restoring "
            f"{lr.shape[-1] * s}x{lr.shape[-2] * s}"
        )
    hr = conv.inverse(lr, size=size)
    if meta.alpha is not None:
        a = from_uint8(meta.alpha)
        a = F.interpolate(a, size=hr.shape[-2:], mode="bicubic", align_corners=False)
        meta.alpha = to_uint8(a)
    write_image(out, hr, meta, strip_metadata=strip_metadata)
    return Result([str(out)], notes)


def decolorize_file(
    conv: Converter, color_path, out, *, force_lossy=False, check=False, strip_metadata=False
) -> Result:
    from wincli.io import check_output_path, read_image, write_image

    lossy = may_write_lossy(conv, out, force_lossy)
    out = check_output_path(out, [color_path], force_lossy=lossy, what="gray image")
    color, meta = read_image(color_path)
    gray = conv.forward(color)
    text = {MODEL_KEY: conv.config.spec.name, **stored_text(conv)}
    write_image(out, gray, meta, text=text, strip_metadata=strip_metadata)
    result = Result([str(out)], [])
    if check:
        from wincli.io import read_gray

        back, _ = read_gray(out)
        result.check_psnr = check_scores(conv, color, back)
    return result


def colorize_file(conv: Converter, gray_path, out, *, strip_metadata=False) -> Result:
    from wincli.io import check_output_path, read_gray, write_image

    out = check_output_path(out, [gray_path], force_lossy=True)
    gray, meta = read_gray(gray_path)
    notes = lossy_input_notes(gray_path, meta, "colours", conv)
    made_by = (meta.text or {}).get(MODEL_KEY)
    if made_by is None:
        if not (meta.lossy and conv.robust):  # a shared copy loses its text
            notes.append(
                f"{gray_path}: not made by `win decolorize` (no model recorded), so its colours "
                "are a guess, not a restoration"
            )
    elif made_by != conv.config.spec.name:
        raise InputError(f"{gray_path}: was made by {made_by}, not {conv.config.spec.name}")
    check_weights(gray_path, meta, conv)
    write_image(out, conv.inverse(gray), meta, strip_metadata=strip_metadata)
    return Result([str(out)], notes)
