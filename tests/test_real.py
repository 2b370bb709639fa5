"""avsc-sk's defaults against scikit-learn's logistic regression on real two-view data (benchmarks/real.py).

Only targets that hold robustly are asserted: early fusion with defaults is at least as good as
LR on the concatenated views (within a small tolerance), and each single view's log loss is
within 0.03 of LR's on that view. The full comparison (every mode, stacking and voting peers,
bootstrap intervals) is ``python benchmarks/real.py``.
"""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("real", Path(__file__).parents[1] / "benchmarks" / "real.py")
real = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(real)


@pytest.fixture(scope="module", params=real.SETS)
def results(request):
    name = request.param
    modalities = real.load_views(name)["modalities"]
    views = [m[0] for m in modalities]
    avsc, peers = real.avsc_models(modalities), real.peer_models(modalities)
    models = {label: avsc[f"avsc-sk {label}"] for label in (*views, "early")}
    models.update({f"LR {v}": peers[f"LR {v}"] for v in views})
    models["LR concatenated"] = peers["LR concatenated"]
    return views, real.run_set(name, n_boot=200, models=models)


def test_default_early_fusion_matches_lr_on_the_concatenated_views(results):
    _, r = results
    early, peer = r["early"], r["LR concatenated"]
    assert early["accuracy"][0] >= peer["accuracy"][0] - 0.025
    assert early["log_loss"][0] <= peer["log_loss"][0] + 0.02


def test_each_default_view_is_within_003_log_loss_of_lr(results):
    views, r = results
    for view in views:
        assert abs(r[view]["log_loss"][0] - r[f"LR {view}"]["log_loss"][0]) <= 0.03, view


def test_the_split_is_by_pseudo_location():
    d = real.load_views("digits")
    assert not set(d["groups"][d["train"]]) & set(d["groups"][d["test"]])
    assert [m[2] for m in d["modalities"]] == [32, 32] and d["X"].shape == (1797, 64)
