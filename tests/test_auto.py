"""Automatic selection of the fusion mode and head: AutoFusionClassifier and its budget."""

import json
import math
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from avsc_sk.errors import ConfigError, DataError
from avsc_sk.experiments import (CANDIDATE_COLUMNS, AutoFusionClassifier, AutoSelectionWarning, afford,
                                 estimate_fit_seconds, format_candidates, halving_schedule)
from avsc_sk.experiments import _auto
from avsc_sk.fusion import LateFusionClassifier

MODS = (("audio", 2, 8), ("video", 2, 6))


def noisy_video(n_locations=8, per_location=12, n_classes=3, seed=0):
    """Audio frames carry the class; video frames are pure noise. One scene per location, as in TAU."""
    rng = np.random.default_rng(seed)
    loc_class = np.repeat(np.arange(n_classes), n_locations)
    groups = np.repeat(np.arange(len(loc_class)), per_location)
    y = loc_class[groups]
    n = len(y)
    centres = rng.normal(scale=1.2, size=(n_classes, 8))
    audio = centres[y][:, None, :] + rng.normal(size=(n, 2, 8))
    video = rng.normal(size=(n, 2, 6))
    X = np.hstack([audio.reshape(n, -1), video.reshape(n, -1)]).astype(np.float32)
    return X, np.array(["bus", "park", "tram"])[y], groups


@pytest.fixture(scope="module")
def data():
    return noisy_video()


@pytest.fixture
def frozen_clock(monkeypatch):
    """The search's wall clock stands still: with a small budget, a loaded machine must not change the result."""
    monkeypatch.setattr(_auto, "time", types.SimpleNamespace(perf_counter=lambda: 0.0))


def _scores(res):
    return {k: v for k, v in res.items() if k != "fit_time_s"}


# -- the choice --------------------------------------------------------------------------------
def test_picks_the_informative_modality_over_noise(data):
    X, y, groups = data
    auto = AutoFusionClassifier(MODS, fusions=("audio", "video", "early"), models="logreg", cv=3).fit(X, y, groups)
    res = pd.DataFrame(auto.cv_results_).set_index("fusion")
    assert auto.best_fusion_ in ("audio", "early") and auto.best_model_ == "logreg"
    assert res.loc["video", "mean_log_loss"] > res.loc["audio", "mean_log_loss"] + 0.3
    assert res.loc["video", "mean_accuracy"] < 0.6 < res.loc["audio", "mean_accuracy"]
    assert res.loc[auto.best_fusion_, "mean_log_loss"] == res["mean_log_loss"].min()
    assert list(res["n_clips"]) == [len(y)] * 3  # one rung on every clip: 50 per class is more than there are


def test_pooled_input_is_passed_to_every_candidate(data):
    X, y, groups = data
    pooled = np.hstack([X[:, :16].reshape(-1, 2, 8).mean(axis=1), X[:, 16:].reshape(-1, 2, 6).mean(axis=1)])
    auto = AutoFusionClassifier(MODS, fusions=("audio", "video"), models="logreg", cv=3, input_stats=("mean",))
    auto.fit(pooled, y, groups)
    assert auto.best_fusion_ == "audio" and auto.n_features_in_ == 14
    frames = AutoFusionClassifier(MODS, fusions=("audio", "video"), models="logreg", cv=3).fit(X, y, groups)
    np.testing.assert_allclose(auto.cv_results_["mean_log_loss"], frames.cv_results_["mean_log_loss"], rtol=1e-4)


def test_predict_proba_is_the_refitted_winners(data):
    X, y, groups = data
    auto = AutoFusionClassifier(MODS, fusions=("audio", "video"), models="logreg", cv=3).fit(X, y, groups)
    P = auto.predict_proba(X)
    np.testing.assert_allclose(P, auto.best_estimator_.predict_proba(X))
    assert list(auto.classes_) == ["bus", "park", "tram"]
    np.testing.assert_array_equal(auto.predict(X), auto.classes_[P.argmax(axis=1)])
    assert auto.best_estimator_.n_features_in_ == X.shape[1]  # refitted on every clip


def test_the_folds_are_grouped_by_the_training_groups(data, monkeypatch):
    X, y, groups = data
    calls, counts, real = [], [], _auto.check_cv_splits

    def spy(y_, groups_, *, n_splits, random_state, **kwargs):
        calls.append((len(y_), groups_, n_splits, random_state))
        counts.append(np.unique(y_, return_counts=True)[1].tolist())
        return real(y_, groups_, n_splits=n_splits, random_state=random_state, **kwargs)

    monkeypatch.setattr(_auto, "check_cv_splits", spy)
    AutoFusionClassifier(MODS, fusions=("audio", "video", "early"), models=("logreg", "knn"), cv=3, min_clips=60,
                         random_state=4).fit(X, y, groups)
    assert [c[0] for c in calls] == [96, len(y)]  # two rungs: a third of the clips, then all of them
    for n, g, n_splits, seed in calls:
        assert g is not None and len(g) == n and n_splits == 3 and seed == 4
    assert set(calls[0][1]) <= set(groups) and counts == [[32, 32, 32], [96, 96, 96]]  # stratified subset


def test_late_fusion_gets_the_training_folds_groups(data, monkeypatch):
    X, y, groups = data
    seen, real_fit = [], LateFusionClassifier.fit

    def fit(self, X_, y_, groups=None):
        seen.append((len(y_), None if groups is None else sorted(set(groups))))
        return real_fit(self, X_, y_, groups=groups)

    monkeypatch.setattr(LateFusionClassifier, "fit", fit)
    AutoFusionClassifier(MODS, fusions=("audio", "late"), models="logreg", cv=3).fit(X, y, groups)
    assert len(seen) == 3 + (1 if seen[-1][0] == len(y) else 0)  # three folds, and the refit if late won
    for n, g in seen[:3]:
        assert g is not None and n < len(y) and set(g) < set(groups)
        assert n == int(np.isin(groups, g).sum())  # exactly the training fold's clips and their locations


def test_the_heads_of_pipeline_candidates_choose_on_the_locations(data):
    # A Pipeline's fit takes no `groups`: they must still reach its head, in every fold and in the refit.
    from avsc_sk.heads import UngroupedWarning

    X, y, groups = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", UngroupedWarning)
        auto = AutoFusionClassifier(MODS, fusions=("audio", "early"), models="logreg", cv=3).fit(X, y, groups)
    assert auto.best_fusion_ in ("audio", "early")


def test_cv_groups_reaches_every_candidate(data):
    X, y, groups = data
    auto = AutoFusionClassifier(MODS, fusions="late", models="logreg", cv_groups="none").fit(X, y, groups)
    assert auto.cv_results_["status"] == ["only candidate"] and auto.best_estimator_.cv_groups == "none"


# -- reproducibility and the table ------------------------------------------------------------------
def test_same_seed_same_choice_and_table(data):
    X, y, groups = data
    params = dict(fusions=("audio", "video", "early"), models=("logreg", "knn"), cv=3, min_clips=60, random_state=1)
    a = AutoFusionClassifier(MODS, **params).fit(X, y, groups)
    b = AutoFusionClassifier(MODS, **params).fit(X, y, groups)
    assert len(a.rungs_) == 2 and a.rungs_ == b.rungs_ and [r["folds"] for r in a.rungs_] == [3, 3]
    assert (a.best_fusion_, a.best_model_) == (b.best_fusion_, b.best_model_)
    assert _scores(a.cv_results_) == _scores(b.cv_results_)
    halved = [s for s in a.cv_results_["status"] if s == "halved out after rung 1"]
    assert len(halved) == 4  # six candidates, the best third (two) go on
    # Those two start rung 2 warm: their heads choose within the range their folds chose on rung 1.
    second = [i for i, rung in enumerate(a.cv_results_["rung"]) if rung == 2]
    warm = [a.cv_results_["warm_start"][i] for i in second]
    assert len(second) == 2 and any(w.startswith("head__") for w in warm), warm
    assert all(a.cv_results_["warm_start"][i] == "" for i in range(6) if i not in second)


def test_folds_in_worker_processes_score_alike(data):
    X, y, groups = data
    params = dict(fusions=("audio", "late"), models="logreg", cv=3, random_state=1)
    serial = AutoFusionClassifier(MODS, **params).fit(X, y, groups)
    parallel = AutoFusionClassifier(MODS, n_jobs=2, **params).fit(X, y, groups)
    for key in ("mean_log_loss", "mean_accuracy"):
        np.testing.assert_allclose(parallel.cv_results_[key], serial.cv_results_[key], rtol=0, atol=1e-10)
    assert parallel.cv_results_["rank"] == serial.cv_results_["rank"]
    assert parallel.cv_results_["warm_start"] == serial.cv_results_["warm_start"]


def test_a_folds_warnings_are_returned_for_the_parent_to_show(data):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    X, y, _ = data
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # shown in the fold (a worker process) it would raise here
        *_, caught = _auto._fold_scores(LogisticRegression(max_iter=1), X, y, None, np.arange(0, len(y), 2),
                                        np.arange(1, len(y), 2), classes)
    assert [category for _, category in caught] == [ConvergenceWarning]


def _given_capacity(estimator):
    """A candidate whose heads (and late fusion's stacker) are given C=1 or 10 neighbours instead of choosing."""
    from avsc_sk.heads import LogisticRegressionHead

    params = estimator.get_params()
    pins = {k: {"C": 1.0, "n_neighbors": 10}[k.rsplit("__", 1)[-1]] for k, v in params.items()
            if v is None and k.rsplit("__", 1)[-1] in ("C", "n_neighbors")}
    if "final_estimator" in params and params["final_estimator"] is None:
        pins["final_estimator"] = LogisticRegressionHead(C=1.0)
    return estimator.set_params(**pins)


def test_cv_results_hold_every_candidate(data, monkeypatch):
    X, y, groups = data
    # The table, not the heads' choosing (the tests above), is checked: eleven candidates whose heads
    # each chose by inner CV on every fold made this the suite's slowest test.
    real_make = _auto.make_estimator
    monkeypatch.setattr(_auto, "make_estimator", lambda *a, **kw: _given_capacity(real_make(*a, **kw)))
    auto = AutoFusionClassifier(MODS, models=("logreg", "knn"), cv=3, min_clips=60).fit(X, y, groups)
    table = pd.DataFrame(auto.cv_results_)
    assert tuple(table.columns) == CANDIDATE_COLUMNS
    expected = {(f, m) for f in ("audio", "video", "early", "late", "weighted") for m in ("logreg", "knn")}
    assert set(zip(table["fusion"], table["model"])) == expected | {("intermediate", "network")}
    scored = table[table["rung"] > 0]
    assert sorted(scored["rank"]) == list(range(1, len(scored) + 1))
    assert (scored["mean_log_loss"] > 0).all() and scored["mean_accuracy"].between(0, 1).all()
    best = table[table["rank"] == 1].iloc[0]
    assert (best["fusion"], best["model"]) == (auto.best_fusion_, auto.best_model_)
    assert best["status"] == "best" and best["n_clips"] == len(y)
    assert best["fusion"] != "video"
    text = format_candidates(auto.cv_results_)
    lines = text.splitlines()
    assert len(lines) == 1 + len(table) and lines[1].split()[:3] == ["1", best["fusion"], best["model"]]


def test_a_candidate_that_cannot_fit_is_out_and_the_others_go_on(data):
    X, y, _ = data
    # Two clips a scene, two folds: one clip a scene to train on, too few for late fusion's internal folds.
    rows = np.r_[0:2, 96:98, 192:194]
    auto = AutoFusionClassifier(MODS, fusions=("late", "audio"), models="logreg", cv=2, cv_groups="none")
    auto.fit(X[rows], y[rows])
    status = dict(zip(auto.cv_results_["fusion"], auto.cv_results_["status"]))
    assert status["late"].startswith("failed at rung 1: late fusion's internal cross-validation: no stratified split")
    assert status["audio"] == "best" and auto.best_fusion_ == "audio"
    assert math.isnan(auto.cv_results_["mean_log_loss"][0]) and auto.cv_results_["rank"] == [None, 1]
    # Every candidate failed: the first one's error, as it was.
    with pytest.raises(DataError, match="^weighted fusion's internal cross-validation: no stratified split"):
        AutoFusionClassifier(MODS, fusions=("weighted", "late"), models="logreg", cv=2, cv_groups="none").fit(
            X[rows], y[rows])


# -- the budget ------------------------------------------------------------------------------------
def test_the_budget_cuts_the_dearest_candidates_deterministically(data, frozen_clock):
    X, y, groups = data
    params = dict(fusions=("audio", "video", "early", "late"), models="logreg", cv=3, budget=10.0)
    a = AutoFusionClassifier(MODS, **params).fit(X, y, groups)
    b = AutoFusionClassifier(MODS, **params).fit(X, y, groups)
    res = pd.DataFrame(a.cv_results_).set_index("fusion")
    assert res.loc["late", "cut_by_budget"] and res.loc["late", "status"] == "cut by budget at rung 1"
    assert math.isnan(res.loc["late", "mean_log_loss"]) and a.cv_results_["rank"][3] is None
    kept, cut = res[~res["cut_by_budget"]], res[res["cut_by_budget"]]
    assert len(kept) >= 2 and kept["estimated_s"].max() <= cut["estimated_s"].min()  # the dearest go first
    assert a.rungs_ == b.rungs_ and a.rungs_[0]["n_clips"] == 150 and a.rungs_[0]["cut_by_budget"] == len(cut)
    assert a.estimated_s_ <= 10.0
    assert _scores(a.cv_results_) == _scores(b.cv_results_)
    assert "cut by budget at rung 1" in format_candidates(a.cv_results_)


def test_a_budget_below_every_comparison_keeps_the_cheapest(data, frozen_clock):
    X, y, groups = data
    auto = AutoFusionClassifier(MODS, fusions=("early", "late"), models="logreg", cv=3, budget=0.01).fit(X, y, groups)
    res = pd.DataFrame(auto.cv_results_).set_index("fusion")
    assert auto.best_fusion_ == "early" and auto.rungs_ == []
    assert res.loc["early", "status"] == "chosen unscored: the cheapest within budget"
    assert res.loc["late", "cut_by_budget"]
    assert auto.predict(X).shape == y.shape


def test_the_wall_clock_cap_is_reported(data, monkeypatch):
    X, y, groups = data
    ticks = iter(range(10**6))  # a clock that advances two seconds per reading
    monkeypatch.setattr(_auto, "time", types.SimpleNamespace(perf_counter=lambda: 2.0 * next(ticks)))
    auto = AutoFusionClassifier(MODS, fusions=("audio", "video", "early"), models="logreg", cv=3, budget=9.0)
    with pytest.warns(AutoSelectionWarning, match="ran past its budget of 9 s"):
        auto.fit(X, y, groups)
    status = auto.cv_results_["status"]
    assert auto.stopped_by_wall_clock_
    assert status.count("not scored at rung 1: wall clock") == 1 and status.count("best") == 1
    assert auto.best_fusion_ in ("audio", "video")


def test_halving_schedule():
    assert halving_schedule(31, 8646, eta=3, min_clips=500) == ([31, 11, 4, 2], [500, 960, 2882, 8646])
    assert halving_schedule(6, 288, min_clips=150) == ([6, 2], [150, 288])
    assert halving_schedule(9, 100, min_clips=100) == ([9], [100])  # one set of clips: one rung
    assert halving_schedule(1, 100) == ([], [])


def test_afford_cuts_by_the_cost_on_every_clip():
    assert afford([1, 2, 3, 10], [1, 2, 3, 10], [0, 0, 0, 0], 10, 1) == ([0, 1, 2], [3])
    assert afford([1, 2, 3, 10], [1, 2, 3, 10], [0, 0, 0, 0], 20, 2) == ([0, 1, 2], [3])  # a share of 10 each
    assert afford([1, 2, 3, 10], [1, 2, 3, 10], [0, 0, 0, 5], 21, 1) == ([0, 1, 2, 3], [])  # 16 and its refit 5
    assert afford([1, 2, 3, 10], [1, 2, 3, 10], [0, 0, 0, 5], 20, 1) == ([0, 1, 2], [3])
    assert afford([5, 1], [1, 5], [0, 0], 5, 1) == ([0], [1])  # cheap now, dear on every clip
    assert afford([9, 9], [9, 9], [0, 0], 1, 1) == ([0], [1])  # the cheapest always stays


def test_estimate_fit_seconds_is_deterministic_and_grows():
    mods = (("audio", 10, 512), ("video", 10, 512))
    assert estimate_fit_seconds("early", "logreg", mods, 1000) == estimate_fit_seconds("early", "logreg", mods, 1000)
    for fusion, model in (("audio", "logreg"), ("early", "svm"), ("late", "lgbm"), ("intermediate", "network")):
        assert estimate_fit_seconds(fusion, model, mods, 2000) > estimate_fit_seconds(fusion, model, mods, 1000)
    assert estimate_fit_seconds("late", "logreg", mods, 1000) > estimate_fit_seconds("early", "logreg", mods, 1000)
    assert estimate_fit_seconds("audio", "svm", mods, 4000) > 2 * estimate_fit_seconds("audio", "logreg", mods, 4000)


def test_cost_model_affords_every_fusion_mode_at_fold1_size():
    # Fold1 train+val as `fit --fusion auto` sees it: 8,646 clips, 512 + 512 pooled means, ten scenes.
    mods, stats, n, cv = (("audio", 96, 512), ("video", 96, 512)), ("mean",), 8646, 5
    candidates = [("audio", "logreg"), ("video", "logreg"), ("early", "logreg"), ("intermediate", "network"),
                  ("late", "logreg"), ("weighted", "logreg")]

    def cv_cost(c, clips):  # as AutoFusionClassifier prices a candidate's cross-validation
        return cv * estimate_fit_seconds(*c, mods, clips * (cv - 1) // cv, stats)

    counts, sizes = halving_schedule(len(candidates), n, eta=3, min_clips=500)
    kept, cut = afford([cv_cost(c, sizes[0]) for c in candidates], [cv_cost(c, n) for c in candidates],
                       [estimate_fit_seconds(*c, mods, n, stats) for c in candidates], 300.0, len(sizes))
    assert cut == [] and kept == list(range(6))
    # Late and weighted fusion: one member fit choosing C per modality plus five fixed-C fits, not 5 x 5.
    late = estimate_fit_seconds("late", "logreg", mods, n, stats)
    assert late < 2.5 * estimate_fit_seconds("early", "logreg", mods, n, stats)
    assert estimate_fit_seconds("late", "logreg", mods, n, stats, member_tuning="nested") > 2 * late


def test_narrowed_grids_keep_the_chosen_range_one_step_wider():
    from avsc_sk.fusion import make_estimator
    from avsc_sk.heads import narrowed_grids

    early = make_estimator("early", MODS, model="logreg")
    Cs = sorted(early.get_params()["head__Cs"])
    got = narrowed_grids(early, [{"head__C": Cs[4]}, {"head__C": Cs[6]}])
    assert got == {"head__Cs": tuple(Cs[3:8])}
    assert narrowed_grids(early.set_params(head__C=1.0), [{"head__C": 1.0}]) == {}  # given, not chosen
    late = make_estimator("late", MODS, model="knn")
    assert narrowed_grids(late, [{"audio__head__n_neighbors": 5, "video__head__n_neighbors": 7}]) == \
        {"audio__head__ks": (5, 10)}  # 7 is no k of the grid (capped by a small fold): left whole


# -- bad parameters ------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, match", [
    (dict(budget=0), "budget=0"),
    (dict(cv=1), "cv=1"),
    (dict(fusions=("early", "nope")), "nope"),
    (dict(models=("logreg", "forest")), "forest"),
    (dict(fusions=[]), "fusions"),
    (dict(modalities=(("audio", 2, 8),)), "span 16 columns"),
    (dict(cv_groups="city"), "cv_groups='city'"),
    (dict(n_jobs=0), "n_jobs=0"),
])
def test_bad_parameters_are_one_config_error(data, params, match):
    X, y, groups = data
    params = {"modalities": MODS, **params}
    with pytest.raises(ConfigError, match=match):
        AutoFusionClassifier(**params).fit(X, y, groups)


# -- the command line ---------------------------------------------------------------------------------
def _many_locations(small_featureset, split, n_per_class):
    """small_featureset's frames on clips from 8 locations per scene (2 each), so grouped folds can hold every scene."""
    from avsc_sk.data import FeatureSet
    from avsc_sk.datasets import load_fold1_metadata

    meta = load_fold1_metadata()
    meta = meta[meta["split"] == split].groupby(["scene_label", "location"], sort=True).head(2)
    meta = meta.groupby("scene_label", sort=True).head(n_per_class).sort_values("scene_label", kind="stable")
    fs = small_featureset(split, n_per_class=n_per_class)
    assert list(fs.y) == list(meta["scene_label"])  # same scenes in the same order: only the clips differ
    return FeatureSet(fs.X, fs.modalities, meta["clip_id"], meta["scene_label"].to_numpy(dtype=object),
                      meta["city"], meta["location"], split=split)


@pytest.mark.parametrize("n_jobs", [[], ["--n-jobs", "2"]], ids=["serial", "two-processes"])
def test_fit_fusion_auto_prints_the_table_and_records_the_choice(tmp_path, capsys, frozen_clock, n_jobs):
    from conftest import small_featureset

    from avsc_sk.cli import main
    from avsc_sk.data import write_features

    train = _many_locations(small_featureset, "train", 16)
    test = small_featureset("test", n_per_class=4)
    features = write_features(tmp_path / "f.h5", {"train": train, "test": test})
    run = tmp_path / "run"
    argv = ["fit", "--features", str(features), "--split", "train", "--fusion", "auto", "--budget", "20",
            "--out", str(run), *n_jobs]
    assert main(argv) == 0
    out = capsys.readouterr().out
    manifest = json.loads((run / "manifest.json").read_text())
    selection = manifest["selection"]
    chosen = (selection["fusion"], selection["model"])
    # The run records what was fitted; its config, that it was a search (issue 22: it recorded "auto").
    assert (manifest["fusion"], manifest["model"]) == chosen and manifest["config"]["fusion"] == "auto"
    assert f"fitted {chosen[0]} (" in out and selection["budget_s"] == 20.0
    assert format_candidates(selection["candidates"]) in out
    assert f"auto: chose {chosen[0]} ({chosen[1]}): lowest mean log loss" in out
    assert f"location-grouped folds); {sum(r >= 0 for r in selection['candidates']['rung'])} of 6" in out
    cands = selection["candidates"]
    assert set(cands["fusion"]) == {"audio", "video", "early", "intermediate", "late", "weighted"}
    best = cands["rank"].index(1)
    assert (cands["fusion"][best], cands["model"][best]) == chosen
    assert selection["estimated_s"] <= 20.0
    assert "budget = 20.0" in (run / "config.toml").read_text()
    assert main(["predict", str(run), "--features", str(features), "--split", "test",
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv", sep="\t")) == test.n_clips


def test_fit_auto_refuses_params(tmp_path, capsys):
    from avsc_sk.cli import main

    assert main(["fit", "--fusion", "auto", "--set", "params.head__C=0.5", "--out", str(tmp_path / "r")]) == 2
    assert "params (head__C) cannot be combined with fusion or model 'auto'" in capsys.readouterr().err
