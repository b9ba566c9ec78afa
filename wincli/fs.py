"""File-system helpers shared by every writer (images, checkpoints, reports); no torch here.

>>> atomic_write("out.json", lambda tmp: Path(tmp).write_text("{}"))      # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temp file onto ``path``.

    The result gets the permissions a plain ``open(path, "w")`` would give (0666 minus the
    umask), not the temp file's 0600. A symlinked ``path`` is written through: the file it
    points to is replaced, the link stays.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
