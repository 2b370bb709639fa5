"""Layout A, the course baseline: ``<root>/<mod>_features_data/<split>.hdf5``.

Inside each file, one dataset per clip at key ``"<label_index>/<mod>/<stem>"`` of shape
``(n_frames, dim)``; ``split`` is ``train``, ``val`` or ``test``. Any modality folder is a
modality (``audio``, ``video``, or others), each with its own embedding size.
"""

from pathlib import Path

from ._detect import SPLITS
from ._perclip import perclip_splits, plan_perclip_split, write_perclip_file

__all__ = ["FILE_OF_SPLIT", "splits_a", "plan_a", "write_a"]

#: Layout A names each split's file after the split itself.
FILE_OF_SPLIT = {split: split for split in SPLITS}


def splits_a(root):
    """Canonical splits present under a layout-A root."""
    return perclip_splits(Path(root), FILE_OF_SPLIT)


def plan_a(root, split, *, modalities=None, max_frames=96, allow_missing_modality=False):
    """Plan reading one split (see :func:`avsc_sk.data.read_features`)."""
    return plan_perclip_split(Path(root), split, FILE_OF_SPLIT, modalities=modalities, max_frames=max_frames,
                              allow_missing_modality=allow_missing_modality)


def write_a(tmp_root, featuresets, *, created_by=None):
    """Write ``{split: FeatureSet}`` under ``tmp_root`` (the caller swaps the directory into place)."""
    tmp_root = Path(tmp_root)
    for split, fs in featuresets.items():
        for mod in fs.modality_names:
            folder = tmp_root / f"{mod}_features_data"
            folder.mkdir(parents=True, exist_ok=True)
            write_perclip_file(folder / f"{split}.hdf5", fs, mod, created_by=created_by)
