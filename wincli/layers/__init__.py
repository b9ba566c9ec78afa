"""Invertible building blocks of WIN (docs/method.md, "Building blocks").

Every block honours one contract: ``forward(x)`` maps (B, C_in, H, W) to (B, C_out, H', W')
and ``inverse(y)`` maps back, so that ``inverse(forward(x)) == x`` up to floating point for
well-posed blocks. Training-only extras come from explicit methods (``WIC.forward_train``,
``WIC.log_det``), never from state kept between calls.
"""

from wincli.layers.coupling import AffineCoupling, DenseBlock
from wincli.layers.wic import WIC, shift_offsets, spatial_shift
from wincli.layers.wim import WIM

__all__ = [
    "WIC",
    "WIM",
    "AffineCoupling",
    "DenseBlock",
    "shift_offsets",
    "spatial_shift",
]
