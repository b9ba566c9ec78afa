"""WIC: the well-posed invertible 1x1 convolution (docs/method.md, "Building blocks").

>>> wic = WIC(12, 24)                       # c_in <= c_out: overdetermined, left-invertible
>>> x = torch.rand(1, 12, 8, 8, dtype=torch.float64)
>>> wic.double(); torch.allclose(wic.inverse(wic(x)), x)   # doctest: +SKIP
True
>>> fusion = WIC(40, 3)                     # c_in > c_out: K = 14 blocks of 3 rows
>>> y, extra = fusion.forward_train(feat)   # doctest: +SKIP  (extra: 39 training channels)

Case c_in <= c_out: W is (c_out, c_in); forward y = W x, inverse x = W+ y.
Case c_in >  c_out: K = ceil(c_in / c_out); W is (K c_out, c_in); forward outputs only the first
c_out rows; inverse rebuilds [y, S_o1(y), ..., S_o(K-1)(y)] from spatial shifts of y and applies
W+. The left inverse W+ = (W^T W)^-1 W^T is computed in float64 with a solve (never an explicit
float32 inverse, which squares the condition number) and cached while the weights are frozen.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from wincli.precision import full_precision


def shift_offsets(k: int) -> list[tuple[int, int]]:
    """The first ``k - 1`` offsets (di, dj) of the grid (-s..s)^2 in row-major order, no (0, 0).

    ``s = max(ceil(sqrt(k) / 2), 1)``; the grid always holds at least ``k - 1`` offsets.
    """
    if k <= 1:
        return []
    s = max(math.ceil(math.sqrt(k) / 2), 1)
    grid = [(di, dj) for di in range(-s, s + 1) for dj in range(-s, s + 1) if (di, dj) != (0, 0)]
    return grid[: k - 1]


def spatial_shift(x: torch.Tensor, di: int, dj: int) -> torch.Tensor:
    """Move (B, C, H, W) ``x`` down by ``di`` rows and right by ``dj`` columns.

    ``out[..., i, j] = x[..., i - di, j - dj]``; the vacated rows and columns are filled by
    reflection of the image (never wrapped around). Needs ``|di| < H`` and ``|dj| < W``.
    """
    h, w = x.shape[-2:]
    if abs(di) >= h or abs(dj) >= w:
        raise ValueError(f"shift ({di}, {dj}) needs a feature map larger than {h}x{w}")
    if di == 0 and dj == 0:
        return x
    padded = F.pad(x, (max(dj, 0), max(-dj, 0), max(di, 0), max(-di, 0)), mode="reflect")
    r0, c0 = max(-di, 0), max(-dj, 0)
    return padded[..., r0 : r0 + h, c0 : c0 + w]


def _conv1x1(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution in float32 whatever the autocast around it: the WICs are where the
    inverse's conditioning lives (docs/method.md, "Precision")."""
    off, x = full_precision(x)
    with off:
        return F.conv2d(x, weight[:, :, None, None].to(x.dtype))


class WIC(nn.Module):
    """Well-posed invertible 1x1 convolution from ``c_in`` to ``c_out`` channels.

    ``forward``: (B, c_in, H, W) -> (B, c_out, H, W). ``inverse``: (B, c_out, H, W) ->
    (B, c_in, H, W). ``forward_train`` also returns the (K - 1) c_out augmented channels that
    the shift loss supervises (empty when c_in <= c_out).
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.c_in, self.c_out = c_in, c_out
        self.k = 1 if c_in <= c_out else math.ceil(c_in / c_out)
        weight = torch.empty(self.k * c_out, c_in)
        nn.init.orthogonal_(weight)
        self.weight = nn.Parameter(weight)
        self.offsets = shift_offsets(self.k)
        self._cache: tuple[tuple, torch.Tensor] | None = None

    def extra_repr(self) -> str:
        return f"{self.c_in} -> {self.c_out}, K={self.k}"

    @property
    def rows(self) -> int:
        return self.k * self.c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _conv1x1(x, self.weight[: self.c_out])

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All K c_out rows: (output (B, c_out, H, W), extra (B, (K-1) c_out, H, W))."""
        full = _conv1x1(x, self.weight)
        return full[:, : self.c_out], full[:, self.c_out :]

    def augment(self, y: torch.Tensor) -> torch.Tensor:
        """(B, c_out, H, W) -> (B, K c_out, H, W): y followed by its K - 1 spatial shifts."""
        if self.k == 1:
            return y
        return torch.cat([y] + [spatial_shift(y, di, dj) for di, dj in self.offsets], 1)

    def left_inverse(self) -> torch.Tensor:
        """W+ = (W^T W)^-1 W^T as a float64 (c_in, K c_out) matrix, cached while frozen."""
        w = self.weight
        trainable = torch.is_grad_enabled() and w.requires_grad
        key = (w._version, w.data_ptr(), w.device)
        if not trainable and self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        w64 = w.double()
        pinv = torch.linalg.solve(w64.T @ w64, w64.T)
        if not trainable:
            pinv = pinv.detach()
            self._cache = (key, pinv)
        return pinv

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return _conv1x1(self.augment(y), self.left_inverse())

    @torch.no_grad()
    def condition(self) -> float:
        """Condition number of W (largest / smallest singular value): how much the left
        inverse amplifies an error in its input (8-bit rounding) relative to the forward."""
        sv = torch.linalg.svdvals(self.weight.detach().double())
        return float(sv.max() / sv.min().clamp_min(1e-300))

    def log_det(self) -> torch.Tensor:
        """log det(W^T W) in float64; L_det is its absolute value."""
        w64 = self.weight.double()
        return torch.linalg.slogdet(w64.T @ w64)[1]

    @torch.no_grad()
    def init_embedding(self) -> None:
        """Task-aware start for c_in <= c_out: W = [I; 0], so channels pass through in order."""
        if self.k != 1:
            raise ValueError("init_embedding needs c_in <= c_out")
        self.weight.zero_()
        self.weight[: self.c_in].copy_(torch.eye(self.c_in))

    @torch.no_grad()
    def init_rows(self, rows: torch.Tensor) -> None:
        """Set the first c_out rows to ``rows`` and complete W to full column rank.

        The other rows are an orthonormal basis of the complement of ``rows``' row space,
        scaled so that log det(W^T W) = 0 (L_det starts at zero); rows beyond c_in are zero.
        """
        rows = rows.detach().double().cpu()
        if rows.shape != (self.c_out, self.c_in):
            raise ValueError(f"expected rows of shape {(self.c_out, self.c_in)}")
        _, sv, vh = torch.linalg.svd(rows, full_matrices=True)
        rank = int((sv > sv.max() * 1e-6).sum())
        if rank < self.c_out:  # e.g. the four identical x4 groups: make the last rows distinct
            lost = self.c_out - rank
            eps = 0.1 * float(rows.norm(dim=1).mean())
            rows = rows.clone()
            rows[rank:] += eps * vh[rank : rank + lost]
            _, sv, vh = torch.linalg.svd(rows, full_matrices=True)
            rank = int((sv > sv.max() * 1e-6).sum())
        complement = vh[rank:]  # (c_in - rank, c_in) orthonormal, orthogonal to the rows
        need = self.c_in - rank
        if need > self.rows - self.c_out:
            raise ValueError("not enough rows to complete the left inverse")
        gram_rows = torch.linalg.slogdet(rows @ rows.T)[1] if rank == self.c_out else None
        scale = 1.0
        if need > 0 and gram_rows is not None:
            scale = math.exp(-float(gram_rows) / (2 * need))
        w = torch.zeros(self.rows, self.c_in, dtype=torch.float64)
        w[: self.c_out] = rows
        w[self.c_out : self.c_out + need] = complement * scale
        self.weight.copy_(w.to(self.weight))
        self._cache = None
