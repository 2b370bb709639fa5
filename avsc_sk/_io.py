"""Safe file output: nothing the user already had is replaced without ``force``; every write is atomic."""

import contextlib
import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputExistsError

__all__ = ["check_output", "atomic_path", "atomic_write_text", "atomic_write_bytes", "atomic_dir"]


def check_output(path, *, force=False, what="output"):
    """Refuse an existing ``path`` unless ``force``; return it as a Path.

    Raises
    ------
    OutputExistsError
        Naming the path and the two ways out (another path, or ``--force``).
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{what} {path} already exists; choose another path or pass --force to replace it")
    return path


@contextlib.contextmanager
def atomic_path(path, *, force=False, suffix=None):
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The temporary file lives in the same directory, so the final ``os.replace`` is atomic:
    readers see the old file or the new one, never half of one, and an error or Ctrl-C
    inside the block leaves the old file untouched.
    """
    path = check_output(path, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    tmp.chmod(0o666 & ~_umask())  # mkstemp's 0600 would make every output private
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path, data, *, force=False):
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, force=force) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path, text, *, force=False):
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    return atomic_write_bytes(path, text.encode("utf-8"), force=force)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _exchange(a, b):
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextlib.contextmanager
def atomic_dir(path, *, force=False):
    """Yield a temporary directory that replaces ``path`` only when the block succeeds.

    With ``force`` an existing directory is swapped with the complete new one in a single
    atomic exchange where the OS offers it (Linux), so at every instant ``path`` is either
    the old directory or the new one; an interrupted run keeps the previous outputs.
    """
    path = check_output(path, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # as mkdir would make it, not mkdtemp's 0700
    try:
        yield tmp
        if not path.exists():
            os.replace(tmp, path)
        elif _exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the old directory
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "x")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
