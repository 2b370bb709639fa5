"""Append clips to a native-format (v1) feature file in chunks, so an extraction can resume.

Layout (see the native format spec): file attributes ``avsc_format``, ``avsc_format_version``,
``synthetic``, ``created_by``; one group per split holding ``clip_id``, ``scene_label``,
``city``, ``location`` (variable-length UTF-8) and ``features/<modality>`` of shape
``(n, n_frames * dim)`` float32 with attributes ``n_frames`` and ``dim``, and ``media/audio``,
``media/video`` (vlen UTF-8): each clip's source wav and mp4 as absolute resolved paths, ``""``
where the clip has no such file. Every dataset is chunked and resizable along the clip axis.

A file written before the writer recorded media has no ``media`` group; resuming it creates the
two datasets with ``""`` for the clips already there, so only the clips added from then on link
their files.

Failure model
-------------
A chunk is written by growing every dataset of its split group and filling the new rows,
``clip_id`` last, then flushing the file. SIGINT (Ctrl-C) is held back while a chunk is
written, so an interrupt lands between chunks. A hard kill in the middle of a chunk can leave
datasets of unequal length or rows without a clip id; reopening the file cuts every dataset
of the group back to the rows that are complete, so at most that one chunk is lost. A crash
that corrupts HDF5's own metadata (power loss during a flush) can make the file unreadable:
the writer then says so, and the file must be moved aside and the extraction started again.
"""

import contextlib
import json
import signal
import threading
from pathlib import Path

import h5py
import numpy as np

from ..errors import DataError, OutputExistsError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MEDIA", "FeatureWriter"]

FORMAT_NAME = "avsc-sk-native"
FORMAT_VERSION = 1
_META = ("scene_label", "city", "location")
#: The source files recorded per clip, as ``media/<name>``.
MEDIA = ("audio", "video")
_STR = h5py.string_dtype("utf-8")


def _as_str(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@contextlib.contextmanager
def _defer_sigint():
    """Hold Ctrl-C until the block ends, so a chunk is never half written by an interrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)


class FeatureWriter:
    """Write extracted clips to a native feature file, appending to it if it exists.

    Parameters
    ----------
    path : path-like
        The ``.h5`` file.
    modalities : dict of str -> (n_frames, dim, feature_names)
        The modality blocks every clip has.
    settings : dict
        Extraction settings (hop, rates, descriptor version); stored as the file attribute
        ``extract_settings`` and compared on resume, so frames made with different settings
        are never mixed in one file.
    created_by : str
        Written to the ``created_by`` attribute.
    force : bool, default=False
        Replace an existing file instead of resuming it.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and is not a native feature file made with the same modalities
        and settings (and ``force`` is not given).
    DataError
        If the existing file cannot be opened.
    """

    def __init__(self, path, modalities, settings, created_by, *, force=False):
        self.path = Path(path)
        self.modalities = {m: (int(f), int(d), list(names)) for m, (f, d, names) in modalities.items()}
        self._settings = json.dumps(settings, sort_keys=True)
        if self.path.exists() and force:
            self.path.unlink()
        self.resumed = self.path.exists()
        if self.resumed:
            try:
                self._file = h5py.File(self.path, "r+")
            except OSError as exc:
                raise DataError(
                    f"cannot open existing output {self.path} ({exc}); it may be damaged by a crash: "
                    "move it aside and run again, or pass --force to start over"
                ) from None
            try:
                self._check_compatible()
                for split in list(self._file):
                    self._repair(self._file[split])
                    self._add_media(self._file[split])
            except Exception:
                self._file.close()
                raise
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self.path, "w")
            self._file.attrs["avsc_format"] = FORMAT_NAME
            self._file.attrs["avsc_format_version"] = FORMAT_VERSION
            self._file.attrs["synthetic"] = False
            self._file.attrs["created_by"] = created_by
            self._file.attrs["extract_settings"] = self._settings
            self._file.flush()

    def _check_compatible(self):
        attrs = self._file.attrs
        hint = "choose another --out or pass --force to replace it"
        if _as_str(attrs.get("avsc_format", "")) != FORMAT_NAME or "extract_settings" not in attrs:
            raise OutputExistsError(f"output {self.path} exists and is not a feature file made by extract; {hint}")
        if _as_str(attrs["extract_settings"]) != self._settings:
            raise OutputExistsError(
                f"output {self.path} was extracted with other settings ({_as_str(attrs['extract_settings'])}); "
                f"resume with the same options, {hint}"
            )
        for split in self._file:
            have = set(self._file[split].get("features", {}))
            if have != set(self.modalities):
                raise OutputExistsError(
                    f"output {self.path} holds modalities {sorted(have)}, this run extracts "
                    f"{sorted(self.modalities)}; {hint}"
                )

    @staticmethod
    def _repair(group):
        """Cut every dataset of ``group`` back to its complete rows (after a crash mid-chunk)."""
        datasets = [group[k] for k in ("clip_id", *_META)] + list(group["features"].values())
        datasets += [group[f"media/{m}"] for m in MEDIA if f"media/{m}" in group]
        n = min(len(d) for d in datasets)
        if n:
            ids = group["clip_id"][:n]
            empty = np.flatnonzero([len(v) == 0 for v in ids])
            n = int(empty[0]) if empty.size else n
        if any(len(d) != n for d in datasets):
            for d in datasets:
                d.resize(n, axis=0)
            group.file.flush()

    @staticmethod
    def _add_media(group):
        """Give a group written before media were recorded its media datasets, ``""`` for the rows it holds."""
        n = len(group["clip_id"])
        for m in MEDIA:
            if f"media/{m}" not in group:
                d = group.require_group("media").create_dataset(m, shape=(n,), maxshape=(None,), dtype=_STR,
                                                                chunks=(256,))
                if n:
                    d[...] = np.full(n, "", dtype=object)
        group.file.flush()

    def done_ids(self):
        """Clip ids already in the file, over every split."""
        return {_as_str(v) for split in self._file for v in self._file[split]["clip_id"][:]}

    def _group(self, split):
        if split in self._file:
            return self._file[split]
        g = self._file.create_group(split)
        for name in ("clip_id", *_META, *(f"media/{m}" for m in MEDIA)):
            g.create_dataset(name, shape=(0,), maxshape=(None,), dtype=_STR, chunks=(256,))
        feats = g.create_group("features")
        for m, (n_frames, dim, names) in self.modalities.items():
            width = n_frames * dim
            d = feats.create_dataset(m, shape=(0, width), maxshape=(None, width), dtype="float32",
                                     chunks=(max(1, min(64, (1 << 20) // (4 * width))), width))
            d.attrs["n_frames"] = n_frames
            d.attrs["dim"] = dim
            d.attrs["feature_names"] = names
        return g

    def append(self, split, rows):
        """Append a chunk of clips to ``split`` and flush.

        Parameters
        ----------
        split : str
        rows : list of (clip_id, scene_label, city, location, {modality: ndarray (n_frames, dim)}[, media])
            ``media``, optional, maps ``audio`` / ``video`` to the clip's source file (stored as given;
            ``""`` or left out: no such file).
        """
        if not rows:
            return
        with _defer_sigint():
            g = self._group(split)
            n0, k = len(g["clip_id"]), len(rows)
            for m, (n_frames, dim, _) in self.modalities.items():
                d = g["features"][m]
                block = np.stack([np.asarray(r[4][m], dtype=np.float32).reshape(n_frames * dim) for r in rows])
                d.resize(n0 + k, axis=0)
                d[n0:] = block
            for j, name in enumerate(_META, start=1):
                g[name].resize(n0 + k, axis=0)
                g[name][n0:] = np.array([str(r[j]) for r in rows], dtype=object)
            for m in MEDIA:
                d = g[f"media/{m}"]
                d.resize(n0 + k, axis=0)
                d[n0:] = np.array([str(r[5].get(m) or "") if len(r) > 5 else "" for r in rows], dtype=object)
            # clip_id is written last: a row with an id is a complete row.
            g["clip_id"].resize(n0 + k, axis=0)
            g["clip_id"][n0:] = np.array([str(r[0]) for r in rows], dtype=object)
            self._file.flush()

    def close(self):
        if self._file.id.valid:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
