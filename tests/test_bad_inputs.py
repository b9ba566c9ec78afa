"""The corpus of bad inputs as one table: each case must end in exit code 2, one line on
stderr starting with "error:", no new file and untouched inputs (issue: nothing lost)."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import smooth_image
from wincli.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, checkpoints):
    d = tmp_path_factory.mktemp("corpus")
    good = d / "good.png"
    Image.fromarray(smooth_image(32, 32)).save(good)
    (d / "text.png").write_text("not an image\n")
    (d / "empty.png").write_bytes(b"")
    (d / "trunc.png").write_bytes(good.read_bytes()[:200])
    Image.new("RGB", (1, 1)).save(d / "tiny.png")
    Image.new("1", (20000, 20000)).save(d / "bomb.png")  # 400 MP: a decompression bomb
    (d / "emptydir").mkdir()
    (d / "model.pt").write_bytes(b"\x80\x04pickle")
    (d / "afile.txt").write_text("x")
    from wincli.checkpoint import load_model
    from wincli.encoder import build_encoder, inverse_id, save_encoder

    x4 = load_model(checkpoints["rescaling-x4"])  # an encoder that serves another inverse
    save_encoder(build_encoder(x4), d / "enc-x4.safetensors", inverse_id(x4), {})
    from wincli.lattice import hide_jpeg

    cover = smooth_image(192, 256, seed=4)
    stego, _ = hide_jpeg(cover, [smooth_image(48, 64, seed=5)])
    Image.fromarray(stego[:, 24:]).save(d / "cropped-jpeg-stego.png")  # into the payload
    from wincli.stealth import hide_stealth

    stego, _ = hide_stealth(cover, [smooth_image(24, 24, seed=5)], payload=0.2)
    Image.fromarray(stego[:, 1:]).save(d / "cropped-stealth-stego.png")  # one column off
    data = d / "data"
    data.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(72, 72, i)).save(data / f"im{i}.png")
    hidden = ["hide", str(data / "im0.png"), str(data / "im1.png"), "-o", str(d / "win-stego.png")]
    assert runner.invoke(app, [*hidden, "--weights", str(checkpoints["hiding-1"])]).exit_code == 0
    return d, checkpoints


BAD = ["missing.png", "text.png", "empty.png", "trunc.png", "tiny.png", "bomb.png", "emptydir"]

CASES = []
STEALTH_HIDE = ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "stealth")
for name in BAD:
    bad = "{" + name + "}"
    CASES += [
        ("hide", bad, "{good.png}", "-o", "{out}/s.png", "--weights", "[hiding-1]"),
        ("hide", "{good.png}", bad, "-o", "{out}/s.png", "--weights", "[hiding-1]"),
        ("hide", bad, "{good.png}", "-o", "{out}/s.png", "--method", "lsb"),
        ("reveal", bad, "-o", "{out}/r", "--weights", "[hiding-1]"),
        ("downscale", bad, "-o", "{out}/l.png", "--weights", "[rescaling-x2]"),
        ("upscale", bad, "-o", "{out}/u.png", "--weights", "[rescaling-x2]"),
        ("decolorize", bad, "-o", "{out}/g.png", "--weights", "[decolorization]"),
        ("colorize", bad, "-o", "{out}/c.png", "--weights", "[decolorization]"),
    ]
for name in ["o.pdf", "o.ico", "o.xyz", "noext", "o.jpg", "nodir/o.png", "x" * 300 + ".png"]:
    CASES.append(("downscale", "{good.png}", "-o", "{out}/" + name, "--weights", "[rescaling-x2]"))
CASES += [
    ("downscale", "{good.png}", "-o", "-", "--weights", "[rescaling-x2]"),
    ("downscale", "{good.png}", "-o", "{good.png}", "--weights", "[rescaling-x2]"),
    ("downscale", "{good.png}", "--scale", "3", "-o", "{out}/l.png"),
    ("downscale", "{good.png}", "--tile", "big", "-o", "{out}/l.png"),
    ("downscale", "{good.png}", "--tile", "8", "-o", "{out}/l.png"),
    ("downscale", "{good.png}", "--device", "tpu", "-o", "{out}/l.png"),
    ("downscale", "{good.png}", "--refine", "-1", "-o", "{out}/l.png"),
    ("decolorize", "{good.png}", "--refine", "5000", "-o", "{out}/g.png"),
    ("downscale", "{good.png}", "--refine", "many", "-o", "{out}/l.png"),
    ("downscale", "{good.png}", "--half", "-o", "{out}/l.png", "--weights", "[rescaling-x2]"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--weights", "{missing.safetensors}"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--weights", "{model.pt}"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--weights", "[decolorization]"),
    (
        "downscale",
        "{good.png}",
        "-o",
        "{out}/l.png",
        "--weights",
        "[rescaling-x2]",
        "--encoder",
        "{enc-x4.safetensors}",
    ),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--encoder", "{enc-x4.safetensors}"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--encoder", "{missing.safetensors}"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--encoder", "{model.pt}"),
    ("downscale", "{good.png}", "-o", "{out}/l.png", "--threads", "0"),
    ("upscale", "{good.png}", "-o", "{out}/u.png", "--threads", "-2"),
    ("hide", "{data}", "{data}", "-o", "{out}/f", "--method", "lsb", "--codec", "gif"),
    ("hide", "{data}", "{data}", "-o", "{out}/f", "--method", "lsb", "--bits", "9"),
    ("reveal", "{good.png}", "-n", "5"),
    ("reveal", "{data/im0.png}", "-o", "{out}/r", "--weights", "[hiding-1]"),  # nothing hidden
    ("reveal", "{win-stego.png}", "-n", "2", "-o", "{out}/r", "--weights", "[hiding-2]"),
    ("reveal", "{win-stego.png}", "-o", "{out}/r", "--weights", "[rescaling-x2]"),
    ("hide", "{good.png}", *["{good.png}"] * 5, "-o", "{out}/s.png"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "lsb", "--bits", "7"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "lsb", "--codec", "gif"),
    ("hide", "{tiny16.png}", "{good.png}", "-o", "{out}/s.png", "--method", "lsb"),
    ("reveal", "{good.png}", "--method", "lsb", "-o", "{out}/r"),
    ("hide", "{tiny16.png}", "{good.png}", "-o", "{out}/s.png", "--method", "jpeg"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "jpeg", "--bits", "2"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "jpeg", "--robust"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "jpeg", "--codec", "gif"),
    ("reveal", "{good.png}", "--method", "jpeg", "-o", "{out}/r"),
    ("reveal", "{cropped-jpeg-stego.png}", "--method", "jpeg", "-o", "{out}/r"),
    ("hide", "{tiny16.png}", "{good.png}", "-o", "{out}/s.png", "--method", "stealth"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "stealth", "--bits", "2"),
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--method", "stealth", "--robust"),
    *[(*STEALTH_HIDE, "--payload", bad) for bad in ("0.9", "nan")],
    ("hide", "{good.png}", "{good.png}", "-o", "{out}/s.png", "--payload", "0.1"),
    ("reveal", "{good.png}", "--method", "stealth", "-o", "{out}/r"),
    ("reveal", "{cropped-stealth-stego.png}", "--method", "stealth", "-o", "{out}/r"),
    ("train", "--task", "hiding"),
    ("train", "--data", "{data}", "--task", "hiding", "--secrets", "7", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--patch", "7", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--steps", "0", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--steps", "-3", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--batch", "0", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--lr", "-1", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--threads", "0", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--out", "{afile.txt}"),
    ("train", "--data", "{data}", "--init-from", "no-such-model", "--out", "{out}/t"),
    (
        "train",
        "--data",
        "{data}",
        "--init-from",
        "[rescaling-x2]",
        "--growth",
        "8",
        "--out",
        "{out}/t",
    ),
    (
        "train",
        "--data",
        "{data}",
        "--init-from",
        "rescaling-x2-win-cpu",
        "--couplings",
        "1",
        "--growth",
        "8",
        "--out",
        "{out}/t",
    ),
    ("train", "--data", "{data}", "--ste", "magic", "--out", "{out}/t"),
    ("train", "--data", "{data}", "--holdout", "5", "--out", "{out}/t"),
    ("train", "--resume", "{out}/no-run"),
    ("eval", "--task", "rescaling", "--data", "{data}", "--save-images", "{afile.txt}"),
    ("eval", "--task", "rescaling", "--data", "{emptydir}"),
    ("eval", "--task", "hiding", "--secrets", "7", "--data", "{data}"),
    ("eval", "--task", "hiding", "--secrets", "0", "--data", "{data}"),
]


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(c)[:60])
def test_bad_input_is_one_clean_line(case, corpus, tmp_path):
    d, ckpt = corpus
    Image.fromarray(smooth_image(16, 16)).save(d / "tiny16.png")
    out = tmp_path / "out"
    out.mkdir()

    def fill(arg: str) -> str:
        if arg.startswith("[") and arg.endswith("]"):
            return str(ckpt[arg[1:-1]])
        return arg.replace("{out}", str(out)).replace("{", str(d) + "/").replace("}", "")

    before = _digest(d)
    res = runner.invoke(app, [fill(a) for a in case])
    text = res.output.strip()
    assert res.exit_code == 2, text
    # the model's status note comes with an output, so a failure says one line (and warnings)
    lines = [ln for ln in text.splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error:"), text
    assert "Traceback" not in text
    assert list(out.iterdir()) == []  # nothing written, no temp files
    assert _digest(d) == before  # inputs untouched
