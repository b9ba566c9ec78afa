#!/usr/bin/env python3
"""Upload the bundled checkpoints and a model card to a Hugging Face Hub repository.

    python scripts/publish_weights.py --repo wincli/win-checkpoints [--revision main] [--dry-run]

Reads weights/registry.json, checks every file's sha256 first, writes a model card (README.md)
with the measured numbers, and uploads everything in one commit with huggingface_hub.HfApi.
Prints the commit id: put it in the registry's "revision" to pin downloads to it.
Needs network access and a token (HF_TOKEN or `hf auth login`); it cannot run offline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def model_card(records, repo_id: str) -> str:
    lines = [
        "---",
        "license: mit",
        "library_name: wincli",
        "tags: [image-hiding, image-rescaling, decolorization, invertible-networks]",
        "---",
        f"# {repo_id}: WIN checkpoints for `wincli`",
        "",
        "Well-posed Invertible Networks (Huang & Huang, arXiv 2508.02111) trained with "
        "`win train`. PSNR measured through 8-bit PNG files with `win eval`.",
        "",
        "| name | task | variant | preset | params | steps | metrics | sha256 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        metrics = ", ".join(f"{k} {v}" for k, v in r.metrics.items())
        lines.append(
            f"| {r.name} | {r.task} | {r.variant} | {r.preset} | {r.params:,} | "
            f"{r.recipe.get('steps', '')} | {metrics} | `{r.sha256[:16]}` |"
        )
    lines += ["", "Training commands:", ""]
    lines += [f"- {r.name}: `{r.recipe.get('command', '')}`" for r in records]
    return "\n".join(lines) + "\n"


def publish(repo_id: str, revision: str = "main", dry_run: bool = False, api=None) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    from wincli.weights import bundled_dir, load_registry, verify, with_encoders

    folder = bundled_dir()
    records = load_registry()
    if folder is None or not records:
        raise SystemExit("no bundled weights to publish")
    ops = []
    for r in with_encoders(records):  # each checkpoint and its one-pass encoder
        path = folder / r.file
        verify(r, path)
        ops.append(CommitOperationAdd(path_in_repo=r.file, path_or_fileobj=str(path)))
    card = model_card(records, repo_id).encode()
    ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card))
    ops.append(
        CommitOperationAdd(
            path_in_repo="registry.json", path_or_fileobj=str(folder / "registry.json")
        )
    )
    if dry_run:
        return "\n".join(op.path_in_repo for op in ops)
    api = api or HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    info = api.create_commit(
        repo_id=repo_id,
        operations=ops,
        commit_message=f"wincli checkpoints ({len(records)} files)",
        revision=revision,
    )
    return info.oid


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="Hub repo id, e.g. wincli/win-checkpoints")
    ap.add_argument("--revision", default="main")
    ap.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    args = ap.parse_args(argv)
    print(publish(args.repo, args.revision, args.dry_run))


if __name__ == "__main__":
    main()
