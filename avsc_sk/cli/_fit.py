"""avsc-sk fit: train one fusion mode and save a run directory."""

from pathlib import Path

from .._config import apply_overrides, load_config
from .._io import check_output
from .._load import load_split
from ..data import list_splits
from ..fusion import FUSIONS
from ..heads import HEADS
from ..runs import fit_run, save_run
from ._common import add_features_args, add_force, synthetic_banner


def add_parser(sub):
    p = sub.add_parser("fit", help="train a model and save it as a run directory",
                       description="Train one fusion mode. Config keys can be overridden, e.g. "
                                   "--params.head__C 0.5 or --set params.head__C=0.5.")
    p.add_argument("--config", type=Path, help="a TOML config, e.g. pipelines/early.toml")
    p.add_argument("--fusion", help=f"a modality name or one of {', '.join(FUSIONS)} (overrides the config)")
    p.add_argument("--model", help=f"the head: {', '.join(HEADS)} (overrides the config)")
    p.add_argument("--seed", type=int, help="random seed (overrides the config)")
    p.add_argument("--segment-frames", type=int, metavar="K",
                   help="segment mode: every K frames are one training sample (overrides the config)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. params.head__C=0.5 (repeatable)")
    add_features_args(p, split="train+val")
    p.add_argument("--eval-split", default="test",
                   help="labelled split to score the model on and record in the manifest ('' to skip)")
    p.add_argument("--out", type=Path, required=True, help="run directory to create")
    add_force(p)
    p.set_defaults(func=run)


def config_from_args(args):
    """The resolved config: file, then --fusion/--model/--seed, then overrides."""
    config = load_config(args.config)
    for key in ("fusion", "model", "seed", "segment_frames"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    return apply_overrides(config, args.overrides)


def run(args):
    check_output(args.out, force=args.force, what="run directory")
    config = config_from_args(args)
    train = load_split(args.features, args.split, max_frames=args.max_frames,
                       allow_missing_modality=args.allow_missing_modality)
    evaluate = None
    if args.eval_split:
        present = args.features is None or args.eval_split in list_splits(args.features)
        if present:
            evaluate = load_split(args.features, args.eval_split, max_frames=args.max_frames,
                                  allow_missing_modality=args.allow_missing_modality)
    model, manifest = fit_run(config, train, evaluate=evaluate, source=args.features, max_frames=args.max_frames)
    save_run(args.out, model, manifest, force=args.force)
    banner = synthetic_banner(train.synthetic)
    if banner:
        print(banner)
    line = f"fitted {config['fusion']} ({config['model']}) on {train.n_clips} clips in {manifest['timings']['fit_s']:.1f} s"
    scores = manifest["scores"]
    if scores:
        line += (f"; {scores['split']}: accuracy {scores['accuracy']:.3f}, "
                 f"log loss {scores['log_loss']:.3f} ({scores['n_clips']} clips)")
    print(line)
    chosen = manifest.get("chosen")
    if chosen:
        print("head parameters (chosen on location-grouped inner folds unless set): "
              + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in chosen.items()))
    print(f"saved run to {args.out}")
    return 0
