"""Split names, HDF5 opening with one-line errors, and feature-layout detection.

Four on-disk layouts are recognised (see ``/work/shared/formats.md``, :mod:`._native` and :mod:`._npy`):

``"native"``
    one avsc-sk HDF5 file (``*.h5`` / ``*.hdf5``), or a directory holding ``features.h5``;
``"A"``
    the course baseline: ``<root>/<mod>_features_data/{train,val,test}.hdf5``;
``"B"``
    the DCASE 2021 Task 1B baseline: ``<root>/features_data/<mod>_features_data/{tr,val,tt}.hdf5``
    (``<root>/features_data`` itself is accepted too);
``"npy"``
    plain arrays from any extractor: a folder of ``<modality>.npy`` files plus ``clips.csv``,
    or one ``.npz`` file holding the arrays and the clip table.
"""

import contextlib
from pathlib import Path

import h5py

from ..errors import ConfigError, DataError

__all__ = ["SPLITS", "canonical_split", "parse_splits", "open_hdf5", "detect_layout", "order_modalities",
           "flag_attr"]

#: Canonical split names, in the order they are listed and written.
SPLITS = ("train", "val", "test")

_ALIASES = {
    "train": "train", "tr": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "tt": "test", "evaluate": "test", "eval": "test", "evaluation": "test",
}

NATIVE_FILE = "features.h5"
#: The clip table of the plain-array layout, beside its ``<modality>.npy`` files.
CLIPS_FILE = "clips.csv"
_H5_SUFFIXES = (".h5", ".hdf5")
_MOD_SUFFIX = "_features_data"
_A_FILES = {"train.hdf5", "test.hdf5"}
_B_FILES = {"tr.hdf5", "tt.hdf5"}


def canonical_split(name):
    """Return the canonical name (``train``, ``val``, ``test``) of a split name or alias.

    Raises
    ------
    ConfigError
        For a name that is neither canonical nor a known alias.
    """
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ConfigError(
            f"unknown split {name!r}; expected train, val or test (aliases tr, tt, evaluate), "
            "or several joined by '+' such as train+val"
        )
    return _ALIASES[key]


def parse_splits(spec):
    """Split a specification such as ``"train+val"`` or ``"tr,tt"`` into canonical names, in order."""
    if isinstance(spec, (list, tuple)):
        parts = [str(p) for p in spec]
    else:
        parts = str(spec).replace(",", "+").split("+")
    names = [canonical_split(p) for p in parts if p.strip()]
    if not names:
        raise ConfigError(f"no split named in {spec!r}; expected e.g. train, test or train+val")
    if len(set(names)) != len(names):
        raise ConfigError(f"split {spec!r} names the same split twice")
    return names


@contextlib.contextmanager
def open_hdf5(path, *, remedy="re-create it with avsc-sk convert or avsc-sk extract"):
    """Open ``path`` read-only, turning every way HDF5 can refuse it into a one-line DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"feature file {path} does not exist; check the path")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path} is not a readable HDF5 file (it is empty); {remedy}")
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        reason = _reason(exc)
        if "lock file" in reason.lower() or "locking" in reason.lower():
            raise DataError(
                f"{path} is locked by another process ({reason}); wait for the writer (e.g. a running "
                "extraction) to finish, or set HDF5_USE_FILE_LOCKING=FALSE"
            ) from None
        raise DataError(f"{path} is not a readable HDF5 file ({reason}); {remedy}") from None
    try:
        yield fh
    except (DataError, MemoryError):
        raise  # out of memory is not a damaged file
    except Exception as exc:
        # A file whose header opens but whose data blocks are cut off or damaged fails only on read,
        # and h5py reports damage as OSError, RuntimeError, KeyError, ValueError, TypeError...:
        # whatever h5py itself raised is about the file; an error in avsc-sk's own code stays one.
        if not isinstance(exc, (OSError, RuntimeError)) and not _raised_by_h5py(exc):
            raise
        raise DataError(f"{path} is not a readable HDF5 file ({_reason(exc)}); {remedy}") from None
    finally:
        fh.close()


def flag_attr(fh, name, path):
    """A boolean file attribute such as ``synthetic`` (False when absent); a non-scalar is a damaged file."""
    value = fh.attrs.get(name, False)
    if getattr(value, "ndim", 0) != 0:
        raise DataError(f"{path}: attribute {name!r} holds an array of shape {value.shape}, not a flag; "
                        "the file is damaged, re-create it")
    return bool(value)


def _raised_by_h5py(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "h5py" in tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/")


def _reason(exc):
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__


def is_npy_folder(path):
    """Whether the folder ``path`` holds the plain-array layout (a ``clips.csv`` or a ``.npy`` file)."""
    return (path / CLIPS_FILE).is_file() or any(p.suffix == ".npy" and p.is_file() for p in path.iterdir())


def _mod_dirs(root):
    """``{modality: directory}`` for every ``<mod>_features_data`` folder holding ``*.hdf5`` files."""
    out = {}
    if not root.is_dir():
        return out
    for sub in sorted(root.iterdir()):
        if sub.is_dir() and sub.name.endswith(_MOD_SUFFIX) and len(sub.name) > len(_MOD_SUFFIX):
            if any(p.suffix == ".hdf5" for p in sub.iterdir()):
                out[sub.name[: -len(_MOD_SUFFIX)]] = sub
    return out


def _file_names(mod_dirs):
    return {p.name for d in mod_dirs.values() for p in d.iterdir() if p.suffix == ".hdf5"}


def resolve_layout(path):
    """Return ``(layout, location)``: the layout and the file or root directory to read.

    For ``"native"`` the location is the ``.h5`` file; for ``"A"`` the root holding the
    ``<mod>_features_data`` folders; for ``"B"`` the ``features_data`` folder; for ``"npy"`` the
    folder or the ``.npz`` file.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"feature path {path} does not exist; check the path (a .h5 file or a feature root)")
    if path.is_file():
        if path.suffix.lower() == ".npy":
            raise DataError(f"{path} is one array; pass the folder holding it, its other <modality>.npy files "
                            f"and {CLIPS_FILE}: {path.parent}")
        return ("npy" if path.suffix.lower() == ".npz" else "native"), path
    if (path / NATIVE_FILE).is_file():
        return "native", path / NATIVE_FILE
    if is_npy_folder(path):
        return "npy", path
    mods = _mod_dirs(path)
    if mods:
        names = _file_names(mods)
        if names & _B_FILES and not names & _A_FILES:
            return "B", path
        if names & _A_FILES or path.name != "features_data":
            return "A", path
        return "B", path
    if _mod_dirs(path / "features_data"):
        return "B", path / "features_data"
    raise DataError(
        f"{path} holds no recognised features; expected a native .h5 file (or a folder holding {NATIVE_FILE}), "
        "a layout-A root with <mod>_features_data/<split>.hdf5, a layout-B root with features_data/, "
        f"or a folder of <modality>.npy files with {CLIPS_FILE} (or one .npz file)"
    )


def detect_layout(path):
    """Name the layout of the features at ``path``.

    Parameters
    ----------
    path : str or path-like
        A native ``.h5`` file, a folder holding ``features.h5``, a layout-A root
        (holding ``<mod>_features_data/<split>.hdf5``), a layout-B root (holding
        ``features_data/``, or ``features_data`` itself), or plain arrays: a folder of
        ``<modality>.npy`` files with ``clips.csv``, or one ``.npz`` file.

    Returns
    -------
    {"A", "B", "native", "npy"}

    Raises
    ------
    DataError
        If the path is missing or holds none of these.
    """
    return resolve_layout(path)[0]


def mod_dirs(root):
    """Public-to-the-package view of the modality folders under a layout-A/B root."""
    return _mod_dirs(Path(root))


def order_modalities(found, wanted=None, *, source=None):
    """Order modality names: ``audio``, ``video``, then the rest alphabetically; or as ``wanted``.

    Raises
    ------
    DataError
        If ``wanted`` names a modality that is not in ``found``.
    ConfigError
        If ``wanted`` is empty or names one modality twice.
    """
    found = list(dict.fromkeys(found))
    if wanted is None:
        rank = {"audio": 0, "video": 1}
        return sorted(found, key=lambda m: (rank.get(m, 2), m))
    wanted = [wanted] if isinstance(wanted, str) else [str(m) for m in wanted]
    if not wanted:
        raise ConfigError("modalities is empty; name at least one, e.g. ['audio']")
    if len(set(wanted)) != len(wanted):
        raise ConfigError(f"modalities {wanted} names one modality twice")
    for m in wanted:
        if m not in found:
            where = f" in {source}" if source else ""
            raise DataError(f"no modality {m!r}{where}; available: {', '.join(order_modalities(found)) or 'none'}")
    return wanted
