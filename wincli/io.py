"""Image files at the edge: file -> (tensor, ImageMeta) -> file.

>>> rgb, meta = read_image("photo.jpg")          # doctest: +SKIP   (1, 3, H, W) float32 in [0, 1]
>>> write_image("out.png", rgb, meta)             # atomic; alpha re-attached when sizes match

Decisions (documented in docs/usage.md):
- EXIF orientation is applied, so pixels are in display order.
- Palette images become RGB (or RGBA when they carry transparency); CMYK is converted to RGB.
- Grey (L, LA, 1) is replicated to RGB for colour tasks; ``read_gray`` keeps one channel.
- Alpha (RGBA, LA, palette transparency) is carried through unchanged beside the model's RGB.
- 16-bit and 32-bit integer / float inputs are reduced to 8 bits with a warning: every model
  works on 8-bit images, and the reduction is the same rounding the training used.
- The ICC colour profile and EXIF (orientation reset) of an input are carried to the outputs
  made from it (``ImageMeta.icc`` / ``exif``); ``strip_metadata`` drops them.
Outputs are 8-bit PNG with those and the PNG text chunks the caller passes, nothing else.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from wincli.errors import InputError, OutputError
from wincli.fs import atomic_write

# Output formats by what they can do with a full-size 8-bit RGB / gray image (Pillow's names).
# Lossless: written bit-exact and read back at full size (WebP is written lossless).
LOSSLESS_FORMATS = {"PNG", "TIFF", "BMP", "PPM", "WEBP"}
# Lossy but full size and readable: only with --force-lossy (GIF: a 256-colour palette).
LOSSY_FORMATS = {"JPEG", "JPEG2000", "GIF", "AVIF", "HEIF"}
# Everything else Pillow knows (ICO shrinks to 256 px, PDF and EPS cannot be read back, ...)
# and every unknown extension is refused.
MIN_SIDE = 16


@dataclass
class ImageMeta:
    """What the tensor does not carry: source mode, alpha plane, PNG text chunks."""

    mode: str
    size: tuple[int, int]  # (width, height)
    alpha: np.ndarray | None = None  # (H, W) uint8
    text: dict[str, str] | None = None
    format: str | None = None  # Pillow's name of the file format (PNG, JPEG, ...)
    icc: bytes | None = None  # the embedded ICC colour profile, carried to every output
    exif: bytes | None = None  # EXIF without its orientation (already applied to the pixels)

    @property
    def lossy(self) -> bool:
        return self.format in LOSSY_FORMATS


def _open(path: str | Path, min_side: int = MIN_SIDE) -> Image.Image:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not an image")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: empty file (0 bytes)")
    try:
        im = Image.open(p)
        im.load()
    except UnidentifiedImageError:
        raise InputError(f"{p}: not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"{p}: cannot decode image ({exc})") from None
    text = dict(getattr(im, "text", {}) or {})
    if getattr(im, "n_frames", 1) > 1:
        warnings.warn(f"{p}: has {im.n_frames} frames; only the first is used", stacklevel=3)
    if im.format == "PNG" and _png_bit_depth(p) == 16 and im.mode in ("RGB", "RGBA"):
        warnings.warn(f"{p}: 16-bit PNG reduced to 8 bits", stacklevel=3)
    im.info["win_format"] = im.format
    icc = im.info.get("icc_profile") or _carried_icc(text)
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block must not stop us; orientation is then as stored
        pass
    im.info["win_text"] = text
    im.info["win_icc"] = icc or None
    im.info["win_exif"] = _exif_bytes(im)
    w, h = im.size
    if min(w, h) < min_side:
        raise InputError(f"{p}: image is {w}x{h}; win needs at least {min_side}x{min_side} pixels")
    return im


# A gray PNG cannot embed an RGB profile (iCCP must match the colour type), so the colour
# profile of a gray made from a colour photo travels in this compressed text chunk, and the
# colour image restored from it gets it back as a real profile.
ICC_KEY = "win:icc"
# What a stored image records of how it was made, read back by the verb that restores it (every
# PNG text key of the project lives here):
SIZE_KEY = "win:original-size"  # "WxH" of the image a rescaling LR was made from
SCALE_KEY = "win:scale"  # that LR's scale
MODEL_KEY = "win:model"  # the task whose inverse restores a stored gray image
WEIGHTS_KEY = "win:weights"  # Converter.weights_id of the network that stored the image
ROBUST_KEY = "win:robust"  # "1" when that network was the JPEG-robust one (--robust)


def _carried_icc(text: dict[str, str]) -> bytes | None:
    import base64
    import binascii

    value = text.get(ICC_KEY)
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def icc_space(icc: bytes | None) -> str:
    """The colour space an ICC profile describes ("RGB", "GRAY", ...; "" when unknown)."""
    return icc[16:20].decode("ascii", "replace").strip() if icc and len(icc) >= 20 else ""


def _exif_bytes(im: Image.Image) -> bytes | None:
    """EXIF of an opened image with the orientation tag removed (the pixels are upright)."""
    try:
        exif = im.getexif()
        exif.pop(0x0112, None)
        return exif.tobytes() if len(exif) else None
    except Exception:  # an unreadable EXIF block is dropped, not fatal
        return None


def _png_bit_depth(path: Path) -> int:
    with open(path, "rb") as f:
        head = f.read(25)
    return head[24] if len(head) == 25 and head[12:16] == b"IHDR" else 8


def _to_8bit(im: Image.Image, path: str | Path) -> Image.Image:
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(im).astype(np.float64)
        peak = 65535.0 if arr.max(initial=0) > 255 or im.mode.startswith("I;16") else 255.0
        warnings.warn(f"{path}: {im.mode} image reduced to 8 bits", stacklevel=3)
        return Image.fromarray(np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8))
    return im


def _load(path: str | Path, min_side: int) -> tuple[Image.Image, ImageMeta]:
    """Open, reduce to 8 bits, resolve palettes, and split off alpha into the meta."""
    return _normalize(_open(path, min_side), path)


def _normalize(im: Image.Image, name: str | Path) -> tuple[Image.Image, ImageMeta]:
    """The one decoding rule after opening (files, the Python API's PIL images, training):
    reduce to 8 bits, resolve palettes, split off alpha into the meta."""
    mode = im.mode
    text = im.info.get("win_text", {})
    fmt = im.info.get("win_format")
    im = _to_8bit(im, name)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    alpha = None
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = np.asarray(im.getchannel("A")).copy()
    return im, ImageMeta(
        mode=mode, size=im.size, alpha=alpha, text=text, format=fmt,
        icc=im.info.get("win_icc"), exif=im.info.get("win_exif"),
    )  # fmt: skip


def rgb8(im: Image.Image, name: str | Path = "image") -> np.ndarray:
    """An opened PIL image -> (H, W, 3) uint8 RGB by the decoding rule (``_normalize``)."""
    im, _ = _normalize(im, name)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def read_rgb8(path: str | Path, min_side: int = 1) -> np.ndarray:
    """A file -> (H, W, 3) uint8 RGB, decoded like ``read_image`` (EXIF orientation, 16-bit
    reduction, palettes); for training, which keeps images as uint8."""
    return rgb8(_open(path, min_side), path)


def read_image(path: str | Path, min_side: int = MIN_SIDE) -> tuple[torch.Tensor, ImageMeta]:
    """Read any Pillow image as (1, 3, H, W) float32 RGB in [0, 1] plus its meta."""
    im, meta = _load(path, min_side)
    return from_uint8(np.asarray(im.convert("RGB"), dtype=np.uint8)), meta


def read_gray(path: str | Path) -> tuple[torch.Tensor, ImageMeta]:
    """Read an image as one channel (1, 1, H, W) float32 in [0, 1] (RGB input: its first
    channel if all three are equal, otherwise an error: a colour image is not a WIN gray)."""
    im, meta = _load(path, MIN_SIDE)
    if im.mode in ("L", "LA", "1"):
        arr = np.asarray(im.convert("L"), dtype=np.uint8)
    else:
        rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        if not (
            np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
        ):
            raise InputError(
                f"{path}: is a colour image; colorize takes a gray image made by `win decolorize`"
            )
        arr = rgb[..., 0]
    return from_uint8(arr), meta


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) float in [0, 1] -> (H, W, C) uint8 (C = 1 gives (H, W)), rounded."""
    # the levels of ``wincli.imaging.round8``, computed in place on one copy (a 12 MP image
    # would otherwise hold five float copies at once)
    levels = x.detach()[0].clamp(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    arr = levels.permute(1, 2, 0).cpu().numpy()
    return arr[..., 0] if arr.shape[-1] == 1 else arr


def from_uint8(arr: np.ndarray) -> torch.Tensor:
    """(H, W, C) or (H, W) uint8 -> (1, C, H, W) float32 in [0, 1]; the inverse of ``to_uint8``
    and the one way an 8-bit array becomes a tensor (files, the Python API, baselines)."""
    arr = np.asarray(arr)
    if arr.dtype != np.uint8:
        raise InputError(f"expected a uint8 image array, got {arr.dtype}")
    t = torch.from_numpy(np.array(arr, copy=True)).float().div_(255.0)  # a writable copy
    return (t[None] if t.ndim == 2 else t.permute(2, 0, 1))[None].contiguous()


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def list_images(inputs: list[str | Path], recursive: bool = False) -> list[Path]:
    """The one folder-listing rule: a file is taken as given; a folder gives its files with an
    image suffix (any case), hidden names (``.*``) skipped, sorted by path; ``recursive`` also
    walks sub-folders (training). A missing input or a folder without images is an error."""
    out: list[Path] = []
    for p in map(Path, inputs):
        if p.is_dir():
            walk = p.rglob("*") if recursive else p.iterdir()
            found = sorted(
                q
                for q in walk
                if q.suffix.lower() in IMAGE_SUFFIXES
                and q.is_file()
                and not any(part.startswith(".") for part in q.relative_to(p).parts)
            )
            if not found:
                raise InputError(f"{p}: folder holds no images")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return out


def require_inputs(paths: list[str | Path]) -> None:
    """Fail early (before loading a model) on inputs that are missing or empty."""
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p}: no such file")
        if p.is_file() and p.stat().st_size == 0:
            raise InputError(f"{p}: empty file (0 bytes)")


def check_output_path(
    out: str | Path, inputs: list[str | Path], *, force_lossy: bool = False, what: str = "output"
) -> Path:
    """Refuse to overwrite an input, to store a WIN image in a lossy format (without
    ``force_lossy``) or in a format that changes its size or cannot be read back."""
    if str(out) in ("", "-"):
        raise OutputError(f"-o {str(out)!r}: give a file name (writing to stdout is not supported)")
    out = Path(out)
    if len(out.name.encode()) > 255:
        raise OutputError(f"{out.name[:40]}...: file name longer than 255 bytes")
    fmt = Image.registered_extensions().get(out.suffix.lower())
    if fmt not in LOSSLESS_FORMATS | LOSSY_FORMATS:
        kind = f"{out.suffix} ({fmt})" if fmt else f"{out.suffix or 'no extension'}"
        raise OutputError(
            f"{out}: {kind} cannot hold a full-size 8-bit image that win reads back; use .png "
            "(or .tif, .bmp, .webp)"
        )
    for i in inputs:
        try:
            same = out.resolve() == Path(i).resolve()
        except OSError:
            same = False
        if same:
            raise OutputError(f"{out}: output would overwrite an input; choose another -o")
    if fmt in LOSSY_FORMATS and not force_lossy:
        raise OutputError(
            f"{out}: {out.suffix} is lossy and would destroy the hidden information in the "
            f"{what}; write PNG, or pass --force-lossy"
        )
    if out.exists() and out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name")
    if not out.parent.exists():
        raise OutputError(f"{out.parent}: output folder does not exist")
    return out


def _format_options(fmt: str, mode: str, text: dict, icc: bytes | None, exif: bytes | None):
    """Pillow's save options for ``fmt``: lossless where it can be, the text chunks (PNG), the
    colour profile and EXIF where the format holds them (a colour profile of a gray PNG goes into
    the ``ICC_KEY`` text chunk)."""
    kwargs: dict = {}
    if icc and mode in ("L", "LA") and icc_space(icc) != "GRAY":
        if fmt == "PNG":
            import base64

            text[ICC_KEY] = base64.b64encode(icc).decode("ascii")
        icc = None
    if icc and fmt in ("PNG", "WEBP", "JPEG", "TIFF"):
        kwargs["icc_profile"] = icc
    if exif and fmt in ("PNG", "WEBP", "JPEG", "TIFF"):
        kwargs["exif"] = exif
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(k, v, zip=k == ICC_KEY)
        kwargs |= {"pnginfo": info, "compress_level": 6}
    elif fmt == "WEBP":
        kwargs |= {"lossless": True, "exact": True}
    elif fmt == "JPEG":
        kwargs["quality"] = 95
    return kwargs


def write_image(
    path: str | Path,
    x: torch.Tensor,
    meta: ImageMeta | None = None,
    text: dict[str, str] | None = None,
    keep_alpha: bool = True,
    strip_metadata: bool = False,
) -> None:
    """Write (1, C, H, W) float in [0, 1] as an 8-bit image, atomically.

    The format follows the suffix (PNG unless told otherwise); alpha from ``meta`` is attached
    when its size matches; ``text`` becomes PNG tEXt chunks; ``meta``'s ICC profile and EXIF
    are written where the format holds them (a colour profile on a gray PNG: as a text chunk
    that ``read_image`` turns back into the profile). Nothing else is written.
    """
    arr = to_uint8(x)
    if (
        keep_alpha
        and meta is not None
        and meta.alpha is not None
        and meta.alpha.shape == arr.shape[:2]
    ):
        if arr.ndim == 2:
            arr = np.stack([arr, meta.alpha], -1)
        else:
            arr = np.concatenate([arr, meta.alpha[..., None]], -1)
    im = Image.fromarray(arr)
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    icc, exif = (meta.icc, meta.exif) if meta is not None and not strip_metadata else (None, None)
    kwargs = _format_options(fmt, im.mode, dict(text or {}), icc, exif)
    if fmt == "JPEG":
        if im.mode in ("RGBA", "LA"):
            im = im.convert("RGB" if im.mode == "RGBA" else "L")

    def _save(tmp: str) -> None:
        with open(tmp, "wb") as f:
            im.save(f, format=fmt, **kwargs)
            f.flush()
            os.fsync(f.fileno())

    try:
        atomic_write(path, _save)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def is_srgb(icc: bytes | None) -> bool:
    """Whether pixels tagged with ``icc`` are sRGB (no profile counts as sRGB)."""
    if not icc:
        return True
    from io import BytesIO

    from PIL import ImageCms

    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, TypeError):
        return False
    return "srgb" in desc.lower().replace(" ", "").replace("-", "")


def to_srgb(x: torch.Tensor, icc: bytes | None) -> torch.Tensor:
    """(1, 3, H, W) pixels tagged with ``icc`` converted to sRGB (perceptual intent, 8-bit)."""
    if is_srgb(icc):
        return x
    from io import BytesIO

    from PIL import ImageCms

    try:
        src = ImageCms.ImageCmsProfile(BytesIO(icc))
        im = ImageCms.profileToProfile(
            Image.fromarray(to_uint8(x)), src, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError) as exc:
        raise InputError(f"cannot convert an image's colour profile to sRGB ({exc})") from None
    return from_uint8(np.asarray(im, dtype=np.uint8))
