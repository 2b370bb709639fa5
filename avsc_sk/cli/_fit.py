"""avsc-sk fit: train one fusion mode and save a run directory."""

import warnings
from pathlib import Path

from .._config import apply_overrides, load_config
from .._io import check_output
from .._load import load_split
from ._common import FUSIONS, HEADS, add_class_weight, add_features_args, add_force, add_quiet, synthetic_banner
from ._predict import add_n_jobs


def add_parser(sub):
    p = sub.add_parser("fit", help="train a model and save it as a run directory",
                       description="Train one fusion mode. Config keys can be overridden, e.g. "
                                   "--params.head__C 0.5 or --set params.head__C=0.5.")
    p.add_argument("--config", type=Path, help="a TOML config, e.g. pipelines/early.toml")
    p.add_argument("--fusion", help=f"a modality name or one of {', '.join(FUSIONS)}, or auto: the one with the "
                                    "lowest grouped CV log loss (overrides the config)")
    p.add_argument("--model", help=f"the head: {', '.join(HEADS)}, or auto (overrides the config; default logreg). "
                                   "Intermediate fusion is its own network and takes none: --model is refused there")
    p.add_argument("--budget", type=float, metavar="S",
                   help="with --fusion auto or --model auto: seconds the search and refit may take by the "
                        "cost model (default 300; also a wall-clock cap on the search)")
    p.add_argument("--seed", type=int, help="random seed (overrides the config)")
    p.add_argument("--segment-frames", type=int, metavar="K",
                   help="segment mode: every K frames are one training sample (overrides the config)")
    p.add_argument("--cv-groups", choices=("location", "none"),
                   help="every internal fold (a head's choice of C, late/weighted fusion's out-of-fold "
                        "probabilities, intermediate fusion's hold-out): 'location' groups them by recording "
                        "location or refuses data that cannot be; 'none': stratified folds that share locations "
                        "(optimistic). Default: grouped where every class can stay in training, else stratified "
                        "with one warning, recorded in the manifest's cv_fallbacks")
    p.add_argument("--teacher", type=Path, metavar="RUN",
                   help="cross-modal transfer: the single-modality student (--fusion audio or video, head logreg "
                        "or mlp) learns from this fitted run's location-grouped out-of-fold probabilities on the "
                        "training clips as well as the labels (overrides the config's teacher)")
    p.add_argument("--distill-alpha", type=float, metavar="A",
                   help="with --teacher: the teacher's share of the student's targets, 0..1 (default 0.5)")
    add_class_weight(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. params.head__C=0.5 (repeatable)")
    add_features_args(p, split="train+val")
    p.set_defaults(split=None)  # train+val, or the one of them the features hold
    p.add_argument("--eval-split", default="test",
                   help="labelled split to score the model on and record in the manifest ('' to skip)")
    p.add_argument("--calibrate", action="store_true",
                   help="also calibrate prediction sets (predict --coverage): about five more fits of the "
                        "model, its hyper-parameters fixed, on location-grouped folds of the training clips "
                        "(early +50%%, late and weighted +150%%, intermediate +400%% of the fit)")
    p.add_argument("--out", type=Path, required=True, help="run directory to create")
    add_n_jobs(p, "late and weighted fusion fit their modalities' internal folds at once, --fusion/--model "
                  "auto each candidate's folds (processes); the evaluation split is predicted in chunks (threads)")
    add_force(p)
    add_quiet(p)
    p.set_defaults(func=run)


def config_from_args(args):
    """The resolved config: file, then --fusion/--model/--seed, then overrides."""
    config = load_config(args.config)
    for key in ("fusion", "model", "seed", "segment_frames", "cv_groups", "budget"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if getattr(args, "teacher", None) is not None:
        config["teacher"] = str(args.teacher)
    if getattr(args, "distill_alpha", None) is not None:
        config["distill_alpha"] = args.distill_alpha
    return apply_overrides(config, args.overrides)


def run(args):
    from .._load import available_splits
    from ..experiments import AutoSelectionWarning, format_candidates
    from .._progress import terminal_progress
    from ..runs import fit_run, read_stats, save_run, with_class_weight

    check_output(args.out, force=args.force, what="run directory")
    config = config_from_args(args)
    from .._load import training_split

    split, note = (args.split, None) if args.split else training_split(args.features, args.meta)
    if note:
        print(note)
    stats = read_stats(config)  # pool while reading: only the statistics the config can use
    teacher = None
    if config.get("teacher") is not None:
        from ..runs import load_run, teacher_stats

        teacher = load_run(config["teacher"])
        stats = teacher_stats(config, teacher.manifest)  # one read serves the teacher and the student
    train = load_split(args.features, split, max_frames=args.max_frames,
                       allow_missing_modality=args.allow_missing_modality, stats=stats, meta=args.meta)
    if args.class_weight:
        config = with_class_weight(config, train.modalities, input_stats=train.stats, class_weight=args.class_weight)
    evaluate = None
    if args.eval_split:
        present = args.eval_split in available_splits(args.features, args.meta)
        if present:
            evaluate = load_split(args.features, args.eval_split, max_frames=args.max_frames,
                                  allow_missing_modality=args.allow_missing_modality, stats=stats, meta=args.meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AutoSelectionWarning)  # said below, from the manifest, as one line
        model, manifest = fit_run(config, train, evaluate=evaluate, source=args.features,
                                  max_frames=args.max_frames, n_jobs=args.n_jobs,
                                  calibrate=args.calibrate, progress=terminal_progress(args.quiet), teacher=teacher)
    if args.meta is not None:
        manifest["train"]["meta"] = str(args.meta)  # predict and report default to it with the run's features
    save_run(args.out, model, manifest, force=args.force)
    banner = synthetic_banner(train.synthetic)
    if banner:
        print(banner)
    from ..runs import format_scores, score_label
    from ._predict import warn

    for message in manifest["warnings"]:
        warn(message)
    selection = manifest.get("selection")
    if selection:
        print(format_candidates(selection["candidates"]))
        print(f"auto: chose {selection['fusion']} ({selection['model']}): {selection['reason']}")
        if selection["stopped_by_wall_clock"]:
            warn(f"the search ran past --budget {selection['budget_s']:g} s of wall clock and skipped candidates; "
                 "the choice may differ on a faster machine, raise --budget")
    # With --fusion/--model auto, the manifest records the mode and head fitted, not "auto".
    fusion, model = manifest["fusion"], manifest["model"]
    head = "its own network" if fusion == "intermediate" else model
    line = f"fitted {fusion} ({head}) on {train.n_clips} clips in {manifest['timings']['fit_s']:.1f} s"
    scores = manifest["scores"]
    if scores:
        line += f"; {score_label(scores)}: {format_scores(scores)}"
    print(line)
    if manifest.get("teacher"):
        t = manifest["teacher"]
        print(f"distilled from {t['path']} ({t['fusion']}, alpha {t['alpha']:g}): teacher out-of-fold accuracy "
              f"{t['oof_accuracy']:.3f}, log_loss {t['oof_log_loss']:.3f} over {t['oof_folds']} grouped folds")
    chosen = manifest.get("chosen")
    if chosen:
        where = "inner folds, some sharing locations (see the warning)" if manifest.get("cv_fallbacks") else \
            "stratified inner folds that share locations" if config.get("cv_groups") == "none" else \
            "location-grouped inner folds"
        print(f"head parameters (chosen on {where} unless set): "
              + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in chosen.items()))
    calibration = manifest.get("calibration")
    if calibration:
        folds = "location-grouped folds" if calibration["grouped"] else "folds sharing locations (optimistic)"
        print(f"prediction sets calibrated on {calibration['n_clips']} out-of-fold training clips "
              f"({calibration['folds']} {folds}) in {calibration['seconds']:.1f} s")
    print(f"saved run to {args.out}")
    return 0
