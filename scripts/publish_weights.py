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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="Hub repo id, e.g. wincli/win-checkpoints")
    ap.add_argument("--revision", default="main")
    ap.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    args = ap.parse_args(argv)
    from wincli.publish import publish

    print(publish(args.repo, args.revision, args.dry_run))


if __name__ == "__main__":
    main()
