"""The `win` command line on real files: round trips and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import smooth_image
from wincli.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _one_line_error(res):
    assert res.exit_code != 0
    out = res.output.strip()
    assert "Traceback" not in out
    assert len(out.splitlines()) == 1, out
    assert out.startswith("error:"), out


def test_version_and_help():
    res = run("--version")
    assert res.exit_code == 0 and res.output.startswith("win ")
    import torch

    from wincli.precision import bf16_hardware

    fast, why = bf16_hardware(torch.device("cpu"))
    assert "precision auto on cpu: " + ("bf16 for models" if fast else "fp32") in res.output
    assert why in res.output
    listed = run("models", "list", "--verbose")
    assert listed.exit_code == 0 and "precision auto on cpu" in listed.output
    assert "auto precision" in listed.output
    assert run("--help").exit_code == 0


def test_hide_reveal_round_trip(tmp_path, image_file, checkpoints):
    cover = image_file("cover.png", 40, 52, seed=1)
    secret = image_file("secret.png", 40, 52, seed=2)
    stego = tmp_path / "stego.png"
    res = run("hide", cover, secret, "-o", stego, "--weights", checkpoints["hiding-1"], "--check")
    assert res.exit_code == 0, res.output
    assert "check" in res.output and "stego" in res.output
    im = Image.open(stego)
    assert im.size == (52, 40) and im.mode == "RGB"
    assert not im.text and "exif" not in im.info  # nothing that gives the stego away
    out = tmp_path / "rev"
    res = run("reveal", stego, "-o", out, "--weights", checkpoints["hiding-1"], "--cover")
    assert res.exit_code == 0, res.output
    assert (out / "secret1.png").exists() and (out / "cover.png").exists()
    assert Image.open(out / "secret1.png").size == (52, 40)


def test_reveal_default_names_next_to_input(tmp_path, image_file, checkpoints):
    stego = image_file("photo.png", 32, 32)  # nothing hidden: revealed with --force
    res = run("reveal", stego, "--weights", checkpoints["hiding-1"], "--force")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "photo_secret1.png").exists()


def test_two_secrets_select_the_model(tmp_path, image_file, checkpoints):
    files = [image_file(f"{i}.png", 32, 32, seed=i) for i in range(3)]
    res = run("hide", *files, "-o", tmp_path / "s.png", "--weights", checkpoints["hiding-2"])
    assert res.exit_code == 0, res.output
    res = run("hide", *files[:2], "-o", tmp_path / "s1.png", "--weights", checkpoints["hiding-2"])
    _one_line_error(res)  # hiding-2 weights with one secret
    assert not (tmp_path / "s1.png").exists()


def test_downscale_upscale_restores_odd_size(tmp_path, image_file, checkpoints):
    hr = image_file("hr.png", 333, 517 // 4, seed=3)  # odd sizes: 129 x 333
    lr = tmp_path / "lr.png"
    res = run("downscale", hr, "--scale", 2, "-o", lr, "--weights", checkpoints["rescaling-x2"])
    assert res.exit_code == 0, res.output
    assert Image.open(lr).size == (65, 167)
    back = tmp_path / "back.png"
    res = run("upscale", lr, "--scale", 2, "-o", back, "--weights", checkpoints["rescaling-x2"])
    assert res.exit_code == 0, res.output
    assert Image.open(back).size == Image.open(hr).size


def test_x4_round_trip(tmp_path, image_file, checkpoints):
    hr = image_file("hr.png", 50, 37, seed=4)
    lr, back = tmp_path / "lr.png", tmp_path / "back.png"
    w = checkpoints["rescaling-x4"]
    assert run("downscale", hr, "-s", 4, "-o", lr, "--weights", w).exit_code == 0
    assert Image.open(lr).size == (10, 13)
    assert run("upscale", lr, "-s", 4, "-o", back, "--weights", w).exit_code == 0
    assert Image.open(back).size == (37, 50)
    res = run(
        "upscale", lr, "-s", 2, "-o", tmp_path / "b2.png", "--weights", checkpoints["rescaling-x2"]
    )
    _one_line_error(res)  # the LR file says it was made at x4


def test_decolorize_colorize(tmp_path, image_file, checkpoints):
    color = image_file("c.png", 40, 40, seed=5)
    gray = tmp_path / "g.png"
    w = checkpoints["decolorization"]
    res = run("decolorize", color, "-o", gray, "--weights", w, "--check")
    assert res.exit_code == 0, res.output
    assert Image.open(gray).mode == "L"
    res = run("colorize", gray, "-o", tmp_path / "c2.png", "--weights", w)
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "c2.png").mode == "RGB"
    _one_line_error(run("colorize", color, "-o", tmp_path / "c3.png", "--weights", w))


def test_batch_folder(tmp_path, image_file, checkpoints):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(32, 40, i)).save(src / f"im{i}.png")
    out = tmp_path / "out"
    res = run("downscale", src, "-o", out, "--weights", checkpoints["rescaling-x2"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["im0.png", "im1.png", "im2.png"]
    _one_line_error(run("downscale", src, "--weights", checkpoints["rescaling-x2"]))
    # a folder of inputs with an image name as -o is a slip, not a folder to create
    res = run("downscale", src, "-o", tmp_path / "lr.png", "--weights", checkpoints["rescaling-x2"])
    _one_line_error(res)
    assert "folder" in res.output and not (tmp_path / "lr.png").exists()
    # -o is checked before the model loads: the slip is what the user hears about
    missing = tmp_path / "none.safetensors"
    res = run("downscale", src, "-o", tmp_path / "lr.png", "--weights", missing)
    _one_line_error(res)
    assert "not an image name" in res.output


def test_tiled_cli_matches_untiled(tmp_path, image_file, checkpoints):
    cover = image_file("cover.png", 96, 128, seed=1)
    secret = image_file("secret.png", 96, 128, seed=2)
    w = checkpoints["hiding-1"]
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run("hide", cover, secret, "-o", a, "--weights", w).exit_code == 0
    assert run("hide", cover, secret, "-o", b, "--weights", w, "--tile", 64).exit_code == 0
    diff = np.abs(np.asarray(Image.open(a), float) - np.asarray(Image.open(b), float))
    assert diff.max() <= 1  # at most one 8-bit step from rounding


def test_byte_identical_outputs(tmp_path, image_file, checkpoints):
    hr = image_file("hr.png", 48, 48)
    w = checkpoints["rescaling-x2"]
    run("downscale", hr, "-o", tmp_path / "1.png", "--weights", w)
    run("downscale", hr, "-o", tmp_path / "2.png", "--weights", w)
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()


@pytest.fixture
def bad_inputs(tmp_path, image_file):
    good = image_file("good.png", 32, 32)
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "trunc.png"
    truncated.write_bytes(good.read_bytes()[:200])
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    return dict(
        good=good,
        text=text,
        empty=empty,
        truncated=truncated,
        tiny=tiny,
        missing=tmp_path / "missing.png",
    )


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "truncated", "tiny"])
def test_bad_cover_and_hr(tmp_path, bad_inputs, checkpoints, kind):
    out = tmp_path / "out.png"
    bad = bad_inputs[kind]
    before = bad.read_bytes() if bad.exists() else None
    _one_line_error(
        run("hide", bad, bad_inputs["good"], "-o", out, "--weights", checkpoints["hiding-1"])
    )
    _one_line_error(run("downscale", bad, "-o", out, "--weights", checkpoints["rescaling-x2"]))
    _one_line_error(run("decolorize", bad, "-o", out, "--weights", checkpoints["decolorization"]))
    assert not out.exists()
    if before is not None:
        assert bad.read_bytes() == before  # inputs never modified


def test_other_bad_invocations(tmp_path, bad_inputs, checkpoints):
    good = bad_inputs["good"]
    w = checkpoints["hiding-1"]
    _one_line_error(run("hide", good, good, good, good, good, good, "-o", tmp_path / "x.png"))
    before = good.read_bytes()
    _one_line_error(run("hide", good, bad_inputs["tiny"], "-o", good, "--weights", w))
    _one_line_error(run("downscale", good, "-o", good, "--weights", checkpoints["rescaling-x2"]))
    assert good.read_bytes() == before
    _one_line_error(run("hide", good, good, "-o", tmp_path / "s.jpg", "--weights", w))
    assert not (tmp_path / "s.jpg").exists()
    res = run("hide", good, good, "-o", tmp_path / "s.jpg", "--weights", w, "--force-lossy")
    assert res.exit_code == 0 and (tmp_path / "s.jpg").exists()
    _one_line_error(
        run("hide", good, good, "-o", tmp_path / "d.png", "--device", "tpu", "--weights", w)
    )
    _one_line_error(run("downscale", good, "--scale", 3, "-o", tmp_path / "l.png"))
    _one_line_error(
        run("hide", good, good, "-o", tmp_path / "t.png", "--tile", "big", "--weights", w)
    )
    _one_line_error(run("hide", good, good, "-o", tmp_path / "h.png", "--half", "--weights", w))
    _one_line_error(
        run(
            "hide", good, good, "-o", tmp_path / "w.png", "--weights", tmp_path / "nope.safetensors"
        )
    )
    _one_line_error(run("reveal", good, "-n", 5, "--weights", w))
    _one_line_error(run("train", "--task", "hiding"))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left


def test_eval_command(tmp_path, checkpoints):
    import json

    folder = tmp_path / "set"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(36, 44, i)).save(folder / f"im{i}.png")
    out = tmp_path / "r.json"
    res = run(
        "eval",
        "--task",
        "rescaling",
        "--data",
        folder,
        "--weights",
        checkpoints["rescaling-x2"],
        "--out",
        out,
        "--save-images",
        tmp_path / "figs",
        "--robust-weights",
        checkpoints["rescaling-x2"],
    )
    assert res.exit_code == 0, res.output
    assert "Infinity" not in out.read_text() and "NaN" not in out.read_text()  # strict JSON
    data = json.loads(out.read_text())
    assert "bicubic LR + residual to bicubic in LSB 3-bit" in data["means"]
    for q in (95, 90, 75, 50):  # plain, robust and bicubic after each JPEG quality
        for label in ("WIN 8-bit", "WIN robust", "bicubic down+up"):
            assert f"{label}, LR as JPEG q{q}" in data["means"]
    means = data["means"]  # the same file as plain and as robust: the same numbers
    assert means["WIN robust 8-bit"]["hr_psnr"] == pytest.approx(means["WIN 8-bit"]["hr_psnr"])
    assert {"WIN 8-bit", "WIN float", "bicubic down+up"} <= set(data["means"])
    assert (tmp_path / "figs" / "im0_restored_residual_x20.png").exists()
    res = run(
        "eval",
        "--task",
        "hiding",
        "--data",
        folder,
        "--baselines-only",
        "--out",
        tmp_path / "h.csv",
    )
    assert res.exit_code == 0, res.output
    text = (tmp_path / "h.csv").read_text()
    assert "LSB 4-bit" in text and "WEBP-in-LSB 1-bit" in text and "JPEG-in-LSB 4-bit" in text
    assert text.count("MEAN,LSB") == 7
    _one_line_error(
        run(
            "eval",
            "--task",
            "decolorization",
            "--data",
            folder,
            "--baselines-only",
            "--out",
            tmp_path / "x.txt",
        )
    )


def test_batch_inputs_with_the_same_name_are_refused_before_compute(tmp_path, checkpoints):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        Image.fromarray(smooth_image(32, 32, 1)).save(tmp_path / sub / "img.png")
    out = tmp_path / "out"
    w = checkpoints["rescaling-x2"]
    res = run(
        "downscale", tmp_path / "a/img.png", tmp_path / "b/img.png", "-o", out, "--weights", w
    )
    _one_line_error(res)
    assert "img" in res.output and not out.exists()


@pytest.mark.parametrize("name", ["o.pdf", "o.ico", "o.xyz", "o.gif"])
def test_outputs_that_cannot_hold_the_image_are_refused(tmp_path, image_file, checkpoints, name):
    src = image_file("in.png", 32, 32)
    res = run("downscale", src, "-o", tmp_path / name, "--weights", checkpoints["rescaling-x2"])
    _one_line_error(res)
    assert not (tmp_path / name).exists()


def test_quiet_by_default_and_the_model_status_with_verbose(tmp_path, image_file):
    src = image_file("in.png", 32, 32)
    res = run("downscale", src, "-o", tmp_path / "lr.png")
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines() == [str(tmp_path / "lr.png")]  # one line per file
    res = run("downscale", src, "-o", tmp_path / "lr2.png", "--verbose")
    assert res.exit_code == 0, res.output
    assert "note: " in res.output and "Set5 HR" in res.output


def test_a_failing_command_says_one_line_without_the_status_note(tmp_path):
    bad = tmp_path / "fake.png"
    bad.write_text("not an image")
    res = run("downscale", bad, "-o", tmp_path / "lr.png")  # default weights: they have a note
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert not (tmp_path / "lr.png").exists()


def test_honest_notes_for_lossy_and_foreign_inputs(tmp_path, image_file, checkpoints):
    src = image_file("photo.png", 32, 32)
    jpg = tmp_path / "lr.jpg"
    Image.open(src).save(jpg, quality=90)
    res = run("upscale", jpg, "-o", tmp_path / "up.png", "--weights", checkpoints["rescaling-x2"])
    assert res.exit_code == 0, res.output
    assert "(lossy)" in res.output and "not super-resolution" in res.output
    frames = [Image.fromarray(smooth_image(32, 32, s)) for s in range(2)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    res = run("decolorize", tmp_path / "anim.gif", "-o", tmp_path / "g.png",
              "--weights", checkpoints["decolorization"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "only the first is used" in res.output
    rgb16 = smooth_image(32, 32).astype(np.uint16) * 257
    Image.fromarray(rgb16[..., 0]).save(tmp_path / "g16.png")  # 16-bit gray reference path
    assert "8 bits" in run("downscale", tmp_path / "g16.png", "-o", tmp_path / "o16.png",
                           "--weights", checkpoints["rescaling-x2"]).output  # fmt: skip


def test_hide_over_folders_in_one_process(tmp_path, checkpoints):
    def folder(name, stems, seed):
        d = tmp_path / name
        d.mkdir()
        for i, stem in enumerate(stems):
            Image.fromarray(smooth_image(32, 32, seed + i)).save(d / f"{stem}.png")
        return d

    covers = folder("covers", ["a", "b", "c"], 0)
    s1 = folder("s1", ["a", "c", "d", "e"], 10)
    s2 = folder("s2", ["c", "a", "b"], 20)
    w2 = checkpoints["hiding-2"]
    res = run("hide", covers, s1, s2, "-o", tmp_path / "out", "--weights", w2)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", "c.png"]
    res = run("hide", covers, s1, s2, "-o", tmp_path / "byname", "--weights", w2, "--pair", "name")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "byname").iterdir()) == ["a.png", "c.png"]
    res = run("reveal", tmp_path / "byname", "-n", 2, "-o", tmp_path / "rev", "--weights", w2)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rev" / "a" / "secret2.png").exists()
    _one_line_error(run("hide", covers, s1, "--weights", checkpoints["hiding-1"]))  # no -o DIR
    res = run("hide", covers, s1, "-o", tmp_path / "st.png", "--weights", checkpoints["hiding-1"])
    _one_line_error(res)  # an image name is not a folder to create
    assert "folder" in res.output and not (tmp_path / "st.png").exists()


def test_secret_of_another_aspect_ratio_needs_fit(tmp_path, image_file, checkpoints):
    cover = image_file("cover.png", 32, 64)
    wide = image_file("wide.png", 32, 32)  # 1:1 against 2:1
    near = image_file("near.png", 32, 63)  # within 3%: stretched with a note
    w = checkpoints["hiding-1"]
    res = run("hide", cover, wide, "-o", tmp_path / "s.png", "--weights", w)
    _one_line_error(res)
    assert "--fit" in res.output and not (tmp_path / "s.png").exists()
    for fit in ("stretch", "crop", "pad"):
        res = run("hide", cover, wide, "-o", tmp_path / f"{fit}.png", "--weights", w, "--fit", fit)
        assert res.exit_code == 0 and f"({fit})" in res.output, res.output
    res = run("hide", cover, near, "-o", tmp_path / "n.png", "--weights", w)
    assert res.exit_code == 0 and "(stretch)" in res.output


def test_fit_secret_modes():
    import torch

    from wincli.converter import fit_secret

    sec = torch.rand(1, 3, 20, 10)
    for fit in ("stretch", "crop", "pad"):
        assert fit_secret(sec, (16, 16), fit).shape == (1, 3, 16, 16)
    padded = fit_secret(sec, (16, 16), "pad")
    assert padded[..., :, 0].abs().sum() == 0  # letterboxed: the side columns are black


def test_ctrl_c_while_starting_up_is_one_line_and_130(monkeypatch, capsys):
    import sys
    import types

    from wincli.entry import main

    def interrupted(name):
        raise KeyboardInterrupt

    half_imported = types.ModuleType("wincli.cli")
    half_imported.__getattr__ = interrupted
    monkeypatch.setitem(sys.modules, "wincli.cli", half_imported)
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_one_input_into_a_new_folder_named_with_a_slash(tmp_path, image_file, checkpoints):
    src = image_file("photo.png", 32, 32)
    res = run(
        "downscale", src, "-o", f"{tmp_path / 'new'}/", "--weights", checkpoints["rescaling-x2"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "new" / "photo.png").is_file()


def test_hide_says_when_the_stego_shows(tmp_path):
    """A noise-like cover cannot hide a secret invisibly (the shipped model): the stego is
    written, with a note."""
    rng = np.random.default_rng(0)
    cover, secret = tmp_path / "noise.png", tmp_path / "s.png"
    Image.fromarray((rng.random((64, 80, 3)) * 255).astype(np.uint8)).save(cover)
    Image.fromarray(smooth_image(64, 80, seed=2)).save(secret)
    stego = tmp_path / "st.png"
    res = run("hide", cover, secret, "-o", stego)
    assert res.exit_code == 0 and stego.exists()
    assert "differs visibly from the cover" in res.output
    Image.fromarray(smooth_image(64, 80, seed=3)).save(cover)
    smooth = run("hide", cover, secret, "-o", tmp_path / "ok.png")
    assert smooth.exit_code == 0 and "differs visibly" not in smooth.output


@pytest.mark.parametrize("keep_going", [False, True])
def test_a_folder_run_names_the_bad_file_and_keep_going_finishes_the_rest(
    tmp_path, checkpoints, keep_going
):
    src = tmp_path / "in"
    src.mkdir()
    for i in (1, 2):
        Image.fromarray(smooth_image(40, 48, i)).save(src / f"b{i}.png")
    (src / "a_broken.png").write_bytes(b"not a png")  # sorted first
    out = tmp_path / "out"
    args = ["decolorize", src, "-o", f"{out}/", "--weights", checkpoints["decolorization"]]
    res = run(*args, *(["--keep-going"] if keep_going else []))
    assert res.exit_code == 2
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert "a_broken.png" in errors[0] and "Traceback" not in res.output
    written = sorted(p.name for p in out.glob("*.png")) if out.exists() else []
    if keep_going:
        assert written == ["b1.png", "b2.png"]
        assert errors[-1] == "error: 1 of 3 inputs failed (reported above)"
    else:
        assert written == [] and len(errors) == 1


def test_check_prints_the_whole_image_psnr_a_user_measures(tmp_path, image_file, checkpoints):
    from wincli.metrics import psnr

    src = image_file("photo.png", 40, 52, seed=4)
    lr = tmp_path / "lr.png"
    res = run("downscale", src, "-o", lr, "--weights", checkpoints["rescaling-x2"], "--check")
    assert res.exit_code == 0, res.output
    hr = tmp_path / "hr.png"
    assert run("upscale", lr, "-o", hr, "--weights", checkpoints["rescaling-x2"]).exit_code == 0
    measured = psnr(np.asarray(Image.open(hr)), np.asarray(Image.open(src)))
    line = next(x for x in res.output.splitlines() if x.startswith("check"))
    assert f"hr {measured:.2f} dB" in line and "shaved (the paper's protocol)" in line


def test_models_list_keeps_names_whole_in_task_order():
    from wincli.weights import load_registry

    res = runner.invoke(app, ["models", "list"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    names = [r.name for r in load_registry()]
    at = {n: res.output.find(f" {n} ") for n in names}
    assert all(i >= 0 for i in at.values()), at  # no name cut or wrapped
    shown = sorted(names, key=at.get)
    tasks = [n.split("-")[0] for n in shown]
    assert tasks == sorted(tasks, key=["hiding", "rescaling", "decolorization"].index)
    hiding = [n for n in shown if n.startswith("hiding")]
    assert hiding == sorted(hiding)


def test_weights_takes_a_registry_name(tmp_path, image_file):
    src = image_file("photo.png", 40, 52, seed=8)
    by_name, default = tmp_path / "a.png", tmp_path / "b.png"
    res = run("decolorize", src, "-o", by_name, "--weights", "decolorization-win-cpu")
    assert res.exit_code == 0, res.output
    assert run("decolorize", src, "-o", default, "--precision", "auto").exit_code == 0
    assert by_name.read_bytes() == default.read_bytes()
    res = run("decolorize", src, "-o", tmp_path / "c.png", "--weights", "hiding-1-win-cpu")
    _one_line_error(res)
    assert "is a hiding-1 model, not decolorization" in res.output


@pytest.mark.parametrize(
    "command",
    [[], ["hide"], ["reveal"], ["downscale"], ["upscale"], ["decolorize"], ["colorize"],
     ["train"], ["eval"], ["models", "list"]],
)  # fmt: skip
def test_help_shows_no_type_placeholder_for_flags_and_text_options(command):
    res = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "<bool>" not in res.output and "<str>" not in res.output, res.output


def test_hide_says_when_the_stego_is_much_larger_than_a_smooth_cover(tmp_path, checkpoints):
    yy, xx = np.mgrid[0:64, 0:64] / 64
    cover = tmp_path / "flat.png"
    Image.fromarray((np.stack([xx, yy, 0.5 + 0 * xx], -1) * 255).astype(np.uint8)).save(cover)
    secret = tmp_path / "s.png"
    Image.fromarray(smooth_image(64, 64, 3)).save(secret)
    stego = tmp_path / "st.png"
    res = run("hide", cover, secret, "-o", stego, "--weights", checkpoints["hiding-1"])
    assert res.exit_code == 0, res.output
    ratio = stego.stat().st_size / cover.stat().st_size
    assert ratio > 1.5 and f"{ratio:.1f}x the cover's file size" in res.output
