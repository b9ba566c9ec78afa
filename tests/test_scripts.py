"""The example batch scripts in scripts/ run on a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import REPO, smooth_image


@pytest.fixture
def env(checkpoints, tmp_path):
    # `win` as the scripts call it: this interpreter's package, no install needed
    shim = tmp_path / "win"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m wincli "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "WIN": str(shim), "PYTHONPATH": str(REPO)}


def _folder(path: Path, n: int, seed: int, size: tuple[int, int] = (32, 40)) -> Path:
    path.mkdir()
    for i in range(n):
        Image.fromarray(smooth_image(*size, seed + i)).save(path / f"img{i}.png")
    return path


@pytest.mark.slow
def test_batch_hide_and_reveal(tmp_path, env, checkpoints):
    covers = _folder(tmp_path / "covers", 2, 0)
    secrets = _folder(tmp_path / "secrets", 3, 10)
    w = str(checkpoints["hiding-1"])
    r = subprocess.run(
        [
            "bash",
            REPO / "scripts/batch_hide.sh",
            covers,
            secrets,
            tmp_path / "stego",
            "--weights",
            w,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "stego").iterdir()) == ["img0.png", "img1.png"]
    r = subprocess.run(
        [
            "bash",
            REPO / "scripts/batch_reveal.sh",
            tmp_path / "stego",
            tmp_path / "rev",
            "--weights",
            w,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "rev" / "img1" / "secret1.png").exists()


@pytest.mark.slow
def test_batch_downscale_roundtrip(tmp_path, env, checkpoints):
    photos = _folder(tmp_path / "photos", 2, 0)
    env = {**env, "WIN_ARGS": f"--weights {checkpoints['rescaling-x2']}"}
    r = subprocess.run(
        [
            "bash",
            REPO / "scripts/batch_downscale.sh",
            photos,
            tmp_path / "small",
            "2",
            "--roundtrip",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "small" / "restored" / "img0.png").size == (40, 32)


def test_usage_errors(env):
    r = subprocess.run(
        ["bash", REPO / "scripts/batch_hide.sh"], env=env, capture_output=True, text=True
    )
    assert r.returncode == 2 and "usage" in r.stderr


def test_bench_speed_prints_a_row_per_model(tmp_path):
    args = (
        "--size 32 --tiled 64 --tile 32 --tasks hiding-1 rescaling-x2 --presets cpu --repeat 1 "
        "--formats channels_last contiguous --peers"
    )
    r = subprocess.run(
        [sys.executable, REPO / "scripts/bench_speed.py", *args.split()],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    rows = [
        line
        for line in r.stdout.splitlines()
        if line.startswith("| hiding-1") or line.startswith("| rescaling-x2")
    ]
    assert len(rows) == 8 + 4  # whole image and tiled, in two formats, for each model; peers
    assert sum("-style, " in line for line in rows) == 4
    assert "peak RSS" in r.stdout


def test_heldout_scores_shipped_and_run_checkpoints_on_held_out_groups(tmp_path):
    data = _folder(tmp_path / "train", 5, 40)
    r = subprocess.run(
        [sys.executable, REPO / "scripts/heldout.py", "hiding-1-win-cpu", "--data", data,
         "--holdout", "3", "--crop", "32", "--groups", "4", "--json", tmp_path / "h.json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    import json

    got = json.loads((tmp_path / "h.json").read_text())["hiding-1-win-cpu"]
    assert got["samples"] == 4 and got["task"] == "hiding-1"
    assert 20 < got["stego_psnr"] < 60 and 10 < got["secret_psnr"] < 60


def test_heldout_gives_the_speed_quality_curve(tmp_path):
    """One row per (encoder, refinement steps), each with the seconds it took to store: the
    refined row restores better than the row it starts from and takes longer."""
    data = _folder(tmp_path / "train", 4, 48)
    r = subprocess.run(
        [sys.executable, REPO / "scripts/heldout.py", "rescaling-x2-win-cpu", "--data", data,
         "--holdout", "2", "--crop", "48", "--encoder", "none", "--encoder", "auto",
         "--refine", "0", "--refine", "3", "--json", tmp_path / "h.json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    import json

    got = json.loads((tmp_path / "h.json").read_text())
    enc = "rescaling-x2-win-cpu + auto"
    assert set(got) == {"rescaling-x2-win-cpu", "rescaling-x2-win-cpu + refine 3", enc,
                        f"{enc} + refine 3"}  # fmt: skip
    for start in ("rescaling-x2-win-cpu", enc):
        refined = got[f"{start} + refine 3"]
        assert refined["hr_psnr"] > got[start]["hr_psnr"]
        assert refined["store_s"] > got[start]["store_s"] > 0


def test_train_gpu_chunks_resume_and_copy_back(tmp_path):
    """Dry run of the GPU campaign on the CPU: pack a data subset (without the photos that
    `win train` and scripts/heldout.py hold out), two time-limited chunks (the second resumes
    the first), the run directory copied to --out each time."""
    import json

    from wincli.train.data import find_images, split_holdout

    def train_gpu(args):
        cmd = [sys.executable, REPO / "scripts/train_gpu.py", *args]
        res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr

    src = tmp_path / "photos"
    src.mkdir()
    for i in range(14):
        Image.fromarray(smooth_image(72, 80, i)).save(src / f"img{i}.png")
    data = tmp_path / "pack"
    train_gpu(["--pack", str(src), "--pack-dir", str(data), "--pack-mb", "1"])
    _, held = split_holdout(find_images([src]), 6)
    packed = {p.name for p in data.iterdir()}
    assert len(packed) == 8 and not packed & {f"photos_{p.name}" for p in held}
    common = [
        "rescaling-x2", "--data", str(data), "--root", str(tmp_path / "runs"),
        "--preset", "cpu", "--steps", "6", "--batch", "2", "--patch", "32",
        "--val-every", "2", "--device", "cpu", "--chunk-s", "0",
    ]  # fmt: skip
    train_gpu([*common, "--out", str(tmp_path / "out1")])
    first = json.loads((tmp_path / "runs/rescaling-x2/state.json").read_text())["step"]
    assert first == 1  # a zero-second chunk stops (and checkpoints) after its first step
    train_gpu([*common, "--out", str(tmp_path / "out2")])
    state = json.loads((tmp_path / "out2/state.json").read_text())
    assert state["step"] == 2 and state["options"]["preset"] == "cpu"
    assert (tmp_path / "out2/model.safetensors").exists()
    # a continuation of a shipped checkpoint with its own recipe (how x4 was trained on a GPU)
    cont = [*common[:4], str(tmp_path / "cont"), *common[5:]]
    train_gpu([*cont, "--init-from", "rescaling-x2-win-cpu", "--lambda-forward", "1"])
    opts = json.loads((tmp_path / "cont/rescaling-x2/state.json").read_text())["options"]
    assert opts["init_from"] == "rescaling-x2-win-cpu" and opts["lambda_forward"] == 1.0


@pytest.mark.slow
def test_cli_roundtrip_measures_what_the_cli_writes(tmp_path, env):
    """scripts/cli_roundtrip.py (the outsider's measurement: the CLI on files, numpy PSNR, no
    shave) agrees with the converter's own output measured in-process."""
    import re

    import torch

    from wincli.converter import Converter
    from wincli.io import read_image
    from wincli.metrics import psnr

    folder = _folder(tmp_path / "hr", 2, 3)
    env = {**env, "PATH": f"{tmp_path}{os.pathsep}{env['PATH']}"}  # the `win` shim
    r = subprocess.run(
        [sys.executable, REPO / "scripts/cli_roundtrip.py", "rescaling", "--scale", "2",
         "--data", folder, "--forward-args=--refine 0"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = {
        m[1]: float(m[2]) for m in re.finditer(r"\| (img\d) \| lr [\d.]+ \| hr ([\d.]+)", r.stdout)
    }
    assert sorted(got) == ["img0", "img1"] and "| mean of 2 |" in r.stdout
    conv = Converter.load("rescaling", scale=2, refine=0)
    for name, value in got.items():
        x, _ = read_image(folder / f"{name}.png")
        with torch.inference_mode():
            hr = conv.inverse(conv.forward(x), size=tuple(x.shape[-2:]))
        assert abs(psnr(hr, x) - value) < 0.01


def test_stealth_hiding_measures_each_payload_beside_lsb(tmp_path):
    d = _folder(tmp_path / "pairs", 4, 50, (160, 160))
    r = subprocess.run(
        [sys.executable, REPO / "scripts/stealth_hiding.py", "--data", d, "--crop", "128",
         "--payload", "0.1", "0.3"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = [ln.split("|")[1:-1] for ln in r.stdout.splitlines() if ln.startswith("| --method")]
    assert [row[0].strip() for row in rows] == [
        "--method stealth --payload 0.1", "--method stealth --payload 0.3", "--method lsb (1 bit)"
    ]  # fmt: skip
    bpp = [float(row[3]) for row in rows]
    assert bpp[0] < bpp[1] < bpp[2]  # more payload, a larger secret stream


@pytest.mark.slow
def test_reveal_nothing_measures_every_statistic_against_genuine_reveals(tmp_path):
    d = _folder(tmp_path / "photos", 5, 60, (96, 96))
    feats = tmp_path / "feats.json"
    r = subprocess.run(
        [sys.executable, REPO / "scripts/reveal_nothing.py", "--data", d, "--groups", "2",
         "--side", "64", "--out", feats],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("16 genuine reveals, 16 photos, 96 wrong -n")
    rows = [ln.split("|")[1:-1] for ln in r.stdout.splitlines() if ln.startswith("| ")]
    names = [row[0].strip() for row in rows]
    assert "ghost (high)" in names and "logistic regression, all" in names
    assert "hiding-4-win-paper" in names
    again = subprocess.run(
        [sys.executable, REPO / "scripts/reveal_nothing.py", "--load", feats],
        capture_output=True, text=True,
    )  # fmt: skip
    assert again.stdout == r.stdout  # the table comes from the statistics alone


@pytest.mark.slow
def test_seal_check_gets_every_case_right(tmp_path):
    d = _folder(tmp_path / "photos", 3, 70, (400, 400))
    r = subprocess.run(
        [sys.executable, REPO / "scripts/seal_check.py", "--data", d, "--groups", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| genuine | accepted | 8 |" in r.stdout and "wrong outcomes: 0 of" in r.stdout


@pytest.mark.slow
def test_time_12mp_runs_both_commands_of_a_model_on_12_megapixels(tmp_path):
    photo = tmp_path / "p.png"
    Image.fromarray(smooth_image(60, 80, 5)).save(photo)
    r = subprocess.run(
        [sys.executable, REPO / "scripts/time_12mp.py", "--photo", photo, "--models",
         "decolorization-win-cpu", "--work", tmp_path / "w"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    row = [ln.split("|")[1:-1] for ln in r.stdout.splitlines() if "decolorization-win" in ln][0]
    assert all(float(v) > 0 for v in row[1:])
    with Image.open(tmp_path / "w" / "decolorization-win-cpu-color.png") as im:
        assert im.size == (4000, 3000)  # the colour came back at 12 MP
    r = subprocess.run(
        [sys.executable, REPO / "scripts/time_12mp.py", "--photo", photo, "--models", "nope"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode != 0 and "not in the registry: nope" in r.stderr
