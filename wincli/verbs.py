"""The file verbs the CLI calls: read the inputs, run a :class:`~wincli.converter.Converter`,
write the outputs atomically, and say what the receiver will get.

>>> conv = Converter.load("hiding", secrets=1)                          # doctest: +SKIP
>>> hide_file(conv, "cover.png", ["secret.png"], "stego.png", check=True).check_psnr
{'stego': 40.1, 'secret1': 37.2}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn.functional as F

from wincli.converter import Converter, fit_secret, pad_to
from wincli.errors import InputError
from wincli.io import from_uint8, to_uint8


@dataclass
class Result:
    """What a verb wrote and, with ``check``, the PSNR the receiver will get."""

    outputs: list[str]
    notes: list[str]
    check_psnr: dict[str, float] | None = None


def hide_file(
    conv: Converter, cover_path, secret_paths, out, *, force_lossy=False, check=False, fit=None
) -> Result:
    """cover + 1-4 secrets -> stego PNG (no metadata, cover's alpha carried through)."""
    from wincli.io import check_output_path, read_image, write_image
    from wincli.metrics import psnr

    n = conv.config.secrets
    if len(secret_paths) != n:
        raise InputError(f"this model hides {n} secret(s), got {len(secret_paths)}")
    out = check_output_path(
        out, [cover_path, *secret_paths], force_lossy=force_lossy, what="stego image"
    )
    cover, meta = read_image(cover_path)
    notes = []
    secrets = []
    for p in secret_paths:
        sec, _ = read_image(p)
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
    stego = conv.forward(task.pack([cover, *secrets]))
    write_image(out, stego, meta)
    result = Result([str(out)], notes)
    if check:
        back, _ = read_image(out)
        rec = conv.inverse(back)
        result.check_psnr = {"stego": psnr(back, cover)}
        for i, (got, sec) in enumerate(zip(task.restored(rec), secrets, strict=True), 1):
            result.check_psnr[f"secret{i}"] = psnr(got, sec)
    return result


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


def lossy_input_notes(path, meta, what: str) -> list[str]:
    """A note when the image to invert was stored lossily (its hidden low bits are damaged)."""
    if meta.lossy:
        return [
            f"{path}: is {meta.format} (lossy); the {what} it carried are damaged, expect a "
            "poor result (keep WIN images as PNG)"
        ]
    return []


def reveal_file(
    conv: Converter, stego_path, out_dir=None, *, with_cover=False, force_lossy=False
) -> Result:
    """stego -> secret1..N PNGs (and the recovered cover with ``with_cover``)."""
    from wincli.io import read_image, write_image

    stego, meta = read_image(stego_path)
    n = conv.config.secrets
    names = [f"secret{i}.png" for i in range(1, n + 1)] + (["cover.png"] if with_cover else [])
    targets = _reveal_targets(stego_path, out_dir, names, force_lossy)
    cover, *secrets = conv.config.spec.unpack(conv.inverse(stego))
    for t, secret in zip(targets, secrets, strict=False):
        write_image(t, secret, meta, keep_alpha=False)
    if with_cover:
        write_image(targets[-1], cover, meta)
    return Result([str(t) for t in targets], lossy_input_notes(stego_path, meta, "secrets"))


def hide_lsb_file(
    cover_path,
    secret_paths,
    out,
    *,
    bits: int = 1,
    passphrase: str | None = None,
    codec: str = "auto",
    force_lossy: bool = False,
    check: bool = False,
) -> Result:
    """``win hide --method lsb``: secrets coded, encrypted and LSB-matched into the cover."""
    from wincli.classical import hide_lsb, reveal_coded
    from wincli.io import check_output_path, read_image, write_image
    from wincli.metrics import psnr

    out = check_output_path(
        out, [cover_path, *secret_paths], force_lossy=force_lossy, what="stego image"
    )
    cover, meta = read_image(cover_path)
    secrets = [read_image(p)[0] for p in secret_paths]
    stego, coded = hide_lsb(
        to_uint8(cover),
        [to_uint8(s) for s in secrets],
        bits=bits,
        passphrase=passphrase,
        codec=codec,
    )
    write_image(out, from_uint8(stego), meta)
    notes = [
        f"secret{i}: {c.codec} {'lossless' if c.quality < 0 else f'quality {c.quality}'}, "
        f"{len(c.stream):,} bytes"
        + (f", coded at a smaller size than {c.size[0]}x{c.size[1]}" if _shrunk(c) else "")
        for i, c in enumerate(coded, 1)
    ]
    result = Result([str(out)], notes)
    if check:
        back, _ = read_image(out)
        got = reveal_coded(to_uint8(back), passphrase=passphrase)
        result.check_psnr = {"stego": psnr(back, cover)}
        for i, (c, sec) in enumerate(zip(got, secrets, strict=True), 1):
            dec = from_uint8(c.decode())
            result.check_psnr[f"secret{i}"] = psnr(dec, sec)
    return result


def _shrunk(coded) -> bool:
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(coded.stream)) as im:
        return im.size != coded.size


def reveal_lsb_file(stego_path, out_dir=None, *, passphrase: str | None = None) -> Result:
    """``win reveal --method lsb``: every hidden secret at its own size (secret1.png ...)."""
    from wincli.classical import reveal_lsb
    from wincli.io import read_image, write_image

    stego, _ = read_image(stego_path)
    found = reveal_lsb(to_uint8(stego), passphrase=passphrase)
    targets = _reveal_targets(
        stego_path, out_dir, [f"secret{i}.png" for i in range(1, len(found) + 1)]
    )
    for t, img in zip(targets, found, strict=True):
        write_image(t, from_uint8(img))
    return Result([str(t) for t in targets], [f"{len(found)} secret(s) found"])


SIZE_KEY = "win:original-size"


def downscale_file(conv: Converter, hr_path, out, *, force_lossy=False, check=False) -> Result:
    """HR -> LR PNG that records the HR size in a text chunk (for odd sizes)."""
    from wincli.io import check_output_path, read_image, write_image
    from wincli.metrics import psnr

    out = check_output_path(out, [hr_path], force_lossy=force_lossy, what="low-resolution image")
    hr, meta = read_image(hr_path)
    lr = conv.forward(hr)
    h, w = hr.shape[-2:]
    s = conv.config.scale
    alpha_meta = None
    if meta.alpha is not None:  # alpha follows the image: downscale it the same way
        from wincli.tasks import bicubic_down

        a = from_uint8(meta.alpha)
        a = bicubic_down(pad_to(a, s), s)[..., : lr.shape[-2], : lr.shape[-1]]
        meta.alpha = to_uint8(a)
        alpha_meta = meta
    write_image(out, lr, alpha_meta, text={SIZE_KEY: f"{w}x{h}", "win:scale": str(s)})
    result = Result([str(out)], [])
    if check:
        back, _ = read_image(out, min_side=4)
        rec = conv.inverse(back, size=(h, w))
        result.check_psnr = {"hr": psnr(rec, hr)}
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


def upscale_file(conv: Converter, lr_path, out) -> Result:
    """LR -> HR; restores the exact original size recorded by ``downscale``."""
    from wincli.io import check_output_path, read_image, write_image

    out = check_output_path(out, [lr_path], force_lossy=True)
    s = conv.config.scale
    lr, meta = read_image(lr_path, min_side=4)
    recorded_scale = (meta.text or {}).get("win:scale")
    notes = lossy_input_notes(lr_path, meta, "high-resolution detail")
    if recorded_scale and recorded_scale != str(s):
        raise InputError(
            f"{lr_path}: was downscaled x{recorded_scale}; use --scale {recorded_scale}"
        )
    size = recorded_size(meta, tuple(lr.shape[-2:]), s)
    if size is None:
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
    write_image(out, hr, meta)
    return Result([str(out)], notes)


def decolorize_file(conv: Converter, color_path, out, *, force_lossy=False, check=False) -> Result:
    from wincli.io import check_output_path, read_image, write_image

    out = check_output_path(out, [color_path], force_lossy=force_lossy, what="gray image")
    color, meta = read_image(color_path)
    gray = conv.forward(color)
    write_image(out, gray, meta)
    result = Result([str(out)], [])
    if check:
        from wincli.io import read_gray
        from wincli.metrics import psnr

        back, _ = read_gray(out)
        result.check_psnr = {"color": psnr(conv.inverse(back), color)}
    return result


def colorize_file(conv: Converter, gray_path, out) -> Result:
    from wincli.io import check_output_path, read_gray, write_image

    out = check_output_path(out, [gray_path], force_lossy=True)
    gray, meta = read_gray(gray_path)
    write_image(out, conv.inverse(gray), meta)
    return Result([str(out)], lossy_input_notes(gray_path, meta, "colours"))
