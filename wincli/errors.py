"""One error family for everything a user can get wrong.

>>> raise InputError("cover.png: not an image")   # doctest: +SKIP

The CLI catches :class:`WincliError` once, prints its message on one line and exits with
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class WincliError(Exception):
    """Base class: a problem with the user's input, files, weights or device."""

    exit_code = 2


class InputError(WincliError):
    """An input file or argument that cannot be used."""


class OptionError(InputError, ValueError):
    """An option value outside its range (also a ValueError for library callers)."""


class OutputError(WincliError):
    """An output path that cannot or must not be written."""


class WeightsError(WincliError):
    """A checkpoint that cannot be found, verified or loaded."""


class DeviceError(WincliError):
    """A device that is unknown or not available."""
