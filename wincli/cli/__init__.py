"""The ``win`` command line: thin Typer commands over the library, one module per group.

    win hide cover.png secret.png -o stego.png --check
    win reveal stego.png -o revealed/
    win downscale photo.png --scale 2 -o small.png && win upscale small.png --scale 2
    win decolorize photo.png -o gray.png && win colorize gray.png

``common`` holds the app, the shared options and helpers; ``convert`` the six conversion verbs,
``train``, ``evaluate`` and ``models`` the rest. Heavy imports (torch) happen inside the
commands so that ``win --help`` is instant. Every ``WincliError`` becomes one line on stderr and
exit code 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wincli import __version__
from wincli.cli import convert, evaluate, models, train  # noqa: F401  (registers the commands)
from wincli.cli.common import app


def _version(value: bool) -> None:
    if value:
        from wincli.device import pick_device
        from wincli.precision import describe_auto

        typer.echo(f"win {__version__}")
        typer.echo(describe_auto(pick_device("auto")))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Reversible image conversion with Well-posed Invertible Networks (WIN)."""


def main() -> None:
    app()
