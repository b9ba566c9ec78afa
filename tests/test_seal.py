"""The WIN stego's seal: written by hide, read by reveal; nothing hidden, another -n or other
weights are refused in one line; the seal costs the stego nothing visible."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import smooth_image
from wincli import api
from wincli.cli import app
from wincli.errors import InputError
from wincli.io import from_uint8, to_uint8
from wincli.metrics import psnr
from wincli.seal import SLOTS, Seal, read_seal, seal, sealable

runner = CliRunner()
ID = "0123456789abcdef"


def _levels(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round() / 255


def test_seal_reads_back_and_changes_few_values_by_one_level():
    rng = np.random.default_rng(0)
    x = _levels(torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(1)))
    before = to_uint8(x).astype(int)
    y = seal(x.clone(), 3, ID)
    assert read_seal(y) == Seal(3, ID[:8])
    diff = to_uint8(y).astype(int) - before
    assert np.abs(diff).max() == 1 and 0 < (diff != 0).sum() <= SLOTS
    # the sealed tensor holds exact levels: the file written from it carries the same seal
    assert read_seal(from_uint8(to_uint8(y))) == Seal(3, ID[:8])
    # a float stego (not yet on levels) is sealed too
    z = seal(torch.from_numpy(rng.random((1, 3, 96, 128), dtype=np.float32)), 1, ID)
    assert read_seal(from_uint8(to_uint8(z))) == Seal(1, ID[:8])


def test_seal_on_saturated_and_channels_last_images():
    for value in (0.0, 1.0):
        x = torch.full((1, 3, 16, 16), value)  # the smallest image win reads
        assert read_seal(seal(x, 2, ID)) == Seal(2, ID[:8])
    x = _levels(torch.rand(1, 3, 64, 80)).contiguous(memory_format=torch.channels_last)
    assert read_seal(seal(x, 4, ID)) == Seal(4, ID[:8])


def test_no_seal_on_plain_images_or_other_sizes():
    found = 0
    for i in range(200):
        found += read_seal(from_uint8(smooth_image(64 + i % 7, 64 + i % 5, seed=i))) is not None
        noise = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(i))
        found += read_seal(_levels(noise)) is not None
    assert found == 0
    # a seal is for one image size: a crop of a sealed image carries none
    y = seal(_levels(torch.rand(1, 3, 96, 96)), 1, ID)
    assert read_seal(y[..., 1:, :]) is None


def test_small_images_are_not_sealed():
    x = _levels(torch.rand(1, 3, 12, 12))
    assert not sealable(x) and torch.equal(seal(x.clone(), 1, ID), x)


def test_seal_costs_no_visible_psnr():
    cover = from_uint8(smooth_image(256, 256, seed=3))
    noisy = _levels((cover + 0.01 * torch.randn_like(cover)).clamp(0, 1))
    sealed = seal(noisy.clone(), 1, ID)
    assert psnr(noisy, cover) - psnr(sealed, cover) < 0.01


@pytest.fixture(scope="module")
def stego(tmp_path_factory, checkpoints):
    d = tmp_path_factory.mktemp("seal")
    for i in range(3):
        Image.fromarray(smooth_image(72, 96, seed=i)).save(d / f"im{i}.png")
    w1 = str(checkpoints["hiding-1"])
    res = runner.invoke(
        app,
        ["hide", str(d / "im0.png"), str(d / "im1.png"), "-o", str(d / "st.png"), "--weights", w1],
    )
    assert res.exit_code == 0, res.output
    return d, checkpoints


def test_reveal_of_a_sealed_stego_works(stego):
    d, ck = stego
    res = runner.invoke(
        app, ["reveal", str(d / "st.png"), "-o", str(d / "r"), "--weights", str(ck["hiding-1"])]
    )
    assert res.exit_code == 0, res.output
    assert (d / "r" / "secret1.png").is_file()


def test_reveal_of_nothing_is_refused_and_writes_nothing(stego):
    d, ck = stego
    res = runner.invoke(
        app, ["reveal", str(d / "im2.png"), "-o", str(d / "none"), "--weights", str(ck["hiding-1"])]
    )
    assert res.exit_code == 2
    assert "nothing hidden here by win hide" in res.output and "--force" in res.output
    assert not (d / "none").exists()
    forced = ["reveal", str(d / "im2.png"), "-o", str(d / "forced"), "--force", "--weights"]
    assert runner.invoke(app, [*forced, str(ck["hiding-1"])]).exit_code == 0
    assert (d / "forced" / "secret1.png").is_file()


def test_reveal_with_the_wrong_n_names_the_right_one(stego):
    d, ck = stego
    res = runner.invoke(
        app,
        [
            "reveal",
            str(d / "st.png"),
            "-n",
            "2",
            "-o",
            str(d / "n2"),
            "--weights",
            str(ck["hiding-2"]),
        ],
    )
    assert res.exit_code == 2
    assert "reveal with -n 1 and" in res.output
    assert not (d / "n2").exists()


def test_an_edited_stego_is_refused(stego):
    d, ck = stego
    arr = np.asarray(Image.open(d / "st.png")).copy()
    arr[:, :2] = 128  # paint over two columns: another image of the same size
    arr = np.ascontiguousarray(arr[:, ::-1])
    Image.fromarray(arr).save(d / "edited.png")
    res = runner.invoke(
        app, ["reveal", str(d / "edited.png"), "-o", str(d / "e"), "--weights", str(ck["hiding-1"])]
    )
    assert res.exit_code == 2 and "no seal" in res.output


def test_api_hide_seals_and_reveal_refuses_nothing(stego):
    d, ck = stego
    cover, secret = Image.open(d / "im0.png"), Image.open(d / "im1.png")
    st = api.hide(cover, [secret], weights=str(ck["hiding-1"]))
    assert read_seal(from_uint8(np.asarray(st))).secrets == 1
    _, secrets = api.reveal(st, weights=str(ck["hiding-1"]))
    assert len(secrets) == 1
    with pytest.raises(InputError, match="nothing hidden"):
        api.reveal(cover, weights=str(ck["hiding-1"]))
    _, forced = api.reveal(cover, weights=str(ck["hiding-1"]), force=True)
    assert len(forced) == 1


def test_a_shipped_model_is_named_by_the_seal(tmp_path):
    cover = Image.fromarray(smooth_image(64, 96, seed=7))
    secret = Image.fromarray(smooth_image(64, 96, seed=8))
    st = api.hide(cover, [secret])  # the default hiding-1 model
    with pytest.raises(InputError, match="hidden with hiding-1-win-cpu: reveal with -n 1$"):
        api.reveal(st, secrets=2)
    with pytest.raises(InputError, match="reveal without --weights$"):
        api.reveal(st, secrets=1, weights="hiding-1-win-paper")
