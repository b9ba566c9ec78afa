"""The one-pass encoder: it starts as the forward output, it serves one inverse only, it can be
trained, and the CLI and the Python API store the same bytes with default options."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import REPO, smooth_image
from wincli.checkpoint import load_model
from wincli.encoder import build_encoder, inverse_id, load_encoder, save_encoder
from wincli.errors import WeightsError
from wincli.io import from_uint8


@pytest.mark.parametrize("name", ["rescaling-x2", "rescaling-x4", "decolorization", "hiding-1"])
def test_an_untrained_encoder_stores_the_forward_output(checkpoints, name):
    net = load_model(checkpoints[name])
    task = net.config.spec
    x = task.pack([from_uint8(smooth_image(32, 48, s)) for s in range(task.images_per_sample)])
    enc = build_encoder(net)
    with torch.no_grad():
        y0 = task.to_image(net(x))
        assert torch.equal(enc(x, y0), y0)
        assert enc(x, y0).shape == (1, task.stored_channels, 32 // task.down, 48 // task.down)


def test_an_encoder_serves_only_the_inverse_it_was_trained_for(tmp_path, checkpoints):
    x2 = load_model(checkpoints["rescaling-x2"])
    other = load_model(checkpoints["rescaling-x2"])
    with torch.no_grad():
        next(other.parameters()).add_(1e-3)
    path = tmp_path / "enc.safetensors"
    save_encoder(build_encoder(x2), path, inverse_id(x2), {"serves_name": "x2 test"})
    assert load_encoder(path, x2) is not None
    with pytest.raises(WeightsError, match="another network's inverse"):
        load_encoder(path, other)


def test_training_an_encoder_lowers_its_objective(tmp_path, checkpoints):
    from wincli.train.encoder import EncoderOptions, score, train_encoder

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(80, 80, i)).save(data / f"im{i}.png")
    out = tmp_path / "run"
    opts = EncoderOptions(
        model=str(checkpoints["rescaling-x2"]), data=[str(data)], out=str(out), steps=30,
        batch=4, patch=32, lr=3e-3, warmup=5, holdout=1, val_crop=64, val_every=30,
    )  # fmt: skip
    train_encoder(opts)
    net = load_model(checkpoints["rescaling-x2"])
    enc = load_encoder(out / "last.safetensors", net)
    val = torch.stack([from_uint8(smooth_image(64, 64, 9))[0]])
    before, after = score(net, None, val), score(net, enc, val)
    assert after["restored_psnr"] > before["restored_psnr"]


def test_cli_and_api_store_the_same_bytes_with_default_options(tmp_path, checkpoints, monkeypatch):
    """Default options tile (--tile auto) in both; a small memory cap makes the image span
    several tiles."""
    from typer.testing import CliRunner

    import wincli
    from wincli.cli import app

    monkeypatch.setattr("wincli.converter.auto_tile", lambda *a, **k: 16)
    src = tmp_path / "in.png"
    Image.fromarray(smooth_image(72, 88, 3)).save(src)
    out = tmp_path / "lr.png"
    res = CliRunner().invoke(
        app, ["downscale", str(src), "-o", str(out), "--weights", str(checkpoints["rescaling-x2"])]
    )
    assert res.exit_code == 0, res.output
    api = wincli.downscale(Image.open(src), scale=2, weights=str(checkpoints["rescaling-x2"]))
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(api))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["downscale", "--help"],
        ["models", "list"],
        ["train", "--help"],
        ["hide", "--help"],
    ],
)
def test_help_and_listing_do_not_import_torch(args):
    code = (
        "import sys\nfrom wincli.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "sys.exit(3 if 'torch' in sys.modules else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, f"win {' '.join(args)} imported torch"


def test_tiled_encoding_matches_the_whole_image(checkpoints):
    """The encoder runs inside the tiles with the forward pass: its receptive field fits the halo,
    so the tiled stored image is the untiled one up to rounding."""
    from wincli.converter import Converter

    net = load_model(checkpoints["rescaling-x2"])
    enc = build_encoder(net, width=16, blocks=2, bound=0.1)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in enc.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    x = from_uint8(smooth_image(96, 112, 4))
    cpu = torch.device("cpu")
    whole = Converter(net=net, device=cpu, encoder=enc).forward(x)
    tiled = Converter(net=net, device=cpu, encoder=enc, tile=32).forward(x)
    assert not torch.equal(whole, Converter(net=net, device=cpu).forward(x))  # it acts
    assert (tiled - whole).abs().max().item() * 255 <= 1.0001


def test_an_interrupted_encoder_run_resumes_to_the_same_weights(tmp_path, checkpoints, monkeypatch):
    """Resume state is safetensors + JSON (nothing unpickled), and resuming is bit-exact."""
    import wincli.train.encoder as E
    from wincli.checkpoint import load_state

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(80, 80, i)).save(data / f"im{i}.png")

    def opts(out):
        return E.EncoderOptions(
            model=str(checkpoints["rescaling-x2"]), data=[str(data)], out=str(out), steps=20,
            batch=2, patch=32, lr=3e-3, warmup=2, holdout=1, val_crop=64, val_every=10,
        )  # fmt: skip

    E.train_encoder(opts(tmp_path / "a"))
    real, calls = E.stored_objective, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 13:  # after the checkpoint at step 10
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(E, "stored_objective", interrupted)
    with pytest.raises(KeyboardInterrupt):
        E.train_encoder(opts(tmp_path / "b"))
    monkeypatch.setattr(E, "stored_objective", real)
    assert not list((tmp_path / "b").glob("*.pt"))
    E.train_encoder(opts(tmp_path / "b"), resume=True)
    a, b = (load_state(tmp_path / r / "last.safetensors") for r in "ab")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    # --time-limit: checkpoint at whatever step the time runs out (here the first), resume exact
    stopped = replace(opts(tmp_path / "c"), time_limit=0.0)
    E.train_encoder(stopped)
    assert json.loads((tmp_path / "c" / "state.json").read_text())["step"] == 1
    E.train_encoder(opts(tmp_path / "c"), resume=True)
    c = load_state(tmp_path / "c" / "last.safetensors")
    assert all(torch.equal(a[k], c[k]) for k in a)


def test_win_train_encoder_for_trains_and_resumes_an_encoder(tmp_path, checkpoints):
    """The encoder trains through `win train --encoder-for` (one training CLI); options that do
    not apply to an encoder are refused in one line."""
    from typer.testing import CliRunner

    from wincli.cli import app

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(80, 80, i)).save(data / f"im{i}.png")
    out = tmp_path / "enc"
    args = [
        "train", "--encoder-for", str(checkpoints["rescaling-x2"]), "--data", str(data),
        "--out", str(out), "--steps", "4", "--batch", "2", "--patch", "32", "--warmup", "1",
        "--holdout", "1", "--val-size", "64", "--val-every", "2", "--threads", "1",
        "--encoder-width", "16", "--encoder-blocks", "1", "--encoder-bound", "0.1",
    ]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    net = load_model(checkpoints["rescaling-x2"])
    enc = load_encoder(out / "last.safetensors", net)
    assert enc.config.width == 16 and enc.config.blocks == 1
    saved = json.loads((out / "state.json").read_text())
    assert saved["step"] == 4 and saved["options"]["bound"] == 0.1
    res = CliRunner().invoke(app, ["train", "--resume", str(out)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, [*args, "--jpeg", "70-95"])
    assert res.exit_code == 2 and "--jpeg: not an option of an encoder run" in res.output


def test_an_encoder_run_starts_from_another_networks_encoder_of_the_same_task(
    tmp_path, checkpoints
):
    """A grown network computes what its source did, so the source's encoder is where its own
    encoder run starts (in bf16 too); an encoder of another task is refused in one line."""
    from wincli.checkpoint import load_state, save_model
    from wincli.errors import InputError
    from wincli.train.encoder import EncoderOptions, train_encoder

    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(80, 80, i)).save(data / f"im{i}.png")
    x2 = load_model(checkpoints["rescaling-x2"])
    other = load_model(checkpoints["rescaling-x2"])
    with torch.no_grad():
        next(other.parameters()).add_(1e-3)
    other_path = tmp_path / "other.safetensors"
    save_model(other, other_path)
    src = build_encoder(x2, width=16, blocks=1, bound=0.1)
    with torch.no_grad():
        src.tail.weight.normal_(0, 1e-3)
    src_path = tmp_path / "x2-encoder.safetensors"
    save_encoder(src, src_path, inverse_id(x2), {"serves_name": "x2 test"})

    def opts(out, init):
        return EncoderOptions(
            model=str(other_path), data=[str(data)], out=str(tmp_path / out), steps=2, batch=2,
            patch=32, lr=0.0, warmup=1, holdout=1, val_crop=64, val_every=2, threads=1,
            init_from=str(init), precision="bf16",
        )  # fmt: skip

    train_encoder(opts("run", src_path))
    got = load_state(tmp_path / "run" / "last.safetensors")
    assert all(torch.equal(got[k], v) for k, v in src.state_dict().items())  # lr 0: kept as is
    assert load_encoder(tmp_path / "run" / "last.safetensors", other) is not None
    dc = load_model(checkpoints["decolorization"])
    dc_path = tmp_path / "dc-encoder.safetensors"
    save_encoder(build_encoder(dc), dc_path, inverse_id(dc), {"serves_name": "dc test"})
    with pytest.raises(InputError, match="an encoder of another task"):
        train_encoder(opts("run2", dc_path))
