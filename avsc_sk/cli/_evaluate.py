"""avsc-sk evaluate: score a prediction file exactly as the reference scoring script printed it."""

from pathlib import Path


def add_parser(sub):
    p = sub.add_parser(
        "evaluate", help="score a prediction file (classification report, accuracy, log loss)",
        description="Print the reference scoring output for a prediction.csv: scikit-learn's classification "
                    "report over its classes, then 'accuracy: ...' and 'overall log loss: ...' (log loss over "
                    "the probabilities as the file prints them, clipped and renormalised as the reference did), "
                    "then a note naming that precision: 3 decimals (the reference format) give log_loss_ref3; "
                    "the exact log_loss of a model needs its float probabilities (fit, compare and report show "
                    "it; predict --decimals N writes more of them).")
    p.add_argument("--prediction", type=Path, required=True, metavar="FILE",
                   help="tab-separated prediction file (aid, scene_pred, [scene_label,] one column per class)")
    p.add_argument("--label", type=Path, default=None, metavar="FILE",
                   help="labels, e.g. evaluation_setup/fold1_evaluate.csv or a meta table (clip_id, label, ...) "
                        "(default: the prediction file's own scene_label column)")
    p.add_argument("--digits", type=int, default=2,
                   help="digits in the classification report (default: 2, as the reference)")
    p.set_defaults(func=run)


def evaluate_file(prediction, label=None, *, digits=2):
    """The scoring text for a prediction file (labels from ``label`` or its own scene_label column)."""
    from ..evaluation import format_scoring

    # The file's probabilities as printed (3 decimals in the reference format, more with
    # predict --decimals): the reference scorer reads them so, without rounding them again.
    return format_scoring(None, labelled_frame(prediction, label, digits=digits), digits=digits, decimals=None)


def labelled_frame(prediction, label=None, *, digits=2):
    """The prediction file read, with its labels from ``label`` or its own scene_label column."""
    from ..errors import ConfigError
    from ..evaluation import attach_labels, read_labels, read_prediction

    if digits < 0:
        raise ConfigError(f"--digits {digits}: expected 0 or more digits (the reference used 2)")
    frame = read_prediction(prediction)
    if label is not None:
        frame = attach_labels(frame, read_labels(label))
    elif "scene_label" not in frame:
        from ..errors import DataError

        raise DataError(f"{prediction} has no scene_label column; pass the true labels with "
                        "--label evaluation_setup/fold1_evaluate.csv")
    return frame


def run(args):
    from ..evaluation import classes_of, format_scoring, unseen_class_warning
    from ._common import synthetic_banner
    from ._predict import warn

    frame = labelled_frame(args.prediction, args.label, digits=args.digits)
    # A class the model never saw has no column, or (files of other tools) 0.000 for every clip.
    seen = [c for c in classes_of(frame) if (frame[c] > 0).any()]
    trained = "the model's training data, judging by its probabilities (0.000 for every clip),"
    message = unseen_class_warning(frame["scene_label"], seen, trained=trained)
    if message:
        warn(message)
    banner = synthetic_banner(frame.attrs.get("synthetic"))
    if banner:
        print(banner)
    print(format_scoring(None, frame, digits=args.digits, decimals=None), end="")
    print(precision_note(frame.attrs.get("decimals")))
    text = set_scoring(frame)
    if text:
        print(text, end="")
    return 0


def set_scoring(frame):
    """Empirical coverage and set sizes of a file's ``prediction_set`` column, overall and per scene ('' without one)."""
    from ..evaluation import SET_COLUMN, classes_of, coverage_table, parse_sets

    if SET_COLUMN not in frame:
        return ""
    table = coverage_table(frame["scene_label"], parse_sets(frame[SET_COLUMN]),
                           [c for c in classes_of(frame) if c in set(frame["scene_label"])])
    row = table.loc["all"]
    hits = int(round(row["coverage"] * row["n_clips"]))
    lines = [f"prediction sets: empirical coverage {row['coverage']:.3f} ({hits} of {int(row['n_clips'])} clips' "
             f"sets hold the true scene), mean set size {row['mean_size']:.2f}, singletons "
             f"{row['share_singleton']:.3f}, empty {row['share_empty']:.3f}",
             table.drop(index="all").to_string(float_format=lambda v: f"{v:.3f}")]
    return "\n".join(lines) + "\n"


def precision_note(decimals):
    """What the printed 'overall log loss' is, given the decimals the file's probabilities are printed with."""
    if decimals == 3:
        return ("note: overall log loss is over the file's probabilities as printed (3 decimals, the reference "
                "format): log_loss_ref3; the exact log_loss is in the run's manifest.json and in fit, compare and "
                "report output")
    what = f"{decimals} decimals" if decimals is not None else "as printed"
    return (f"note: overall log loss is over the file's probabilities ({what}), not log_loss_ref3 (3 decimals, "
            "the reference format); the exact log_loss is in the run's manifest.json and in fit, compare and "
            "report output")
