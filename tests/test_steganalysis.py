"""Steganalysis: SPAM features, P_E / AUC, and the script's controls on tiny images."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, smooth_image
from wincli.steganalysis import auc, detect, lsb_matching_full, p_error, spam, spam_rgb


def test_pe_and_auc_on_known_scores():
    assert p_error(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 0.0
    assert auc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0
    same = np.arange(10.0)
    assert auc(same, same) == 0.5
    # one cover above one stego out of two each: the best threshold errs on one of four
    assert p_error(np.array([0.0, 3.0]), np.array([1.0, 2.0])) == 0.25


def test_spam_is_the_reference_cooccurrence():
    flat = np.full((20, 20), 100, np.uint8)
    f = spam(flat)
    assert f.shape == (686,)
    centre = (3 * 7 + 3) * 7 + 3  # all three differences 0
    assert f[centre] == 1.0 and f[343 + centre] == 1.0 and f.sum() == 2.0
    g = spam(smooth_image(40, 40)[..., 0])
    assert abs(g[:343].sum() - 1) < 1e-12 and abs(g[343:].sum() - 1) < 1e-12
    assert spam_rgb(smooth_image(24, 24)).shape == (2058,)


def test_spam_matches_sealwatch_when_installed():
    from wincli.steganalysis import import_sealwatch

    try:
        import_sealwatch()
    except ImportError as exc:
        pytest.skip(f"optional: {exc}")
    img = smooth_image(40, 48, seed=3)
    assert np.allclose(spam_rgb(img, "sealwatch"), spam_rgb(img), atol=1e-12)


def test_detector_catches_full_lsb_matching_on_smooth_images():
    from PIL import ImageFilter

    covers = [
        np.asarray(
            Image.fromarray(smooth_image(48, 48, seed=s)).filter(ImageFilter.GaussianBlur(2))
        )
        for s in range(24)
    ]  # noise-free content: the +-1 noise is what the features see
    fc = np.stack([spam_rgb(c) for c in covers])
    fs = np.stack([spam_rgb(lsb_matching_full(c, i)) for i, c in enumerate(covers)])
    assert detect(fc, fs, splits=3)["pe_mean"] < 0.1


def test_script_runs_both_controls_and_writes_strict_json(tmp_path, checkpoints):
    import subprocess

    for s in range(10):
        Image.fromarray(smooth_image(128, 128, seed=s)).save(tmp_path / f"p{s}.png")
    out = tmp_path / "res.json"
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts/steganalysis.py"), "--data", str(tmp_path),
         "--crop", "96", "--splits", "2", "--out", str(out),
         "--weights", str(checkpoints["hiding-1"]),
         "--schemes", "control", "hiding-1", "LSB", "stealth 0.2"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows = json.loads(out.read_text())["rows"]
    assert all(k.split(" (")[0] in res.stdout for k in rows)  # the table names every scheme
    assert any("negative control" in k for k in rows) and any("positive" in k for k in rows)
    assert len(rows) == 6  # the two controls, WIN, LSB matching and replacement, stealth
    assert all(0.0 <= r["pe_mean"] <= 0.5 for r in rows.values())
