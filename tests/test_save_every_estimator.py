"""Every estimator the registries can build saves and reloads through the real run store (issue 18).

The combinations come from the registries themselves, so a new head or fusion mode is covered
without editing this file. Hyper-parameters the heads would choose get small grids: the test is
about what a fitted model holds, not about the choice.
"""

import json

import numpy as np
import pytest

from avsc_sk._config import apply_overrides, load_config
from avsc_sk.errors import RunError
from avsc_sk.fusion import FUSIONS
from avsc_sk.heads import HEADS
from avsc_sk.runs import fit_run, load_run, save_run

from conftest import small_featureset

# Small candidate sets, so that each head still chooses (and records what it tried) in well under a second.
_SMALL = {"logreg": {"head__Cs": [0.1, 1.0]}, "linsvm": {"head__Cs": [0.1, 1.0]}, "svm": {"head__Cs": [1.0]},
          "lgbm": {"head__max_rounds": 20, "head__stopping_rounds": 5, "head__learning_rate": 0.3},
          "knn": {"head__ks": [3, 5]}, "mlp": {"head__alphas": [1e-3], "head__hidden_layer_sizes": [8],
                                               "head__max_iter": 30}}
_CASES = [(f, m) for f in FUSIONS if f != "intermediate" for m in HEADS] + [("intermediate", "logreg")]


@pytest.fixture(scope="module")
def data():
    return (small_featureset("train", n_per_class=8, dims=(4, 3)),
            small_featureset("test", n_per_class=3, dims=(4, 3), seed=1))


def _params(fusion, model):
    head = _SMALL[model]
    if fusion == "intermediate":
        return {"max_epochs": 5}
    if fusion in ("late", "weighted"):
        return {f"{m}__{k}": v for m in ("audio", "video") for k, v in head.items()} | {"cv": 2}
    return head


def _config(fusion, model):
    overrides = [f"fusion={json.dumps(fusion)}"] + ([] if fusion == "intermediate" else [f"model={json.dumps(model)}"])
    overrides += [f"params.{k}={json.dumps(v)}" for k, v in _params(fusion, model).items()]
    return apply_overrides(load_config(), overrides)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("fusion", "model"), _CASES, ids=[f"{f}-{m}" for f, m in _CASES])
def test_every_registry_estimator_saves_and_reloads(tmp_path, data, fusion, model):
    train, test = data
    fitted, manifest = fit_run(_config(fusion, model), train)
    save_run(tmp_path / "run", fitted, manifest)
    run = load_run(tmp_path / "run")
    np.testing.assert_array_equal(run.model.predict_proba(test.X), fitted.predict_proba(test.X))


def test_a_model_that_cannot_be_saved_keeps_the_old_run(tmp_path, data, monkeypatch):
    train, _ = data
    fitted, manifest = fit_run(_config("audio", "logreg"), train)
    save_run(tmp_path / "run", fitted, manifest)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    import skops.io as sio

    def broken(obj):
        raise TypeError("keys must be str, int, float, bool or None, not tuple")

    monkeypatch.setattr(sio, "dumps", broken)
    with pytest.raises(RunError, match="fitted but cannot be saved .*TypeError.*what was there is kept"):
        save_run(tmp_path / "run", fitted, manifest, force=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left behind
