"""Training: a seeded smoke run on generated images, exact resume, DDP with gloo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import REPO, smooth_image
from wincli.checkpoint import load_state
from wincli.train import TrainOptions, train


@pytest.fixture
def image_dir(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(6):
        Image.fromarray(smooth_image(40 + 4 * i, 44, seed=i)).save(d / f"im{i}.png")
    return d


def _opts(image_dir, out, **kw):
    base = dict(
        task="rescaling",
        scale=2,
        preset="cpu",
        data=[str(image_dir)],
        steps=8,
        batch=2,
        patch=32,
        lr=2e-3,
        warmup=1,
        seed=3,
        threads=1,
        log_every=2,
        val_every=4,
        ckpt_every=4,
        holdout=2,
        val_size=32,
        out=str(out),
    )
    base.update(kw)
    return TrainOptions(**base)


def _log(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_loss_goes_down_and_resume_is_exact(image_dir, tmp_path):
    straight = tmp_path / "straight"
    train(_opts(image_dir, straight, steps=24, log_every=4, ckpt_every=12, val_every=12))
    losses = [r["total"] for r in _log(straight) if "total" in r]
    assert losses[-1] < losses[0]

    split = tmp_path / "split"
    train(_opts(image_dir, split, steps=24, stop_at=12, log_every=4, ckpt_every=12, val_every=12))
    state = json.loads((split / "state.json").read_text())
    assert state["step"] == 12
    train(TrainOptions(resume=str(split), stop_at=24))
    assert json.loads((split / "state.json").read_text())["step"] == 24
    a = load_state(straight / "model.safetensors")
    b = load_state(split / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_noisy_estimator_resumes_exactly(image_dir, tmp_path):
    """`--ste mix` draws random noise each step; a stopped and resumed run must still end
    bit-identical to one that ran straight through (the draws are seeded by step)."""
    kw = dict(task="hiding", steps=6, log_every=2, ckpt_every=3, val_every=3, ste="mix")
    train(_opts(image_dir, tmp_path / "straight", **kw))
    train(_opts(image_dir, tmp_path / "split", stop_at=3, **kw))
    train(TrainOptions(resume=str(tmp_path / "split")))
    a = load_state(tmp_path / "straight" / "model.safetensors")
    b = load_state(tmp_path / "split" / "model.safetensors")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resume_applies_an_option_given_equal_to_its_default(image_dir, tmp_path):
    """`--resume RUN --lambda-forward 2` must switch a run saved with 4 back to 2 (the default
    value, given explicitly); options not given keep the saved values."""
    run = tmp_path / "run"
    train(_opts(image_dir, run, steps=8, stop_at=4, lambda_forward=4.0, log_every=2))
    train(TrainOptions(resume=str(run), stop_at=6, lambda_forward=2.0))
    saved = json.loads((run / "state.json").read_text())["options"]
    assert (saved["lambda_forward"], saved["log_every"], saved["threads"]) == (2.0, 2, 1)
    train(TrainOptions(resume=str(run)))
    saved = json.loads((run / "state.json").read_text())
    assert (saved["step"], saved["options"]["lambda_forward"]) == (8, 2.0)


def test_samples_are_a_function_of_seed_and_index(image_dir):
    from wincli.models import preset_config
    from wincli.train.data import PatchDataset, find_images, load_images

    imgs = load_images(find_images([image_dir]))
    cfg = preset_config("hiding", secrets=2, preset="cpu")
    ds = PatchDataset(imgs, cfg, 16, seed=1)
    assert torch.equal(ds[5], ds[5]) and ds[5].shape == (9, 16, 16)
    assert not torch.equal(ds[5], ds[6])


def test_run_dir_refuses_overwrite(image_dir, tmp_path):
    from wincli.errors import InputError

    run = tmp_path / "r"
    train(_opts(image_dir, run, steps=2, ckpt_every=2, val_every=2))
    with pytest.raises(InputError):
        train(_opts(image_dir, run, steps=2))


@pytest.mark.slow
def test_ddp_two_processes_gloo(image_dir, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "wincli",
        "train",
        "--task",
        "decolorization",
        "--preset",
        "cpu",
        "--data",
        str(image_dir),
        "--steps",
        "4",
        "--batch",
        "2",
        "--patch",
        "32",
        "--threads",
        "1",
        "--log-every",
        "2",
        "--val-every",
        "4",
        "--ckpt-every",
        "4",
        "--holdout",
        "2",
        "--device",
        "cpu",
        "--out",
        str(run),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((run / "state.json").read_text())["step"] == 4
    assert np.isfinite([r["total"] for r in _log(run) if "total" in r]).all()


# options whose "not given" means something: the preset's, the checkpoint's own, no such run
UNSET_BY_DEFAULT = (
    "couplings", "growth", "init_from", "resume", "stop_at", "time_limit", "jpeg", "restorer",
    "threads", "encoder_for", "encoder_width", "encoder_blocks", "encoder_bound", "stored_weight",
    "stored_slack",
)  # fmt: skip


def test_defaults_come_from_one_place():
    from wincli.train.options import FIELDS, RECIPE_OPTIONS, RUNTIME_OPTIONS, resolve

    cpu, cuda = torch.device("cpu"), torch.device("cuda")

    def res(device=cpu, **kw):
        return resolve(TrainOptions(**kw), device)

    assert res(task="rescaling", scale=2).lr == 1e-3
    assert res(task="rescaling", scale=4).lr == 3e-4  # 1e-3 diverged for x4
    assert res(task="hiding", preset="paper").lr == 2e-4
    assert res(task="hiding").init == "orthogonal" and res(task="rescaling").init == "task"
    assert res(task="hiding", init="task").init == "task"
    assert (res().batch, res().patch) == (8, 64) and (res(cuda).batch, res(cuda).patch) == (16, 128)
    assert res().betas == (0.9, 0.999) and res().weight_decay == 1e-4 and res().clip == 10.0
    assert res(lr=0.0, warmup=0, seed=0).lr == 0.0  # zero is a value, not "not given"
    assert all(v is not None for k, v in vars(res()).items() if k not in UNSET_BY_DEFAULT)
    # every option is documented and is either recipe or runtime
    assert set(RECIPE_OPTIONS) | set(RUNTIME_OPTIONS) == set(FIELDS)
    assert all(f.metadata["help"] for f in FIELDS.values())
    assert "(default: 200)" in TrainOptions.help("warmup")


def test_the_cli_help_is_the_options_help():
    from typer.testing import CliRunner

    from wincli.cli import app

    text = " ".join(
        CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "300"}).output.split()
    )
    for name in ("warmup", "lambda_forward", "ste"):
        assert " ".join(TrainOptions.help(name).split()) in text, name


def test_architecture_overrides_reach_the_checkpoint(image_dir, tmp_path):
    from wincli.checkpoint import load_model

    run = tmp_path / "wide"
    train(
        _opts(
            image_dir, run, task="hiding", steps=2, ckpt_every=2, val_every=2, couplings=2, growth=8
        )
    )
    net = load_model(run / "model.safetensors")
    assert (net.config.couplings, net.config.growth) == (2, 8)
    state = json.loads((run / "state.json").read_text())
    assert state["options"]["init"] == "orthogonal"  # the hiding default, recorded for resume


def test_init_from_starts_at_the_checkpoint_with_a_fresh_optimizer(
    image_dir, tmp_path, checkpoints
):
    from wincli.errors import InputError

    src = checkpoints["rescaling-x2"]
    run = tmp_path / "cont"
    train(_opts(image_dir, run, steps=2, init_from=str(src), lr=0.0, warmup=1))
    # lr 0: the weights stay exactly the shipped ones, so the run really started from them
    start, after = load_state(src), load_state(run / "model.safetensors")
    assert start.keys() == after.keys()
    assert all(torch.equal(start[k], after[k]) for k in start)
    state = json.loads((run / "state.json").read_text())
    assert state["step"] == 2 and state["options"]["init_from"] == str(src)
    with pytest.raises(InputError, match="not rescaling-x2"):
        train(_opts(image_dir, tmp_path / "bad", init_from=str(checkpoints["decolorization"])))
    with pytest.raises(InputError, match="not a file or a registry name"):
        train(_opts(image_dir, tmp_path / "bad2", init_from="no-such-model"))


def test_init_from_a_registry_name(image_dir, tmp_path):
    run = tmp_path / "reg"
    train(_opts(image_dir, run, steps=1, init_from="rescaling-x2-win-cpu", lr=0.0))
    from wincli.weights import default_record, resolve

    shipped = load_state(resolve(default_record("rescaling", scale=2))[0])
    after = load_state(run / "model.safetensors")
    assert all(torch.equal(shipped[k], after[k]) for k in shipped)


def test_init_from_keeps_the_lambda_forward_the_checkpoint_was_trained_with(image_dir, tmp_path):
    """A continuation at the default weight (2) instead of the recipe's (10 for decolorization)
    silently traded gray-image PSNR for colour; the weight now comes with the checkpoint."""
    import shutil

    def weight(run):
        return json.loads((run / "state.json").read_text())["options"]["lambda_forward"]

    kw = dict(task="decolorization", steps=1, lr=0.0, val_every=1, ckpt_every=1)
    registry = tmp_path / "registry"
    train(_opts(image_dir, registry, init_from="decolorization-win-cpu", **kw))
    assert weight(registry) == 10.0  # weights/registry.json: the recipe's lambda_forward
    from_run = tmp_path / "from-run"
    train(_opts(image_dir, from_run, init_from=str(registry / "model.safetensors"), **kw))
    assert weight(from_run) == 10.0  # the state.json beside the file
    given = tmp_path / "given"
    train(_opts(image_dir, given, init_from="decolorization-win-cpu", lambda_forward=3.0, **kw))
    assert weight(given) == 3.0
    bare = tmp_path / "bare.safetensors"
    shutil.copy(registry / "model.safetensors", bare)
    train(_opts(image_dir, tmp_path / "bare-run", init_from=str(bare), **kw))
    assert weight(tmp_path / "bare-run") == 2.0  # nothing says otherwise: the default


def test_log_carries_the_divergence_diagnostics(image_dir, tmp_path):
    run = tmp_path / "diag"
    train(_opts(image_dir, run, task="hiding", steps=4, log_every=2, ste="identity"))
    recs = [r for r in _log(run) if "total" in r]
    assert recs and all(
        {"grad_norm", "s_min", "s_max", "add_max", "wim_act_max", "wic_cond", "out_of_range"}
        <= set(r)
        for r in recs
    )
    r = recs[-1]
    assert len(r["s_min"]) == len(r["add_max"]) > 0 and min(r["wic_cond"]) >= 1.0
    assert 0.0 <= r["out_of_range"] <= 1.0 and r["grad_norm"] > 0
    assert json.loads((run / "state.json").read_text())["options"]["ste"] == "identity"


def test_resume_refuses_a_changed_recipe(image_dir, tmp_path):
    from wincli.errors import InputError

    run = tmp_path / "r"
    train(_opts(image_dir, run, steps=2))
    with pytest.raises(InputError, match="--lr 0.0001 differs"):
        train(TrainOptions(resume=str(run), lr=1e-4))
    with pytest.raises(InputError, match="--batch 4 differs"):
        train(TrainOptions(resume=str(run), batch=4))
    with pytest.raises(InputError, match="--warmup 7 differs"):  # was silently dropped
        train(TrainOptions(resume=str(run), warmup=7))
    with pytest.raises(InputError, match="--seed 0 differs"):  # zero is a value too
        train(TrainOptions(resume=str(run), seed=0))
    train(TrainOptions(resume=str(run), lr=2e-3, steps=3))  # the same value is fine


def test_init_from_grows_couplings_and_dense_blocks_but_never_shrinks(
    image_dir, tmp_path, checkpoints
):
    from wincli.checkpoint import load_model
    from wincli.errors import InputError

    src = checkpoints["rescaling-x2"]
    run = tmp_path / "grown"
    train(_opts(image_dir, run, steps=2, init_from=str(src), couplings=3, lr=0.0))
    grown, start = load_model(run / "model.safetensors"), load_model(src)
    assert (start.config.couplings, grown.config.couplings) == (1, 3)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():  # lr 0: still exactly the checkpoint's function
        assert torch.equal(grown(x), start(x))
    train(_opts(image_dir, run, resume=str(run), steps=3, lr=0.0))  # resumes the grown network
    assert load_model(run / "model.safetensors").config.couplings == 3
    with pytest.raises(InputError, match="can grow, not shrink"):
        train(
            _opts(
                image_dir, tmp_path / "less", init_from=str(run / "model.safetensors"), couplings=2
            )
        )
    with pytest.raises(InputError, match="can grow, not shrink"):
        train(_opts(image_dir, tmp_path / "narrower", init_from=str(src), growth=8))
    with pytest.raises(InputError, match="only couplings"):
        train(_opts(image_dir, tmp_path / "w", init_from=str(src), grow=["width=64"]))
    with pytest.raises(InputError, match="--init-from"):
        train(_opts(image_dir, tmp_path / "alone", grow=["paper"]))
    wider = tmp_path / "wider"
    train(_opts(image_dir, wider, steps=1, init_from=str(src), grow=["growth=24"], lr=0.0))
    net = load_model(wider / "model.safetensors")
    assert net.config.growth == 24
    with torch.no_grad():
        assert (net(x) - start(x)).abs().max() < 1e-5


def test_tiny_images_are_skipped_with_a_warning_even_when_held_out(image_dir, tmp_path):
    import hashlib

    from typer.testing import CliRunner

    from wincli.cli import app

    # a 1x1 image whose name the hash puts first: it is the one held out
    names = [p.name for p in image_dir.iterdir()]
    tiny = min(
        (f"tiny{i}.png" for i in range(200)),
        key=lambda n: hashlib.sha256(n.encode()).hexdigest(),
    )
    assert hashlib.sha256(tiny.encode()).hexdigest() < min(
        hashlib.sha256(n.encode()).hexdigest() for n in names
    )
    Image.new("RGB", (1, 1)).save(image_dir / tiny)
    res = CliRunner().invoke(app, [
        "train", "--data", str(image_dir), "--task", "rescaling", "--holdout", "1",
        "--steps", "2", "--patch", "32", "--batch", "2", "--threads", "1",
        "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "under 16 px" in res.output
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_jpeg_run_is_validated_after_jpeg_and_resumes_exactly(image_dir, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    kw = dict(jpeg="70-95", steps=8, val_every=8, ckpt_every=4)
    train(_opts(image_dir, straight, **kw))
    train(_opts(image_dir, split, stop_at=4, **kw))
    train(TrainOptions(resume=str(split)))
    a, b = load_state(straight / "model.safetensors"), load_state(split / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    # validation goes through JPEG: on a trained model each lower quality costs reverse PSNR
    # (eight steps from scratch are too early for that ordering to be reliable)
    trained = tmp_path / "trained"
    train(_opts(image_dir, trained, jpeg="70-95", steps=1, val_every=1, lr=0.0,
                init_from="rescaling-x2-win-cpu"))  # fmt: skip
    v = [r for r in _log(trained) if "val_reverse_psnr_q90" in r][-1]
    assert v["val_reverse_psnr_q75"] < v["val_reverse_psnr_q90"] < v["val_reverse_psnr"] - 1.0
    with pytest.raises(Exception, match="--jpeg"):
        train(_opts(image_dir, tmp_path / "bad", jpeg="95-70"))


def test_threads_mean_the_same_as_in_conversion(tmp_path):
    """Unset: all cores (torch's default); 0 is refused; an older run's saved 0 resumes as unset."""
    from wincli.errors import InputError
    from wincli.train.options import check_options, resumed

    assert resolve_threads(TrainOptions()) is None
    with pytest.raises(InputError, match="--threads must be positive"):
        check_options(TrainOptions(threads=0))
    assert resumed({"threads": 0, "task": "rescaling"}, TrainOptions(), tmp_path).threads is None
    assert resumed({"threads": 0}, TrainOptions(threads=2), tmp_path).threads == 2


def resolve_threads(opts):
    from wincli.train.options import resolve

    return resolve(opts, torch.device("cpu")).threads
