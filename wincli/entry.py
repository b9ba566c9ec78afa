"""The ``win`` executable: the command line, with Ctrl-C at any moment (even while Python is
still importing) ending in one line and exit code 130, never a traceback."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Idle OpenMP threads sleep instead of spinning: with spinning, two win processes that each
    # use every core slow each other down several-fold (docs/benchmarks.md, "Threads").
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from wincli.cli import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
