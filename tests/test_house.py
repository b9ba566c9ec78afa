"""Properties of the code base itself that a contributor relies on."""

import ast
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_no_function_in_the_package_is_over_60_lines():
    long = []
    for path in sorted((REPO / "wincli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, long


def test_the_repository_speaks_of_the_product_not_its_history():
    """Work-session and issue numbers belong in docs/notes and the changelog only."""
    got = subprocess.run(
        ["git", "grep", "-niE", r"session [0-9]|issue [0-9]|\blent\b", "--", ".",
         ":!docs/notes", ":!CHANGELOG.md", ":!tests/test_house.py"],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert got.returncode in (0, 1), got.stderr  # 1: nothing found
    assert got.stdout == "", got.stdout
