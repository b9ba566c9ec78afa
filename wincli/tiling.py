"""Tiled inference as a pure function.

>>> y = tiled_apply(net, x, tile=64, halo=16, unit_in=2, unit_out=2)   # doctest: +SKIP

Sizes are counted in *units*: an input of H = n * unit_in pixels gives an output of
n * unit_out pixels (hiding: 2 -> 2; downscale x2: 2 -> 1; upscale x2: 1 -> 2). The input is cut
into a grid of ``tile`` x ``tile`` units; each tile is grown by ``halo`` units on every side
(clipped at the image border), run through ``fn``, and only its valid core is pasted into a
preallocated output. With a halo that covers the receptive field the result equals the untiled
one; a smaller halo trades a small, measured difference for memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch


def tile_spans(n: int, tile: int, halo: int) -> Iterator[tuple[int, int, int, int]]:
    """For a length of ``n`` units: (core_start, core_end, ext_start, ext_end) per tile."""
    if tile <= 0:
        raise ValueError("tile must be positive")
    for a in range(0, n, tile):
        b = min(a + tile, n)
        yield a, b, max(a - halo, 0), min(b + halo, n)


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: int,
    halo: int,
    unit_in: int = 1,
    unit_out: int = 1,
    on_tile: Callable[[], None] | None = None,
    out_device: torch.device | str | None = None,
) -> torch.Tensor:
    """Apply ``fn`` to (B, C, H, W) ``x`` tile by tile; H and W must be multiples of unit_in."""
    _, _, h, w = x.shape
    if h % unit_in or w % unit_in:
        raise ValueError(f"{h}x{w} is not a multiple of {unit_in}")
    nh, nw = h // unit_in, w // unit_in
    out: torch.Tensor | None = None
    for a0, a1, e0, e1 in tile_spans(nh, tile, halo):
        for b0, b1, f0, f1 in tile_spans(nw, tile, halo):
            piece = fn(x[:, :, e0 * unit_in : e1 * unit_in, f0 * unit_in : f1 * unit_in])
            if out is None:
                out = torch.empty(
                    (x.shape[0], piece.shape[1], nh * unit_out, nw * unit_out),
                    dtype=piece.dtype,
                    device=out_device or piece.device,
                )
            core = piece[
                :,
                :,
                (a0 - e0) * unit_out : (a1 - e0) * unit_out,
                (b0 - f0) * unit_out : (b1 - f0) * unit_out,
            ]
            out[:, :, a0 * unit_out : a1 * unit_out, b0 * unit_out : b1 * unit_out] = core.to(out)
            if on_tile is not None:
                on_tile()
    assert out is not None
    return out


def count_tiles(h_units: int, w_units: int, tile: int) -> int:
    return -(-h_units // tile) * -(-w_units // tile)


def available_memory(device: torch.device) -> int:
    """Bytes free for activations on ``device`` (CUDA: free memory; CPU: MemAvailable)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 << 30


def auto_tile(
    device: torch.device,
    bytes_per_pixel: float,
    unit_in: int,
    budget: float = 0.25,
    max_units: int = 1024,
    cap_bytes: float = 1 << 30,
) -> int:
    """Largest tile (in units) whose activations fit ``budget`` of the free memory, and never
    more than ``cap_bytes`` (so the default run of a big photo stays bounded)."""
    pixels = min(available_memory(device) * budget, cap_bytes) / bytes_per_pixel
    side = int(pixels**0.5) // unit_in
    return max(16, min(side, max_units))
