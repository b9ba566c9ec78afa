"""The tensor-level engine: one loaded network, tensors in, tensors out, on a device, tiled.

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
from pathlib import Path

import torch
import torch.nn.functional as F

from wincli.device import pick_device
from wincli.errors import InputError
from wincli.imaging import quantize_8bit, round8
from wincli.models import InvertibleNet, preset_config
from wincli.options import InferenceOptions
from wincli.precision import Precision, autocast, pick_precision
from wincli.refine import Refine, default_refine, encode, refine_stored
from wincli.tasks import Task, as_task
from wincli.tiling import auto_tile, count_tiles, tiled_apply

# What --tile auto plans for. A registry checkpoint has its own measured whole-image figure
# (``bytes_per_pixel`` per pixel of the high-dimensional side, the larger of forward and inverse:
# 465-970 for the shipped cpu models, scripts/bench_memory.py --per-model), planned with
# TILE_SAFETY for the halo, the tiles' copies and the allocator, and per pixel of the tile being
# read (x s^2 for a rescaling inverse, whose input is the LR image). Another file falls back to
# its preset's figure per high-side pixel (a network that is not the cpu preset counts as
# paper-size).
TILE_SAFETY = 4.0
BYTES_PER_PIXEL = {"cpu": 2500.0, "paper": 10000.0}
# Refinement keeps the inverse's activations for the backward pass: it plans this many times the
# inference figure per pixel (measured 7.4x for x2, 9.8x for x4, 8.2x for decolorization, whole
# 512 px images: python scripts/bench_refine.py, BENCHMARKS.md).
REFINE_MEMORY = 10.0
DEFAULT_HALO = 16  # units; tiled vs untiled agreement is measured in tests/test_tiling.py


@dataclass
class Converter:
    """A loaded network plus how to run it: device, tiling, precision."""

    net: InvertibleNet
    device: torch.device
    tile: int | str | None = None  # units, "auto" or None (whole image)
    halo: int = DEFAULT_HALO
    # fp32, or the autocast precision of the dense blocks (wincli/precision.py); weights stay
    # float32 either way
    precision: Precision = Precision("fp32", "the default")
    source: str = ""
    note: str = ""  # the registry's status line for the loaded checkpoint (e.g. "early ...")
    bytes_per_pixel: float | None = None  # measured (registry); None: the preset's figure
    on_tile: Callable[[], None] | None = None
    on_plan: Callable[[int], None] | None = None  # told how many tiles a pass will run
    # Run in channels-last memory format: 1.4-1.7x faster on CPU (scripts/bench_speed.py
    # --formats); outputs differ from channels-first only in float rounding (a test).
    channels_last: bool = True
    # Encoder-side refinement of the stored image (wincli/refine.py); off unless asked for or
    # loaded with the task's default (``Converter.load``).
    refine: Refine = Refine()
    # The one-pass encoder (wincli/encoder.py) that chooses the stored image for this network's
    # inverse; None stores the forward output.
    encoder: torch.nn.Module | None = None
    # Loaded from the registry's JPEG-robust record (``--robust``).
    robust: bool = False

    def __post_init__(self) -> None:
        self.net = self.net.to(memory_format=self._format)
        if self.encoder is not None:
            self.encoder = self.encoder.to(self.device, memory_format=self._format).eval()

    @property
    def _format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    @classmethod
    def load(
        cls,
        task: Task | str,
        *,
        secrets: int = 1,
        scale: int = 2,
        options: InferenceOptions | None = None,
        **overrides,
    ) -> Converter:
        """Resolve weights (explicit file, else the registry default) and their one-pass encoder
        for a task (a Task, or its kind with ``secrets`` / ``scale``) onto a device, as
        ``options`` (defaults: ``InferenceOptions``) with ``overrides`` say.

        ``refine``: None, the task's default (``wincli.refine.default_refine``: none); a number,
        that many steps of the task's search; or a :class:`Refine`."""
        o = InferenceOptions.build(options, **overrides)
        if o.threads is not None and o.threads < 1:
            raise InputError(f"--threads must be at least 1, not {o.threads}")
        if o.threads is not None:
            torch.set_num_threads(o.threads)
        dev = pick_device(o.device)
        if o.half and o.precision not in ("auto", "fp16"):
            raise InputError(
                f"--half is --precision fp16; it contradicts --precision {o.precision}"
            )
        net, rec, source = _network(o, as_task(task, secrets=secrets, scale=scale))
        try:
            precision = pick_precision(
                "fp16" if o.half else o.precision, dev, rec.bf16_ok if rec else None
            )
        except ValueError as e:
            raise InputError(str(e)) from None
        encoder = _load_encoder(o, rec, net)
        net = net.to(dev).eval()
        return cls(
            net=net,
            device=dev,
            tile=o.tile,
            precision=precision,
            source=source,
            note=rec.status if rec else "",
            bytes_per_pixel=rec.bytes_per_pixel if rec else None,  # a file: its preset's figure
            refine=default_refine(net.config.spec, o.refine),
            encoder=encoder,
            robust=bool(rec.robust) if rec else net.config.restorer > 0,
        )

    def planned_bytes_per_pixel(self) -> float:
        """What ``--tile auto`` plans per high-side pixel in float32 (see ``TILE_SAFETY``)."""
        if self.bytes_per_pixel:
            return TILE_SAFETY * self.bytes_per_pixel
        cfg = self.config
        cpu = preset_config(cfg.spec, variant=cfg.variant, preset="cpu")
        return BYTES_PER_PIXEL["cpu" if cfg.to_dict() == cpu.to_dict() else "paper"]

    @property
    def config(self):
        return self.net.config

    @property
    def weights_id(self) -> str:
        """A short identity of the network's weights, recorded in the files it stores so that a
        restore with other weights is caught."""
        from wincli.encoder import inverse_id

        if not hasattr(self, "_weights_id"):
            self._weights_id = inverse_id(self.net)[:16]
        return self._weights_id

    @property
    def multiple(self) -> int:
        return self.config.multiple

    def _tile_units(self, unit_in: int, unit_out: int, memory: float = 1.0) -> int | None:
        if self.tile is None or self.tile == 0:
            return None
        if self.tile == "auto":
            grow = max(1.0, (unit_out / unit_in) ** 2)  # output pixels per input pixel
            bpp = self.planned_bytes_per_pixel() * grow * memory
            return auto_tile(self.device, bpp, unit_in)
        return max(int(self.tile) // unit_in, 4)

    def _run(
        self,
        fn,
        x: torch.Tensor,
        unit_in: int,
        unit_out: int,
        memory: float = 1.0,
        steps_per_tile: int = 1,
    ) -> torch.Tensor:
        """``fn`` over ``x`` whole or tile by tile; the progress callbacks hear of
        ``steps_per_tile`` steps per tile (``fn`` reports all but the last through
        ``on_tile``)."""
        tile = self._tile_units(unit_in, unit_out, memory)
        fmt = self._format

        def call(part: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode(), autocast(self.device, self.precision):
                out = fn(part.to(self.device, torch.float32).contiguous(memory_format=fmt))
            return out.float().cpu().contiguous()

        h, w = x.shape[-2:]
        n = 1 if tile is None else count_tiles(h // unit_in, w // unit_in, tile)
        if self.on_plan:
            self.on_plan(n * steps_per_tile)
        if n == 1:
            out = call(x)
            if self.on_tile:
                self.on_tile()
            return out
        return tiled_apply(
            call, x, tile, self.halo, unit_in, unit_out, on_tile=self.on_tile, out_device="cpu"
        )

    def forward(
        self,
        x: torch.Tensor,
        quantize: bool = True,
        refine: Refine | None = None,
        encoder: bool = True,
    ) -> torch.Tensor:
        """(1, c_in, H, W) in [0, 1] -> the stored image, rounded to 8 bits (``quantize=False``:
        the float forward output, as the paper's hiding protocol measures it).

        Hiding / decolorization: (1, 3 or 1, H, W); rescaling: (1, 3, ceil(H/s), ceil(W/s)).
        The 8-bit image is chosen by the one-pass encoder (``self.encoder``, unless ``encoder``
        is False) and refined for the inverse as ``refine`` says (None: ``self.refine``), tile by
        tile like the forward pass; the float output never is.
        """
        m = self.multiple
        h, w = x.shape[-2:]
        xp = pad_to(x, m)
        task = self.config.spec
        s = task.down
        refine = self.refine if refine is None else refine
        enc = self.encoder if quantize and encoder else None
        if quantize and refine.iters > 0:
            y = self._run(
                lambda t: refine_stored(self.net, t, refine, enc, on_step=self.on_tile),
                xp, m, m // s, REFINE_MEMORY, steps_per_tile=refine.iters + 1,
            )  # fmt: skip
        else:
            y = self._run(lambda t: encode(self.net, t, enc), xp, m, m // s)
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


def _network(o: InferenceOptions, task: Task):
    """(network, registry record or None, where it came from) for the options: the
    ``--weights`` file or registry name, else the registry's default (or JPEG-robust)
    checkpoint."""
    from wincli.weights import default_record, load_record, load_registry, load_weights_file

    if o.weights and o.robust:
        raise InputError(
            "--robust picks the registry's JPEG-robust weights; with --weights, give the "
            "robust file itself and leave out --robust"
        )
    if not o.weights:
        rec = default_record(task, variant=o.variant, robust=o.robust)
        net, _, where = load_record(rec, o.allow_download)
        return net, rec, f"{rec.name} from {where}"
    named = None if Path(o.weights).exists() else (
        next((r for r in load_registry() if r.name == o.weights), None)
    )  # fmt: skip
    if named is not None:
        if named.spec != task:
            raise InputError(f"--weights {o.weights} is a {named.spec.name} model, not {task.name}")
        net, _, where = load_record(named, o.allow_download)
        return net, named, f"{named.name} from {where}"
    expect = preset_config(task, variant=o.variant, preset="cpu")
    net = load_weights_file(o.weights, expect)
    if net.config.variant != o.variant:
        import warnings

        warnings.warn(
            f"--model {o.variant} ignored: {o.weights} is a {net.config.variant} checkpoint",
            stacklevel=3,
        )
    return net, None, f"--weights {o.weights}"


def _load_encoder(o: InferenceOptions, rec, net):
    """The one-pass encoder ``o.encoder`` names for ``net`` (None: the forward output)."""
    from wincli.encoder import load_encoder

    if o.encoder == "none":
        return None
    if o.encoder == "auto":
        if rec is None:
            return None
        from wincli.weights import load_record_encoder

        return load_record_encoder(rec, net, o.allow_download)
    path = Path(o.encoder)
    if not path.is_file():
        raise InputError(f"--encoder {o.encoder}: no such file (or use auto / none)")
    return load_encoder(path, net)


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
