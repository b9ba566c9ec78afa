"""The inference options every conversion shares, with one default each.

>>> opts = InferenceOptions(tile=256, refine=10)
>>> conv = Converter.load("rescaling", scale=2, options=opts)        # doctest: +SKIP

The CLI builds one from its flags and the Python API (``wincli.downscale(img, tile=256)``) from
its keyword arguments; both then load through ``Converter.load``, so a command and the API call
with the same options write the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class InferenceOptions:
    variant: str = "win"  # win or win-naive
    weights: str | None = None  # a local .safetensors file instead of the registry's default
    device: str = "auto"  # auto, cpu, cuda or mps
    tile: int | str | None = "auto"  # pixels, "auto" (sized from free memory) or None (whole)
    # Compute precision: auto (bf16 where the hardware runs it fast and the model's measured
    # bf16 loss is within 0.05 dB, else fp32), fp32, bf16, or fp16 (CUDA). wincli/precision.py.
    precision: str = "auto"
    half: bool = False  # the old name of precision="fp16"
    # Gradient steps that refine the stored image after the one-pass encoder (None: the task's
    # default, which is 0: the encoder alone); a wincli.refine.Refine sets every knob.
    refine: object = None
    # The one-pass encoder: "auto" (the one registered for the default weights; none for a
    # --weights file), "none" (store the forward output) or a .safetensors file.
    encoder: str = "auto"
    # CPU threads (None: torch's default, $OMP_NUM_THREADS or every core). Each process uses them
    # all: one process over a folder is the fast way to convert many files; processes side by
    # side should each get --threads cores / jobs.
    threads: int | None = None
    allow_download: bool = True
    # The registry's JPEG-robust checkpoint for the task (for files that will be shared, or that
    # were): stores with it, restores with it. Its files have no one-pass encoder.
    robust: bool = False

    @classmethod
    def build(cls, base: InferenceOptions | None = None, **overrides) -> InferenceOptions:
        """``base`` (or the defaults) with ``overrides``; an unknown name is a TypeError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown inference option(s): {', '.join(unknown)}")
        return replace(base or cls(), **overrides)


# --method stealth: bits per cover channel value (wincli/stealth.py; at the default the color
# rich-model detector of docs/evaluation.md, "Detectability", errs about 40% of the time)
STEALTH_PAYLOAD = 0.03
STEALTH_MAX_PAYLOAD = 0.5


def check_payload(payload: float) -> float:
    """``payload`` when it is a usable --payload, else InputError."""
    from wincli.errors import InputError

    if not 0 < payload <= STEALTH_MAX_PAYLOAD:
        raise InputError(
            f"--payload must be above 0 and at most {STEALTH_MAX_PAYLOAD}, not {payload}"
        )
    return payload
