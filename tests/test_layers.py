"""Invertible layers: exact inverses in float64, gradients, the spatial shift."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import perturb
from wincli.layers import WIC, WIM, AffineCoupling, DenseBlock, shift_offsets, spatial_shift


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).norm() / b.norm()).detach())


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("c_in,c_out", [(12, 24), (24, 24), (24, 32), (3, 12)])
def test_wic_well_posed_inverts(c_in, c_out):
    torch.manual_seed(0)
    wic = WIC(c_in, c_out)
    with torch.no_grad():  # a non-orthogonal, still well-conditioned W
        wic.weight.add_(0.3 * torch.randn_like(wic.weight))
    x = torch.randn(2, c_in, 8, 8)
    assert wic.k == 1
    assert rel_err(wic.inverse(wic(x)), x) < 1e-10


@pytest.mark.parametrize("c_in,c_out", [(40, 3), (10, 3), (10, 1), (160, 12), (6, 3)])
def test_wic_reducing_inverts_with_all_channels(c_in, c_out):
    torch.manual_seed(1)
    wic = WIC(c_in, c_out)
    x = torch.randn(2, c_in, 10, 10)
    y, extra = wic.forward_train(x)
    assert y.shape[1] == c_out and extra.shape[1] == (wic.k - 1) * c_out
    assert wic.rows >= c_in
    full = torch.cat([y, extra], 1)
    x_back = torch.nn.functional.conv2d(full, wic.left_inverse()[:, :, None, None])
    assert rel_err(x_back, x) < 1e-10


def test_wic_reducing_inverse_uses_shifts_of_output():
    """When the extra channels equal shifted copies of y, inverse(y) recovers x exactly."""
    torch.manual_seed(2)
    wic = WIC(8, 2)  # K = 4
    y = torch.rand(1, 2, 12, 12)
    y_aug = wic.augment(y)
    # build x consistent with y_aug: x = W+ y_aug; then W x = y_aug iff y_aug is in range(W),
    # so make W square-invertible on its rows (K * c_out == c_in here)
    assert wic.rows == 8
    x = torch.linalg.solve(wic.weight, y_aug.flatten(2)).view(1, 8, 12, 12)
    assert rel_err(wic(x), y) < 1e-10
    assert rel_err(wic.inverse(wic(x)), x) < 1e-10


def test_left_inverse_is_cached_when_frozen():
    wic = WIC(10, 3)
    with torch.no_grad():
        a = wic.left_inverse()
        b = wic.left_inverse()
    assert a is b
    with torch.no_grad():
        wic.weight.mul_(1.5)  # an optimizer step bumps the version: cache invalid
        c = wic.left_inverse()
    assert c is not a and not torch.equal(a, c)


def test_log_det_is_zero_for_orthogonal_and_penalises_scaling():
    wic = WIC(12, 24)
    assert abs(float(wic.log_det().detach())) < 1e-10
    with torch.no_grad():
        wic.weight.mul_(2.0)
    expected = 12 * 2 * torch.log(torch.tensor(2.0)).item()
    assert float(wic.log_det().detach()) == pytest.approx(expected)


def test_shift_offsets_rule():
    assert shift_offsets(1) == []
    assert shift_offsets(4) == [(-1, -1), (-1, 0), (-1, 1)]
    offs = shift_offsets(14)  # s = 2: 5x5 grid minus the centre, first 13
    assert len(offs) == 13 and offs[0] == (-2, -2) and (0, 0) not in offs


def test_spatial_shift_reflects_not_wraps():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    down = spatial_shift(x, 1, 0)
    assert torch.equal(down[0, 0, 1:], x[0, 0, :3])
    assert torch.equal(down[0, 0, 0], x[0, 0, 1])  # reflection of row 1, not row 3 (wrap)
    left = spatial_shift(x, 0, -2)
    assert torch.equal(left[0, 0, :, :2], x[0, 0, :, 2:])
    assert torch.equal(left[0, 0, :, 2], x[0, 0, :, 2])  # reflect: col 4 -> col 2
    with pytest.raises(ValueError):
        spatial_shift(x, 4, 0)


def test_coupling_identity_at_init_and_inverts():
    torch.manual_seed(3)
    layer = AffineCoupling(12, growth=8)
    x = torch.randn(2, 12, 8, 8)
    assert torch.allclose(layer(x), x)
    perturb(layer, 0.1)
    y = layer(x)
    assert not torch.allclose(y, x)
    assert rel_err(layer.inverse(y), x) < 1e-10


def test_dense_block_shape():
    block = DenseBlock(5, 7, growth=4)
    assert block(torch.zeros(1, 5, 6, 6)).shape == (1, 7, 6, 6)


def test_wim_inverts():
    torch.manual_seed(4)
    wim = WIM(width=16, ratio=0.75, couplings=2, growth=8)
    perturb(wim, 0.1)
    h = torch.randn(2, 12, 8, 8)
    memory, out = wim(h)
    assert memory.shape[1] == 4 and out.shape[1] == 12
    assert rel_err(wim.inverse(memory, out), h) < 1e-10


def test_gradcheck_coupling_and_wic():
    torch.manual_seed(5)
    layer = perturb(AffineCoupling(4, growth=2, depth=2), 0.2)
    x = torch.randn(1, 4, 3, 3, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))
    assert torch.autograd.gradcheck(lambda t: layer.inverse(t), (x,))
    wic = WIC(6, 3)
    x2 = torch.randn(1, 6, 4, 4, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: wic(t), (x2,))
    y = torch.randn(1, 3, 4, 4, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: wic.inverse(t), (y,))
