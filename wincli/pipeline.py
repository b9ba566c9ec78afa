"""One function per CLI verb: tensors in, tensors out, on the chosen device, tiled.

>>> conv = Converter.load("rescaling", scale=2)                 # doctest: +SKIP
>>> lr = conv.forward(hr)            # (1, 3, H, W) -> (1, 3, ceil(H/2), ceil(W/2)), 8-bit values
>>> hr2 = conv.inverse(lr, size=(H, W))

A :class:`Converter` holds one loaded network and knows its task: how inputs are packed, the
size multiple (inputs are reflect-padded to it and cropped back), the unit sizes for tiling, and
that every stored image is rounded to 8 bits (``quantize_8bit``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from wincli.device import pick_device
from wincli.errors import InputError
from wincli.io import from_uint8, to_uint8
from wincli.models import InvertibleNet, preset_config
from wincli.tasks import quantize_8bit, round8
from wincli.tiling import auto_tile, count_tiles, tiled_apply

# Activation bytes per input pixel at inference, measured with scripts/bench_memory.py on the
# cpu preset (x2 rescaling and hiding-1); paper-size models need about 4x.
BYTES_PER_PIXEL = {"cpu": 2500.0, "paper": 10000.0}
DEFAULT_HALO = 16  # units; tiled vs untiled agreement is measured in tests/test_tiling.py


@dataclass
class Converter:
    """A loaded network plus how to run it: device, tiling, precision."""

    net: InvertibleNet
    device: torch.device
    tile: int | str | None = None  # units, "auto" or None (whole image)
    halo: int = DEFAULT_HALO
    half: bool = False
    source: str = ""
    note: str = ""  # the registry's status line for the loaded checkpoint (e.g. "early ...")
    on_tile: Callable[[], None] | None = None

    @classmethod
    def load(
        cls,
        task: str,
        *,
        secrets: int = 1,
        scale: int = 2,
        variant: str = "win",
        weights: str | None = None,
        device: str = "auto",
        tile: int | str | None = None,
        half: bool = False,
        allow_download: bool = True,
    ) -> Converter:
        """Resolve weights (explicit file, else the registry default) onto a device."""
        from wincli.weights import default_record, load_record, load_weights_file

        dev = pick_device(device)
        if half and dev.type != "cuda":
            raise InputError("--half needs a CUDA device")
        expect = preset_config(task, secrets=secrets, scale=scale, variant=variant, preset="cpu")
        note = ""
        if weights:
            net = load_weights_file(weights, expect)
            source = f"--weights {weights}"
            if net.config.variant != variant:
                import warnings

                warnings.warn(
                    f"--model {variant} ignored: {weights} is a {net.config.variant} checkpoint",
                    stacklevel=2,
                )
        else:
            rec = default_record(task, secrets=secrets, scale=scale, variant=variant)
            net, path, where = load_record(rec, allow_download)
            source = f"{rec.name} from {where}"
            note = rec.status
        net = net.to(dev).eval()
        if half:
            net = net.half()
        return cls(net=net, device=dev, tile=tile, half=half, source=source, note=note)

    @property
    def config(self):
        return self.net.config

    @property
    def multiple(self) -> int:
        return self.config.multiple

    def _tile_units(self, unit_in: int) -> int | None:
        if self.tile is None or self.tile == 0:
            return None
        if self.tile == "auto":
            preset = "cpu" if sum(p.numel() for p in self.net.parameters()) < 1_000_000 else "paper"
            return auto_tile(
                self.device, BYTES_PER_PIXEL[preset] * (2 if self.half else 4) / 4, unit_in
            )
        return max(int(self.tile) // unit_in, 4)

    def _run(self, fn, x: torch.Tensor, unit_in: int, unit_out: int) -> torch.Tensor:
        dtype = torch.float16 if self.half else torch.float32
        tile = self._tile_units(unit_in)

        def call(part: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return fn(part.to(self.device, dtype)).float().cpu()

        h, w = x.shape[-2:]
        if tile is None or count_tiles(h // unit_in, w // unit_in, tile) == 1:
            out = call(x)
            if self.on_tile:
                self.on_tile()
            return out
        return tiled_apply(
            call, x, tile, self.halo, unit_in, unit_out, on_tile=self.on_tile, out_device="cpu"
        )

    def forward(self, x: torch.Tensor, quantize: bool = True) -> torch.Tensor:
        """(1, c_in, H, W) in [0, 1] -> the stored image, rounded to 8 bits (``quantize=False``:
        the float output, as the paper's hiding protocol measures it).

        Hiding / decolorization: (1, 3 or 1, H, W); rescaling: (1, 3, ceil(H/s), ceil(W/s)).
        """
        m = self.multiple
        h, w = x.shape[-2:]
        xp = pad_to(x, m)
        task = self.config.spec
        s = task.down
        y = self._run(lambda t: task.to_image(self.net(t)), xp, m, m // s)
        if quantize:
            y = quantize_8bit(y)
        return y[..., : math.ceil(h / s), : math.ceil(w / s)]

    def inverse(
        self, y: torch.Tensor, size: tuple[int, int] | None = None, clamp: bool = True
    ) -> torch.Tensor:
        """Stored image (1, c_out, h, w) -> (1, c_in, H, W) clamped to [0, 1].

        ``size`` = (H, W) of the original for rescaling (default h*s x w*s); other tasks return
        the size of ``y``.
        """
        task = self.config.spec
        s = task.down
        h, w = y.shape[-2:]
        unit = self.multiple // s
        yp = pad_to(y, unit)
        x = self._run(lambda t: self.net.inverse(task.from_image(t)), yp, unit, unit * s)
        out_h, out_w = size if size is not None else (h * s, w * s)
        if out_h > x.shape[-2] or out_w > x.shape[-1]:
            raise InputError(f"cannot restore {out_w}x{out_h} from a {w}x{h} image at x{s}")
        x = x[..., :out_h, :out_w]
        return x.clamp(0.0, 1.0) if clamp else x


def pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad (B, C, H, W) on the bottom / right up to a multiple of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


FITS = ("stretch", "crop", "pad")
ASPECT_TOLERANCE = 0.03  # secrets whose aspect ratio differs more need an explicit --fit


def fit_secret(
    secret: torch.Tensor, size: tuple[int, int], fit: str | None = "stretch"
) -> torch.Tensor:
    """Bring a (1, 3, h, w) secret to the cover's (H, W) (bicubic, anti-aliased, 8-bit).

    ``fit``: "stretch" (resize, the aspect ratio changes), "crop" (center-crop to the cover's
    aspect ratio, then resize), "pad" (resize to fit inside, then pad with black), or None:
    stretch when the aspect ratios agree within 3%, else an InputError asking for ``--fit``.
    """
    h, w = secret.shape[-2:]
    if (h, w) == tuple(size):
        return secret
    H, W = size
    off = abs((w / h) / (W / H) - 1)
    if fit is None:
        if off > ASPECT_TOLERANCE:
            raise InputError(
                f"a {w}x{h} secret has another aspect ratio than the {W}x{H} cover "
                f"({100 * off:.0f}% off); choose --fit stretch, crop or pad (reveal returns the "
                "cover's size)"
            )
        fit = "stretch"
    if fit not in FITS:
        raise InputError(f"--fit must be stretch, crop or pad, not {fit!r}")

    def resize(x, hw):
        return F.interpolate(x, size=hw, mode="bicubic", align_corners=False, antialias=True)

    if fit == "crop":
        ch, cw = (h, round(h * W / H)) if w / h > W / H else (round(w * H / W), w)
        i, j = (h - ch) // 2, (w - cw) // 2
        out = resize(secret[..., i : i + ch, j : j + cw], (H, W))
    elif fit == "pad":
        scale = min(H / h, W / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        out = secret.new_zeros(1, secret.shape[1], H, W)
        i, j = (H - nh) // 2, (W - nw) // 2
        out[..., i : i + nh, j : j + nw] = resize(secret, (nh, nw))
    else:
        out = resize(secret, (H, W))
    return round8(out)


# ---------------------------------------------------------------- file verbs (used by the CLI)


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
    stego = conv.forward(torch.cat([cover, *secrets], 1))
    write_image(out, stego, meta)
    result = Result([str(out)], notes)
    if check:
        back, _ = read_image(out)
        rec = conv.inverse(back)
        result.check_psnr = {"stego": psnr(back, cover)}
        for i, sec in enumerate(secrets, 1):
            result.check_psnr[f"secret{i}"] = psnr(rec[:, 3 * i : 3 * i + 3], sec)
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
    x = conv.inverse(stego)
    for i, t in enumerate(targets[:n], 1):
        write_image(t, x[:, 3 * i : 3 * i + 3], meta, keep_alpha=False)
    if with_cover:
        write_image(targets[-1], x[:, :3], meta)
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
