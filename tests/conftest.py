"""Shared fixtures: small generated images and checkpoints made in code (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"

needs_data = pytest.mark.skipif(
    not (DATA / "eval").is_dir(), reason="../shared/data is absent (evaluation images)"
)


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like (H, W, 3) uint8 image: smooth colour fields plus mild texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.zeros((h, w, 3))
    for c in range(3):
        a, b, f = rng.uniform(0.2, 0.8, 3)
        img[..., c] = 0.5 + 0.3 * np.sin(2 * np.pi * (a * xx * 3 + b * yy * 2) + f * 6)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def perturb(net: torch.nn.Module, scale: float = 0.02, seed: int = 0) -> torch.nn.Module:
    """Move every coupling's zero-initialised last conv off zero (no longer the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if ".last." in name:
                p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)
    return net


@pytest.fixture
def image_file(tmp_path):
    def make(name="img.png", h=48, w=64, seed=0, mode="RGB"):
        arr = smooth_image(h, w, seed)
        im = Image.fromarray(arr)
        if mode != "RGB":
            im = im.convert(mode)
        path = tmp_path / name
        im.save(path)
        return path

    return make


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """Small (cpu preset) checkpoints per task, task-aware initialised on generated images."""
    from wincli.checkpoint import save_model
    from wincli.io import from_uint8
    from wincli.models import build_model
    from wincli.tasks import parse_task

    root = tmp_path_factory.mktemp("ckpt")
    out = {}
    for name in ("hiding-1", "hiding-2", "rescaling-x2", "rescaling-x4", "decolorization"):
        task = parse_task(name)
        torch.manual_seed(0)
        net = build_model(preset="cpu", **task.kwargs())
        x = task.pack([from_uint8(smooth_image(32, 32, s)) for s in range(task.images_per_sample)])
        net.init_task_aware(x, net.config.spec.target(x))
        perturb(net, 0.002)
        path = root / f"{name}.safetensors"
        save_model(net, path)
        out[name] = path
    return out
