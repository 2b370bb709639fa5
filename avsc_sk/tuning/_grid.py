"""Grid files: a fit configuration plus a ``[grid]`` table of ``param_grid`` keys, read and written back.

A grid file looks like::

    fusion = "late"
    model = "logreg"
    seed = 0

    [params]                       # fixed values, as in a fit config
    pooler__audio__stats = ["mean"]

    [grid]                         # searched values: sklearn param_grid keys -> lists
    audio__head__C = [0.1, 1.0]
    audio__pca = ["passthrough", { estimator = "PCA", n_components = 64 }]

Values follow :func:`avsc_sk._config.build_params`: estimator tables are built, lists
become tuples; TOML has no null, so the string ``"None"`` means ``None``. ``[[grid]]``
(an array of tables) gives a list of grids, as sklearn accepts. :func:`plain_value` turns a
searched value back into what a config file can hold.
"""

import json
import tomllib
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

from .._config import DEFAULT_CONFIG, ESTIMATORS, _check, build_params, check_param_keys
from ..errors import ConfigError


def _grid_value(key, value, source):
    if isinstance(value, str) and value == "None":
        return None
    return build_params({key: value}, source=f"{source}: grid")[key]


def _parse_grid(table, source):
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{source}: [grid] should be a table of param_grid keys, e.g. head__C = [0.1, 1.0]")
    grid = {}
    for key, values in table.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: grid.{key} = {values!r} should be a non-empty list of values to try")
        grid[key] = [_grid_value(key, v, source) for v in values]
    return grid


def load_grid(path):
    """Read a grid file: a fit configuration and its ``[grid]`` search space.

    Parameters
    ----------
    path : str or Path
        A TOML file such as ``pipelines/grid-late.toml``.

    Returns
    -------
    config : dict
        The fixed part, as :func:`avsc_sk._config.load_config` returns it.
    param_grid : dict or list of dict
        ``param_grid`` for :func:`make_search`, estimator tables already built.

    Raises
    ------
    ConfigError
        For a missing or invalid file, a missing ``[grid]``, or a grid value that is not a list.
    """
    path = Path(path)
    try:
        loaded = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"grid file {path} does not exist; pass one from pipelines/, "
                          "e.g. pipelines/grid-late.toml") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"grid file {path} is not valid TOML ({exc}); fix the syntax") from None
    table = loaded.pop("grid", None)
    if table is None:
        raise ConfigError(f"{path} has no [grid] table; add one, e.g. [grid] head__C = [0.1, 1.0]")
    config = json.loads(json.dumps(DEFAULT_CONFIG))
    config.update(_check(loaded, path))
    grids = [_parse_grid(t, path) for t in table] if isinstance(table, list) else [_parse_grid(table, path)]
    overlap = sorted(set(config["params"]) & {k for g in grids for k in g})
    if overlap:
        raise ConfigError(f"{path}: {overlap[0]!r} is both in [params] and [grid]; keep it in one of them")
    return config, (grids[0] if len(grids) == 1 else grids)


def _grids(param_grid):
    return [param_grid] if isinstance(param_grid, dict) else list(param_grid)


def check_grid(estimator, param_grid):
    """Refuse grid keys the estimator does not have, naming the nearest valid ones."""
    for grid in _grids(param_grid):
        check_param_keys(estimator, grid, source="grid", candidates=True)


def _label(value):
    if isinstance(value, BaseEstimator):
        if type(value).__name__ not in ESTIMATORS:
            return repr(value)
        spec = _estimator_spec(value)
        return spec["estimator"] + "(" + ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "estimator") + ")"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_label(v) for v in value) + "]"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value) if isinstance(value, str) else repr(value)


def _estimator_spec(est):
    name = type(est).__name__
    if name not in ESTIMATORS:
        raise ConfigError(f"cannot write a {name} to a config; [params] tables may build {', '.join(ESTIMATORS)}")
    defaults = type(est)().get_params(deep=False)
    spec = {"estimator": name}
    for key, value in est.get_params(deep=False).items():
        if value is not defaults.get(key) and value != defaults.get(key):
            spec[key] = plain_value(value, key)
    return spec


def plain_value(value, key):
    """A TOML- and JSON-writable version of the parameter ``key``'s value.

    Estimators become their config tables (``{estimator = "PCA", n_components = 64}``), tuples
    lists and numpy scalars Python ones.

    Raises
    ------
    ConfigError
        For a value a config cannot hold (an estimator :func:`load_grid` cannot build, ``None``).
    """
    if isinstance(value, BaseEstimator):
        return _estimator_spec(value)
    if isinstance(value, (tuple, list)):
        return [plain_value(v, key) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(f"cannot write {key} = {value!r} to a config")
