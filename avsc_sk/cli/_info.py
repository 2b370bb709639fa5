"""``avsc-sk info``: what a feature path holds (layout, splits, modalities, classes), read from its metadata."""

import warnings
from pathlib import Path

from ..errors import AvscWarning

__all__ = ["add_parser", "run", "format_summary"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="show what features hold: layout, splits, modalities, classes per split",
        description="The check to run first on new features: the layout detected, each split's clips and groups "
                    "(recording locations), the modalities as fit would read them (frames x dim), and per class "
                    "the clips and groups of every labelled split. Reads metadata and shapes only, not the frames.",
    )
    parser.add_argument("features", metavar="FEATURES",
                        help="native .h5 file, layout-A or layout-B root, or a .npy folder / .npz file")
    parser.add_argument("--meta", type=Path, default=None, metavar="CLIPS_CSV",
                        help="clip metadata table: clip_id, label[, group, city, split] (tab or comma); its labels, "
                             "groups and splits replace the features' own, as in fit")
    parser.add_argument("--max-frames", type=int, default=96, metavar="K",
                        help="frames kept per clip, as fit would keep them (default: 96; 0 keeps every frame)")
    parser.set_defaults(func=run)
    return parser


def format_summary(summary):
    """The lines ``avsc-sk info`` prints for :func:`avsc_sk.data.summarize_features`'s result."""
    lines = [f"features: {summary.path} (layout {summary.layout})",
             f"synthetic: {'yes' if summary.synthetic else 'no'}"]
    if summary.meta is not None:
        lines.insert(1, f"meta: {summary.meta}")
    mods = {s: b.modalities for s, b in summary.splits.items()}
    if len(set(mods.values())) == 1:
        lines.append(f"modalities: {_modalities(next(iter(mods.values())))}")
    for split, b in summary.splits.items():
        labels = "labelled" if b.labelled else "unlabelled"
        own = "" if len(set(mods.values())) == 1 else f"; modalities {_modalities(b.modalities)}"
        lines.append(f"split {split}: {b.n_clips} clips, {b.n_groups} groups, {labels}{own}")
        present = b.get("clips_per_modality")
        if present is not None:
            lines.append(f"  clips per modality: {', '.join(f'{name} {n}' for name, n in present.items())}")
    classes = summary.classes
    if classes.empty:
        lines.append("classes: none (no split is labelled)")
        return lines
    splits = list(dict.fromkeys(classes.columns.get_level_values(0)))
    cells = {s: [f"{c} / {g}" for c, g in zip(classes[(s, "clips")], classes[(s, "groups")])] for s in splits}
    width = max(len(str(c)) for c in [*classes.index, "class"])
    widths = {s: max(len(s), *(len(c) for c in cells[s])) for s in splits}
    lines.append(f"classes: {len(classes)} (clips / groups per split)")
    lines.append("  " + "class".ljust(width) + "".join(f"  {s.rjust(widths[s])}" for s in splits))
    for i, name in enumerate(classes.index):
        lines.append("  " + str(name).ljust(width) + "".join(f"  {cells[s][i].rjust(widths[s])}" for s in splits))
    return lines


def missing_modality_warnings(summary):
    """One warning per split whose clips do not all hold every modality (fit refuses them by default)."""
    out = []
    for split, b in summary.splits.items():
        absent = {name: b.n_clips - n for name, n in (b.get("clips_per_modality") or {}).items() if n < b.n_clips}
        if absent:
            lacking = ", ".join(f"{n} without {name}" for name, n in absent.items())
            out.append(f"split {split}: {lacking} of {b.n_clips} clips; the commands reading them stop on such clips "
                       "unless given --allow-missing-modality (or select the complete modalities)")
    return out


def _modalities(mods):
    return ", ".join(f"{name} {n_frames}x{dim}" for name, n_frames, dim in mods)


def run(args):
    from ..data import summarize_features
    from ._common import synthetic_banner

    summary = summarize_features(args.features, max_frames=None if args.max_frames == 0 else args.max_frames,
                                 meta=args.meta)
    banner = synthetic_banner(summary.synthetic)
    if banner:
        print(banner)
    print("\n".join(format_summary(summary)))
    for message in missing_modality_warnings(summary):
        warnings.warn(message, AvscWarning, stacklevel=2)
    return 0
