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


LAB = {"evaluate", "frontier", "classical_tasks", "steganalysis", "report", "cards", "publish"}
CORE_FILES = [
    "layers", "models", "tasks.py", "converter.py", "io.py", "options.py", "verbs.py",
    "api.py", "precision.py", "weights.py", "encoder.py", "checkpoint.py", "cli/convert.py",
]  # fmt: skip


def _imports(path: Path) -> set[str]:
    """The wincli modules a file imports anywhere (top level or inside functions), dotted."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wincli"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("wincli"))
    return found


def _module_files() -> dict[str, Path]:
    pkg = REPO / "wincli"
    out = {}
    for f in pkg.rglob("*.py"):
        parts = f.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def test_the_conversion_core_imports_nothing_of_evaluation():
    files = [
        f
        for entry in CORE_FILES
        for f in ((REPO / "wincli" / entry).rglob("*.py") if "." not in entry else
                  [REPO / "wincli" / entry])
    ]  # fmt: skip
    for f in files:
        lab = {m for m in _imports(f) if m.split(".")[1:2] and m.split(".")[1] in LAB}
        assert not lab, f"{f.relative_to(REPO)} imports {sorted(lab)}"


def test_the_import_graph_has_no_circle():
    modules = _module_files()
    graph = {
        name: {m for m in _imports(f) if m in modules and m != name and m != "wincli"}
        for name, f in modules.items()
    }
    done, path = set(), []

    def visit(node):
        if node in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(node) :] + [node]))
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        path.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)


def test_the_code_map_in_method_md_names_every_module_and_only_real_ones():
    import re

    text = (REPO / "docs" / "method.md").read_text()
    section = text.split("## Code layout", 1)[1].split("\n## ", 1)[0]
    named = set()
    for token in re.findall(r"`([\w/]+(?:\.py|/))`", section):
        if not token.startswith(("scripts/", "tests/")):
            named.add(token.removeprefix("wincli/"))
    pkg = REPO / "wincli"
    real = {f.name for f in pkg.glob("*.py") if f.name != "__init__.py"}
    real |= {f"{d.name}/" for d in pkg.iterdir() if (d / "__init__.py").exists()}
    assert real <= named, f"not in docs/method.md's code map: {sorted(real - named)}"
    assert named <= real, f"in the code map but not in wincli/: {sorted(named - real)}"


def test_nothing_in_the_package_unpickles():
    """Checkpoints, optimizer state and resume state are safetensors and JSON: no module
    mentions pickle or loads with weights_only=False."""
    hits = [
        f"{p.relative_to(REPO)}:{i}"
        for p in sorted((REPO / "wincli").rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if "pickle" in line or "weights_only=False" in line
    ]
    assert not hits, hits


def test_one_training_command():
    """The encoder trains through `win train --encoder-for`; no module has a second CLI."""
    hits = [
        str(p.relative_to(REPO))
        for p in sorted((REPO / "wincli" / "train").rglob("*.py"))
        if "argparse" in p.read_text()
    ]
    assert not hits, hits
