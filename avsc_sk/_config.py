"""Run configurations: ``pipelines/*.toml`` and command-line overrides, mapped 1:1 onto estimator parameters.

A configuration is a small TOML document::

    fusion = "early"          # a modality name or a fusion mode
    model = "logreg"          # the head (default logreg; intermediate fusion takes none)
    seed = 0
    segment_frames = 0        # > 0: segment mode (every group of this many frames is a sample)
    cv_groups = "location"    # optional; "none": internal folds share locations (optimistic)
    teacher = "runs/early"    # optional: a single-modality student learns from this run (distillation)
    distill_alpha = 0.5       # optional: the teacher's share of the student's targets

    [params]                  # set_params keys of the estimator make_estimator builds
    head__C = 1.0
    features__audio__pool__stats = ["mean", "std"]
    pca = { estimator = "PCA", n_components = 256 }

A ``[params]`` value that is a table with an ``estimator`` key builds that estimator
(from a fixed list, see :data:`ESTIMATORS`) with the table's other keys as its
parameters; ``"passthrough"`` is kept as the string sklearn understands.
"""

import difflib
import json
import tomllib
from pathlib import Path

from .errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "ESTIMATORS", "load_config", "apply_overrides", "dump_config", "build_params",
           "check_param_keys"]

# model None: the mode's own classifier, logreg for the pipelines; intermediate fusion takes no model.
DEFAULT_CONFIG = {"fusion": "early", "model": None, "seed": 0, "segment_frames": 0, "params": {}}
_TYPES = {"fusion": str, "model": str, "seed": int, "segment_frames": int, "params": dict, "cv_groups": str,
          "budget": float,  # seconds for fusion or model "auto"; absent: AutoFusionClassifier's default
          # Cross-modal transfer: the teacher run directory a single-modality student learns from, and the
          # share of the teacher's probabilities in its targets (absent: DistilledClassifier's default).
          "teacher": str, "distill_alpha": float}


def _estimators():
    from lightgbm import LGBMClassifier
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from ._decomposition import CappedPCA

    return {"PCA": PCA, "CappedPCA": CappedPCA, "StandardScaler": StandardScaler,
            "LogisticRegression": LogisticRegression, "LGBMClassifier": LGBMClassifier}


#: Estimator names a ``[params]`` table may build. ``CappedPCA`` keeps at most ``n_components``
#: (fewer on folds with fewer clips or dimensions): the one for a config that must work on any data.
ESTIMATORS = ("PCA", "CappedPCA", "StandardScaler", "LogisticRegression", "LGBMClassifier")


def _check(config, source):
    unknown = sorted(set(config) - set(_TYPES))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; expected keys: {', '.join(_TYPES)}")
    for key, kind in _TYPES.items():
        value = config.get(key)
        if value is None:
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            continue  # TOML's 300 is an int
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{source}: {key} = {value!r} should be a {kind.__name__}")
    return config


def load_config(path=None):
    """Read a TOML configuration, fill defaults, and check keys and types.

    Parameters
    ----------
    path : str or Path, optional
        The TOML file; ``None`` gives the defaults.

    Returns
    -------
    dict
    """
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    if path is None:
        return config
    path = Path(path)
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config {path} does not exist; pass a file from pipelines/, e.g. pipelines/early.toml") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid TOML ({exc}); fix the syntax") from None
    _check(loaded, path)
    config.update(loaded)
    return config


def _parse_value(text):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as lgbm or passthrough


def apply_overrides(config, overrides, *, source="command line"):
    """Apply ``key=value`` overrides; dotted keys reach into tables (``params.head__C=0.5``).

    Values are TOML (``0.5``, ``true``, ``["mean", "std"]``); anything else is a string.
    """
    config = json.loads(json.dumps(config))
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip().removeprefix("--")
        if not sep or not key:
            raise ConfigError(f"override {item!r} should look like key=value, e.g. params.head__C=0.5")
        *parents, leaf = key.split(".", 1) if key.startswith("params.") else [key]
        target = config
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _parse_value(text)
    return _check(config, source)


def build_params(params, *, source="config"):
    """Turn ``[params]`` into ``set_params`` keyword arguments (building estimator tables)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            spec = dict(value)
            name = spec.pop("estimator", None)
            factory = _estimators().get(name)
            if factory is None:
                raise ConfigError(f"{source}: params.{key}.estimator = {name!r}; expected one of {', '.join(ESTIMATORS)}")
            try:
                value = factory(**spec)
            except TypeError as exc:
                raise ConfigError(f"{source}: params.{key}: {exc}") from None
        elif isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out


def check_param_keys(estimator, params, *, source="params", candidates=False):
    """Refuse a key that is not a ``get_params(deep=True)`` key of ``estimator``, naming the nearest valid ones.

    Parameters
    ----------
    estimator : estimator
    params : dict
        ``set_params`` keyword arguments, or with ``candidates=True`` a ``param_grid`` (key -> list of values).
        A key under a step that ``params`` itself sets (``pca__n_components`` beside ``pca``) is
        checked against that step's value (every candidate value).
    source : str, default="params"
        How the message names the keys: ``<source>.<key>``.
    candidates : bool, default=False

    Raises
    ------
    ConfigError
        ``<source>.<key> is not a parameter of the <Estimator>; did you mean ...?``
    """
    valid = estimator.get_params(deep=True)
    for key in params:
        parts = key.split("__")
        step = next((p for p in ("__".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)) if p in params), None)
        if step is not None:
            _check_under_step(key, step, params[step] if candidates else [params[step]], source, candidates)
            continue
        if key in valid:
            continue
        owner = next((p for p in ("__".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)) if p in valid), "")
        if valid.get(owner, "") in ("passthrough", None):
            raise ConfigError(f"{source}.{key}: {owner} is {valid[owner]!r}, so it has no parameters; set {owner} "
                              'to an estimator table in [params] too, e.g. { estimator = "PCA", n_components = 128 }')
        # Near spellings among the parameters of the deepest step the key names (any key if it names none).
        prefix = f"{owner}__" if owner else ""
        names = {k[len(prefix):].lower(): k for k in valid if k.startswith(prefix) and "__" not in k[len(prefix):]}
        close = [names[m] for m in difflib.get_close_matches(key[len(prefix):].lower(), names, n=3, cutoff=0.6)]
        if not owner:
            close = difflib.get_close_matches(key, valid, n=3, cutoff=0.8) or close
        shown = sorted(k[len(prefix):] for k in names.values())
        hint = (f"; did you mean {' or '.join(close)}?" if close else
                f"; {owner or 'it'} takes {', '.join(shown[:6])}{', ...' if len(shown) > 6 else ''}")
        raise ConfigError(f"{source}.{key} is not a parameter of the {type(estimator).__name__}{hint}")


def _check_under_step(key, step, values, source, candidates):
    leaf = key[len(step) + 2:]
    for value in values:
        own = value.get_params(deep=True) if hasattr(value, "get_params") else {}
        if leaf not in own:
            close = difflib.get_close_matches(leaf, own, n=1, cutoff=0.6)
            hint = f"; did you mean {step}__{close[0]}?" if close else ""
            if not own and candidates:
                hint = f"; search {step} = {value!r} in a [[grid]] table of its own"
            name = type(value).__name__ if own else repr(value)
            raise ConfigError(f"{source}.{key}: {step} is set to {name} here, which has no parameter {leaf!r}{hint}")


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ConfigError(f"cannot write {value!r} to a TOML config")


def _toml_key(key):
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def dump_config(config, header=None):
    """The TOML text of a configuration (what ``fit --config`` reads back)."""
    lines = [f"# {line}" for line in (header or "").splitlines()]
    lines += [f"{k} = {_toml_value(v)}" for k, v in config.items() if k != "params" and v is not None]
    lines += ["", "[params]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in config.get("params", {}).items()]
    return "\n".join(lines) + "\n"
