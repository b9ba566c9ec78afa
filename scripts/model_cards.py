#!/usr/bin/env python3
"""Maintainers, after any registry change: write docs/models.md from weights/registry.json.

python scripts/model_cards.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    from wincli.cards import figures_in, render_model_cards
    from wincli.weights import load_registry

    figures = figures_in(REPO / "docs" / "figures")
    (REPO / "docs" / "models.md").write_text(render_model_cards(load_registry(), figures))
    print(REPO / "docs" / "models.md")


if __name__ == "__main__":
    main()
