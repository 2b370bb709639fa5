"""Arguments several commands share, declared once."""

from pathlib import Path

__all__ = ["FUSIONS", "FUSION_MODES", "HEADS", "add_class_weight", "add_features_args", "add_force", "add_quiet",
           "synthetic_banner"]

# Copies of avsc_sk.fusion.FUSIONS, FUSION_MODES and avsc_sk.heads.HEADS for the help texts and choices:
# those modules import scikit-learn, which `--help` should not wait for. tests/test_cli.py checks they agree.
FUSIONS = ("audio", "video", "early", "intermediate", "late", "weighted")
FUSION_MODES = ("early", "intermediate", "late", "weighted")
HEADS = ("logreg", "linsvm", "svm", "lgbm", "knn", "mlp")


def add_features_args(parser, *, split=None, missing=True, default="the built-in synthetic data"):
    parser.add_argument("--features", type=Path, default=None, metavar="PATH",
                        help=f"native .h5 file, layout-A or layout-B root, .npy folder or .npz file "
                             f"(default: {default})")
    parser.add_argument("--meta", type=Path, default=None, metavar="CLIPS_CSV",
                        help="clip metadata table: clip_id, label[, group, city, split] (tab or comma); gives "
                             "labels, cross-validation groups and splits for clips of any name "
                             "(default: parsed from TAU clip names, or as the features file stores them)")
    if split:
        parser.add_argument("--split", default=split, help=f"split(s) to use, e.g. train+val or test (default: {split})")
    parser.add_argument("--max-frames", type=int, default=96, metavar="K",
                        help="cut every clip to its first K frames, as the reference loaders do "
                             "(default: 96; 0 keeps every frame; the built-in data have 10)")
    if missing:
        parser.add_argument("--allow-missing-modality", action="store_true",
                            help="keep clips that lack a modality instead of stopping with an error")


def add_class_weight(parser):
    parser.add_argument("--class-weight", choices=("balanced",), default=None,
                        help="'balanced': weigh classes inversely to their frequency, for imbalanced labels. Every "
                             "head takes it (logreg, linsvm, svm: the class's loss; lgbm, mlp: its samples; knn: "
                             "its neighbours' votes), and intermediate fusion's network; saved as ordinary params, "
                             "e.g. params.head__class_weight. Late fusion's stacker and weighted fusion's blend "
                             "stay unweighted")


def add_force(parser):
    parser.add_argument("--force", action="store_true", help="replace an existing output")


def add_quiet(parser, extra=""):
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (shown on stderr only when it is a terminal)" + extra)


def synthetic_banner(synthetic):
    """The line every output made from synthetic data starts with."""
    from ..datasets import SYNTHETIC_BANNER

    return SYNTHETIC_BANNER if synthetic else ""
