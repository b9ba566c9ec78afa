"""Training data: any folder of images, decoded once into RAM, random crops on the fly.

>>> images = load_images(find_images(["../shared/data/train"]))      # doctest: +SKIP
>>> ds = PatchDataset(images, cfg, patch=64, seed=0)
>>> x = ds[123]            # (c_in, 64, 64) float in [0, 1]; the same for the same (seed, index)

Every sample is a pure function of (seed, index): a run resumed at step t draws exactly the
batches it would have drawn, in any number of worker processes, on any number of ranks.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from wincli.errors import InputError
from wincli.models.config import ModelConfig


def find_images(dirs: list[str | Path]) -> list[Path]:
    """All images under ``dirs``, sub-folders included (``io.list_images``), sorted."""
    from wincli.io import list_images

    if not dirs:
        raise InputError("no training folder given (--data)")
    return sorted(set(list_images(dirs, recursive=True)))


def describe_data(dirs: list[str | Path], holdout: int) -> str:
    """What a run trained on, for a registry record: its folders and how many images they hold."""
    n = len(find_images(dirs))
    names = ", ".join(str(d) for d in dirs)
    return f"{names} ({n} images; {holdout} held out for validation by name hash)"


def split_holdout(paths: list[Path], holdout: int) -> tuple[list[Path], list[Path]]:
    """Hold ``holdout`` images out for validation, chosen by a hash of the file name so the
    choice is spread over sub-folders and stable across machines."""
    if holdout <= 0:
        return paths, []
    if len(paths) <= holdout:
        raise InputError(
            f"{len(paths)} training image(s) and --holdout {holdout} leave none to train on"
        )
    ranked = sorted(paths, key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    held = set(ranked[:holdout])
    return [p for p in paths if p not in held], sorted(held)


MIN_TRAIN_SIDE = 16  # smaller images (icons, 1x1 pixels) are skipped with a warning


def load_images(paths: list[Path], min_size: int = MIN_TRAIN_SIDE) -> list[torch.Tensor]:
    """Decode to (3, H, W) uint8 tensors (grey and alpha converted to RGB); unreadable images
    and images under ``min_size`` pixels on a side are skipped with one warning each kind."""
    out, bad, small = [], [], []
    from wincli.io import read_rgb8

    for p in paths:
        try:
            arr = read_rgb8(p)
        except InputError as exc:
            bad.append(str(exc))
            continue
        if min(arr.shape[:2]) >= min_size:
            out.append(torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous())
        else:
            small.append(f"{p.name} ({arr.shape[1]}x{arr.shape[0]})")
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable image(s): {'; '.join(bad[:3])}", stacklevel=2)
    if small:
        warnings.warn(
            f"skipped {len(small)} image(s) under {min_size} px: {', '.join(small[:3])}",
            stacklevel=2,
        )
    if not out:
        raise InputError("no usable training images")
    return out


def _dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 flips / rotations of (C, H, W)."""
    if k & 4:
        x = x.flip(-1)
    return torch.rot90(x, k & 3, (-2, -1))


def _crop(img: torch.Tensor, patch: int, rng: np.random.Generator) -> torch.Tensor:
    _, h, w = img.shape
    if h < patch or w < patch:  # small image: reflect-pad up to the patch size
        ph, pw = max(patch - h, 0), max(patch - w, 0)
        mode = "reflect" if ph < h and pw < w else "replicate"
        img = torch.nn.functional.pad(img[None].float(), (0, pw, 0, ph), mode=mode)[0]
        img = img.to(torch.uint8)
        _, h, w = img.shape
    i = int(rng.integers(0, h - patch + 1))
    j = int(rng.integers(0, w - patch + 1))
    return img[:, i : i + patch, j : j + patch]


class PatchDataset(Dataset):
    """Sample ``index`` -> x (c_in, patch, patch) float in [0, 1] for the task of ``config``.

    Hiding: cover and secrets are crops of distinct random images, each with its own flip /
    rotation. Other tasks: one crop with one of the 8 flips / rotations.
    """

    def __init__(self, images: list[torch.Tensor], config: ModelConfig, patch: int, seed: int):
        self.images, self.config, self.patch, self.seed = images, config, patch, seed

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, index])
        n = self.config.spec.images_per_sample
        picks = rng.choice(len(self.images), size=n, replace=len(self.images) < n)
        parts = []
        for k in picks:
            crop = _crop(self.images[int(k)], self.patch, rng)
            parts.append(_dihedral(crop, int(rng.integers(0, 8))))
        return torch.cat(parts, 0).float().div_(255.0)


class StepSampler(Sampler):
    """Indices for steps ``start..``: step t, rank r, slot j -> (t * world + r) * batch + j."""

    def __init__(self, start_step: int, batch: int, rank: int = 0, world: int = 1):
        self.start, self.batch, self.rank, self.world = start_step, batch, rank, world

    def __iter__(self):
        t = self.start
        while True:
            base = (t * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)
            t += 1

    def __len__(self) -> int:
        return 2**62


def validation_batch(images: list[torch.Tensor], config: ModelConfig, size: int) -> torch.Tensor:
    """Center crops (size x size) of the validation images packed for the task.

    Hiding pairs them like the paper's protocol: cover = image 2k, secrets = the next n.
    """
    crops = []
    for img in images:
        _, h, w = img.shape
        s = min(size, h, w) // config.multiple * config.multiple
        i, j = (h - s) // 2, (w - s) // 2
        crop = img[:, i : i + s, j : j + s].float() / 255.0
        crops.append(
            torch.nn.functional.interpolate(crop[None], size=(size, size))[0] if s != size else crop
        )
    n = config.spec.images_per_sample
    groups = [torch.cat(crops[k : k + n], 0) for k in range(0, len(crops) - n + 1, n)]
    if not groups:
        raise InputError(f"{config.name} validation needs at least {n} images")
    return torch.stack(groups)
