"""The built-in data: the generator's default output, cached once per user as a native file."""

import os
from pathlib import Path

from ..data import concat_featuresets
from ..data import parse_splits
from ..errors import DataError, OutputExistsError
from ._synthetic import GENERATOR_VERSION, make_tau_like

__all__ = ["SYNTHETIC_BANNER", "load_tau_like", "write_tau_like", "cache_dir", "cache_path"]

#: The first line of every output made from the built-in data.
SYNTHETIC_BANNER = ("SYNTHETIC data (avsc-sk's built-in TAU-like generator): these are not results on the "
                    "real dataset")

#: Environment variable that moves the cache (e.g. to a scratch disk, or a test's temporary folder).
CACHE_ENV = "AVSC_SK_CACHE"


def cache_dir():
    """Folder of the built-in data cache: ``$AVSC_SK_CACHE``, else the user cache folder of avsc-sk."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("avsc-sk"))


def cache_path(*, n_frames=10, dim=512, seed=0):
    """The cache file of one parameter set; the name carries the generator version, so a newer
    generator never reads an older one's values."""
    return cache_dir() / f"tau_like-v{GENERATOR_VERSION}-frames{int(n_frames)}-dim{int(dim)}-seed{int(seed)}.h5"


def load_tau_like(split="train", *, n_frames=10, dim=512, seed=0, cache=True, stats=None):
    """The built-in synthetic TAU-like data (see :func:`make_tau_like`), one split or several joined.

    The first call with ``cache=True`` generates all three splits and writes them to a native
    HDF5 file in :func:`cache_dir` (about 0.5 GB at the defaults); later calls read it back.
    Where the cache cannot be written, the data is generated in memory instead.

    Parameters
    ----------
    split : str, default="train"
        ``train``, ``val``, ``test``, or several joined by ``+`` (``"train+val"``).
    n_frames, dim, seed : int
        As for :func:`make_tau_like` (all 12,291 clips, ``audio`` and ``video``).
    cache : bool, default=True
        Read and write the cache; False always generates in memory.
    stats : tuple of str, optional
        Keep these statistics over each clip's frames instead of the frames (see
        :func:`avsc_sk.data.read_features`).

    Returns
    -------
    FeatureSet
        ``synthetic=True``; clips of several splits are stacked in the order given.
    """
    splits = parse_splits(split)
    if cache:
        from ..data import read_features, write_features

        path = cache_path(n_frames=n_frames, dim=dim, seed=seed)
        if path.is_file():
            try:
                return _mark(read_features(path, "+".join(splits), max_frames=None, stats=stats))
            except (DataError, OSError):
                pass  # damaged (e.g. a full disk earlier): make it again below
        sets = make_tau_like(n_frames=n_frames, dim=dim, seed=seed)
        try:
            write_features(path, sets, layout="native", force=path.exists())
            remove_old_versions()
        except OutputExistsError:
            pass  # another process wrote the same values first
        except OSError:
            pass  # read-only or full cache folder: the data in memory is just as good
        return _mark(_join(sets, splits, stats))
    return _mark(_join(make_tau_like(n_frames=n_frames, dim=dim, seed=seed, splits=splits), splits, stats))


def remove_old_versions():
    """Delete the cache files of other generator versions (never read again); return their paths."""
    removed = []
    for old in cache_dir().glob("tau_like-v*-frames*-dim*-seed*.h5"):
        if not old.name.startswith(f"tau_like-v{GENERATOR_VERSION}-"):
            try:
                old.unlink()
                removed.append(old)
            except OSError:
                pass  # in use or read-only: harmless, it is only never read
    return removed


def _join(sets, splits, stats):
    fs = concat_featuresets([sets[s] for s in splits])
    return fs if stats is None else fs.pool(stats)


def _mark(fs):
    # The file attribute carries it already; this keeps it true whatever the reader does.
    fs.synthetic = True
    return fs


def write_tau_like(out, *, layout="native", n_clips=None, n_frames=96, dim=512, seed=0, force=False):
    """Generate synthetic TAU-like data (see :func:`make_tau_like`) and write its three splits.

    Parameters
    ----------
    out : str or path-like
        Native: a ``.h5`` file or a folder (``folder/features.h5``); layouts A and B: the root folder.
    layout : {"native", "A", "B"}, default="native"
    n_clips : int, optional
        A stratified subset of this many clips over the three splits; all 12,291 when None.
    n_frames, dim, seed : int
        As for :func:`make_tau_like` (96 frames of 512 values, as real OpenL3 features).
        All clips at 96 frames hold about 4.8 GB in memory while writing.
    force : bool, default=False
        Replace an existing output.

    Returns
    -------
    sklearn.utils.Bunch
        ``path`` (what was written), ``layout``, ``splits`` (split -> number of clips),
        ``n_frames``, ``dim``, ``seed`` and ``synthetic`` (always True).
    """
    from sklearn.utils import Bunch

    from .._io import check_output
    from ..data import write_features

    check_output(out, force=force)  # fail before spending the time to generate
    sets = make_tau_like(n_clips=n_clips, n_frames=n_frames, dim=dim, seed=seed)
    path = write_features(out, sets, layout=layout, force=force)
    return Bunch(path=path, layout=layout, splits={s: fs.n_clips for s, fs in sets.items()},
                 n_frames=int(n_frames), dim=int(dim), seed=int(seed), synthetic=True)
