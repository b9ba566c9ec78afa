"""Metrics and the evaluation protocol against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.conftest import DATA, needs_data
from wincli import evaluate as E
from wincli import frontier as F
from wincli import metrics as M
from wincli.tasks import Rescaling


def test_psnr_of_known_noise_level():
    torch.manual_seed(0)
    a = torch.randint(20, 230, (1, 3, 64, 64)).float() / 255
    b = a + torch.where(torch.rand_like(a) < 0.5, -2.0, 2.0) / 255  # |error| = 2 levels
    assert M.psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 4), abs=1e-9)
    assert M.psnr(a, a) == math.inf


def test_ssim_identical_is_one_and_drops_with_noise():
    from tests.conftest import smooth_image

    torch.manual_seed(0)
    a = torch.from_numpy(smooth_image(32, 32)).permute(2, 0, 1)[None].float() / 255
    assert M.ssim(a, a) == pytest.approx(1.0)
    assert M.ssim(a, (a + 0.1 * torch.randn_like(a)).clamp(0, 1)) < 0.9


def test_shave_ignores_the_border():
    a = torch.full((1, 3, 20, 20), 0.5)
    b = a.clone()
    b[..., :2, :] = 0.0  # error only in the first two rows
    assert M.psnr(a, b, shave=2) == math.inf
    assert M.psnr(a, b) < 30


def test_hiding_pairing_rule():
    paths = [Path(f"k{i:02d}.png") for i in range(1, 8)]
    assert E.hiding_groups(paths, 1) == [
        [paths[0], paths[1]],
        [paths[2], paths[3]],
        [paths[4], paths[5]],
    ]
    assert E.hiding_groups(list(reversed(paths)), 2) == [paths[0:3], paths[3:6]]


def test_lsb_textbook_numbers():
    """Uniform random 8-bit images: k-bit LSB stego MSE = 2 (4^k - 1) / 12, mid-bin reveal
    MSE = (4^(8-k) - 1) / 12 + 1/4; at k = 4: 31.85 dB and 34.81 dB."""
    g = torch.Generator().manual_seed(0)
    cover = torch.randint(0, 256, (1, 3, 256, 256), generator=g, dtype=torch.uint8)
    secret = torch.randint(0, 256, (1, 3, 256, 256), generator=g, dtype=torch.uint8)
    for k in (1, 4, 7):
        stego = F.lsb_hide(cover, secret, k)
        rev = F.lsb_reveal(stego, k)
        mse_s = 2 * (4**k - 1) / 12
        mse_r = (4 ** (8 - k) - 1) / 12 + 0.25
        assert M.psnr(stego / 255, cover / 255) == pytest.approx(
            10 * math.log10(255**2 / mse_s), abs=0.15
        )
        assert M.psnr(rev / 255, secret / 255) == pytest.approx(
            10 * math.log10(255**2 / mse_r), abs=0.15
        )
    assert torch.equal(F.lsb_reveal(F.lsb_hide(cover, secret, 4), 4) >> 4, secret >> 4)


@pytest.mark.parametrize("n,k", [(2, 1), (2, 3), (3, 2), (4, 1), (4, 2)])
def test_lsb_many_secrets_roundtrip(n, k):
    """n secrets x k bits: each secret's high k bits come back exactly, in order, and the cover
    keeps its high 8 - n k bits; too many bits is an error."""
    g = torch.Generator().manual_seed(n * 10 + k)
    cover, *secrets = (
        torch.randint(0, 256, (1, 3, 32, 32), generator=g, dtype=torch.uint8) for _ in range(n + 1)
    )
    stego = F.lsb_hide(cover, secrets, k)
    revealed = F.lsb_reveal(stego, k, n)
    assert len(revealed) == n
    for r, s in zip(revealed, secrets, strict=True):
        assert torch.equal(r >> (8 - k), s >> (8 - k))
    assert torch.equal(stego >> (n * k), cover >> (n * k)) or n * k == 8
    with pytest.raises(ValueError):
        F.lsb_hide(cover, secrets, 9 // n + 1)


def test_summary_means():
    rows = [E.Row("a", "m", {"x": 1.0}), E.Row("b", "m", {"x": 3.0}), E.Row("a", "n", {"x": 5})]
    assert E.summary(rows) == {"m": {"x": 2.0}, "n": {"x": 5.0}}


@needs_data
@pytest.mark.data
def test_bicubic_baseline_matches_paper():
    from wincli.train.data import find_images

    s5 = find_images([DATA / "eval" / "Set5"])
    x2 = E.summary(E.evaluate(None, Rescaling(2), s5))["bicubic down+up"]["hr_psnr"]
    x4 = E.summary(E.evaluate(None, Rescaling(4), s5))["bicubic down+up"]["hr_psnr"]
    assert x2 == pytest.approx(31.80, abs=0.02) and x4 == pytest.approx(26.70, abs=0.02)


@pytest.mark.parametrize("name", ["hiding-1", "hiding-2", "rescaling-x2", "decolorization"])
def test_one_loop_for_every_task(name, image_file, checkpoints):
    """The generic loop: samples grouped and cut per task, WIN 8-bit / float and the textbook
    baselines measured with the same names (stored image first, then the restored parts)."""
    from wincli.checkpoint import load_model
    from wincli.converter import Converter
    from wincli.tasks import parse_task

    task = parse_task(name)
    paths = [image_file(f"im{i}.png", h=37 + i, w=50, seed=i) for i in range(5)]
    conv = Converter(net=load_model(checkpoints[name]), device=torch.device("cpu"))
    rows = E.evaluate(conv, task, paths)
    samples = list(E.samples(task, paths))
    assert len(samples) == 5 // task.images_per_sample
    for _, x in samples:
        assert x.shape[1] == task.c_in and x.shape[-2] % task.down == 0
    keys = {f"{task.stored_name}_psnr", f"{task.restored_name}_psnr"}
    for r in rows:
        assert keys <= set(r.metrics), r
        assert all(r.metrics[k] is not None and r.metrics[k] > 5 for k in keys), r
    methods = list(E.summary(rows))
    assert methods[:2] == ["WIN 8-bit", "WIN float"] and len(methods) > 2
