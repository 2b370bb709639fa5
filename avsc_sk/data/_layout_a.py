"""Layout A, the course baseline: ``<root>/<mod>_features_data/<split>.hdf5``.

Inside each file, one dataset per clip at key ``"<label_index>/<mod>/<stem>"`` of shape
``(n_frames, dim)``; ``split`` is ``train``, ``val`` or ``test``. Any modality folder is a
modality (``audio``, ``video``, or others), each with its own embedding size.
"""

from pathlib import Path

from ..errors import DataError
from ._detect import SPLITS, mod_dirs, order_modalities
from ._perclip import plan_perclip, write_perclip_file

__all__ = ["splits_a", "plan_a", "write_a"]


def _split_files(root):
    """``{split: {modality: file}}`` for every canonical split file found under ``root``."""
    out = {}
    for mod, folder in mod_dirs(root).items():
        for split in SPLITS:
            f = folder / f"{split}.hdf5"
            if f.is_file():
                out.setdefault(split, {})[mod] = f
    return out


def splits_a(root):
    """Canonical splits present under a layout-A root."""
    found = _split_files(Path(root))
    return [s for s in SPLITS if s in found]


def plan_a(root, split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split of a layout-A root (see :func:`avsc_sk.data.read_features`)."""
    root = Path(root)
    files = _split_files(root).get(split)
    if not files:
        raise DataError(f"no {split!r} split in {root} (no <mod>_features_data/{split}.hdf5); "
                        f"available: {', '.join(splits_a(root)) or 'none'}")
    mods = order_modalities(files, modalities, source=f"split {split!r} of {root}")
    return plan_perclip({m: files[m] for m in mods}, split, max_frames=max_frames,
                        allow_missing_modality=allow_missing_modality, source=root)


def write_a(tmp_root, featuresets, *, created_by=None):
    """Write ``{split: FeatureSet}`` under ``tmp_root`` (the caller swaps the directory into place)."""
    tmp_root = Path(tmp_root)
    for split, fs in featuresets.items():
        for mod in fs.modality_names:
            folder = tmp_root / f"{mod}_features_data"
            folder.mkdir(parents=True, exist_ok=True)
            write_perclip_file(folder / f"{split}.hdf5", fs, mod, created_by=created_by)
