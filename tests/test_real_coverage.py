"""Conformal coverage on real two-view data (benchmarks/real_coverage.py), a few splits of wine.

The full table (digits and wine, 20 grouped splits each) is ``python benchmarks/real_coverage.py``;
here four splits of wine keep it quick, with tolerances for them: the standard error of a mean of
four coverages on 89 test samples is about 0.016.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_path = Path(__file__).parents[1] / "benchmarks" / "real_coverage.py"
_spec = importlib.util.spec_from_file_location("real_coverage", _path)
real_coverage = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(_path.parent))
try:
    _spec.loader.exec_module(real_coverage)
finally:
    sys.path.remove(str(_path.parent))


@pytest.fixture(scope="module")
def splits():
    return [real_coverage.run_split("wine", seed) for seed in range(4)]


def test_exact_sets_cover_close_to_the_nominal_on_real_data(splits):
    for key in splits[0]:
        coverage = np.mean([s[key]["coverage"] for s in splits])
        assert 0.86 <= coverage <= 0.96, (key, coverage)


def test_filling_empty_sets_covers_as_often_as_the_model_is_right(splits):
    # Why the exact sets are the default: a model more accurate than 0.9 covers its accuracy when filled.
    for mode, by in splits[0]:
        for s in splits:
            assert s[(mode, by)]["non_empty"] >= s[(mode, by)]["coverage"]
        if by == "all" and mode in ("early", "late", "weighted"):
            exact = np.mean([s[(mode, by)]["coverage"] for s in splits])
            filled = np.mean([s[(mode, by)]["non_empty"] for s in splits])
            accuracy = np.mean([s[(mode, by)]["accuracy"] for s in splits])
            assert filled == pytest.approx(accuracy, abs=0.01) and filled > exact + 0.02
            assert np.mean([s[(mode, by)]["empty"] for s in splits]) > 0.02
