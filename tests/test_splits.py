"""The one fold policy: grouped by location, stratified, checked; fine, fewer folds with a warning, or a refusal."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from avsc_sk.cli import main
from avsc_sk.data import SCENES, FeatureSet, write_features
from avsc_sk.datasets import load_fold1_metadata
from avsc_sk.errors import ConfigError, CVFallbackWarning, DataError, SplitWarning
from avsc_sk.fusion import make_estimator
from avsc_sk.heads import LogisticRegressionHead
from avsc_sk.model_selection import (OPTIMISTIC, LocationKFold, check_cv_splits, check_holdout_split, cv_fallbacks,
                                     cv_plan, set_cv_groups)

SMALL_MLP = dict(hidden=32, embed=8, shared=8, max_epochs=5, patience=3, batch_size=32, learning_rate=1e-2)


def _clips(locations, per_class=20, n_frames=3, dim=6, seed=0, shared_sites=False, split="train"):
    """A small layout-A-like set: 10 scenes, ``locations[c]`` recording locations for scene ``c``.

    ``shared_sites``: location ``k`` of every scene is the same site (one site records every
    scene), as in user data where a few sites record everything.
    """
    centres = np.random.default_rng(0).normal(size=(len(SCENES), 2, dim)) * 2.0  # the same scenes in every split
    rng = np.random.default_rng(seed + 1)
    ids, y, X = [], [], []
    for c, scene in enumerate(SCENES):
        for i in range(per_class):
            loc = i % locations[c]
            site = f"site{loc}" if shared_sites else f"{c}{loc}"
            ids.append(f"{scene}-lyon-{site}-{seed * 1000 + c * 100 + i}")
            y.append(scene)
            X.append((centres[c][:, None, :] + rng.normal(size=(2, n_frames, dim))).reshape(-1))
    X = np.abs(np.asarray(X, dtype=np.float32))
    return FeatureSet(X, [("audio", n_frames, dim), ("video", n_frames, dim)], ids, np.asarray(y, dtype=object),
                      split=split)


# The issue's case: 200 clips, 10 scenes, each recorded at one or two locations.
ONE_OR_TWO = [1, 2] * 5


@pytest.fixture
def no_split_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)
        yield


def _split_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, SplitWarning)]


def _every_training_part_holds_every_class(y, splits):
    return all(set(np.unique(y)) == set(y[tr]) for tr, _ in splits)


# -- the splitter -----------------------------------------------------------------------------------------

def test_fine_folds_are_grouped_stratified_seeded_and_silent(no_split_warning):
    fs = _clips([3] * 10, per_class=30)
    plan = cv_plan(fs.y, fs.groups, n_splits=3, random_state=0)
    assert plan.n_splits == plan.requested == 3 and plan.grouped and plan.reduced_for == {}
    assert plan.describe() == "3-fold StratifiedGroupKFold by location"
    for tr, te in plan.splits:
        assert not set(fs.groups[tr]) & set(fs.groups[te])
    assert _every_training_part_holds_every_class(fs.y, plan.splits)
    tested = np.concatenate([te for _, te in plan.splits])
    assert np.array_equal(np.sort(tested), np.arange(fs.n_clips))
    same = check_cv_splits(fs.y, fs.groups, n_splits=3, random_state=0)
    other = check_cv_splits(fs.y, fs.groups, n_splits=3, random_state=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(same, plan.splits))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(other, plan.splits))


@pytest.mark.parametrize("n_splits", [3, 5, 10])
def test_real_fold1_locations_need_no_warning(no_split_warning, n_splits):
    meta = load_fold1_metadata()
    meta = meta[meta["split"].isin(["train", "val"])]
    plan = cv_plan(meta["scene_label"].to_numpy(), meta["location"].to_numpy(), n_splits=n_splits)
    assert plan.n_splits == n_splits


def test_fewer_folds_with_one_warning_naming_classes_and_location_counts():
    fs = _clips([3] * 10, shared_sites=True)  # 3 sites, each records every scene
    with pytest.warns(SplitWarning) as record:
        plan = cv_plan(fs.y, fs.groups, n_splits=5)
    assert _split_warnings(record) == [
        "cross-validation: 3 folds instead of 5, the most that keep every class in every training part (only 3 "
        "locations; fewest per class: airport (3 locations), bus (3 locations), metro (3 locations) and 7 more); "
        "ask for 3 folds to choose this"]
    assert plan.n_splits == 3 and plan.requested == 5 and plan.describe().endswith("(5 asked)")
    assert _every_training_part_holds_every_class(fs.y, plan.splits)


def test_a_training_part_lacking_a_class_is_never_used():
    # Sites recording several scenes: StratifiedGroupKFold's 3 folds (seed 0) put both sites of c1 in one test
    # part, although 3 folds that keep c1 in training exist. The check catches it; 2 folds, said once.
    sites = [("g0", "c0", 3), ("g0", "c2", 1), ("g1", "c1", 1), ("g1", "c2", 3), ("g2", "c2", 1), ("g3", "c0", 3),
             ("g3", "c2", 3), ("g4", "c0", 3), ("g4", "c1", 1)]
    groups = np.array([g for g, _, n in sites for _ in range(n)])
    y = np.array([c for _, c, n in sites for _ in range(n)])
    with pytest.warns(SplitWarning) as record:
        plan = cv_plan(y, groups, n_splits=3, random_state=0)
    assert _split_warnings(record) == [
        "cross-validation: 2 folds instead of 3, the most that keep every class in every training part (with 3 "
        "folds some training part lacked c1 (2 locations)); ask for 2 folds to choose this"]
    assert plan.n_splits == 2 and plan.reduced_for == {"c1": 2}
    assert _every_training_part_holds_every_class(y, plan.splits)


def test_no_grouped_split_is_one_data_error_offering_the_way_out():
    fs = _clips(ONE_OR_TWO)
    with pytest.raises(DataError) as err:
        check_cv_splits(fs.y, fs.groups, n_splits=3)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("cross-validation: no split by recording location into 2 or more folds keeps every class")
    for scene in SCENES[0::2]:  # the one-location scenes, named with their count
        assert f"{scene} (1 location)" in msg
    assert "--cv-groups none" in msg and OPTIMISTIC in msg


def test_cv_groups_none_is_the_explicit_way_out(no_split_warning):
    fs = _clips(ONE_OR_TWO)
    plan = cv_plan(fs.y, fs.groups, n_splits=3, cv_groups="none")
    assert not plan.grouped and plan.describe() == f"3-fold StratifiedKFold, {OPTIMISTIC}"
    assert plan.as_dict()["note"] == OPTIMISTIC
    assert any(set(fs.groups[tr]) & set(fs.groups[te]) for tr, te in plan.splits)
    assert _every_training_part_holds_every_class(fs.y, plan.splits)


def test_without_groups_each_clip_is_its_own_group_with_a_warning():
    y = np.repeat(["a", "b"], 10)
    with pytest.warns(SplitWarning, match="no recording locations.*each clip is its own group.*optimistic"):
        splits = check_cv_splits(y, None, n_splits=5)
    assert len(splits) == 5


def test_ungrouped_refusal_names_the_one_clip_class():
    y = np.array(["a"] * 5 + ["b"] * 5 + ["c"])
    with pytest.raises(DataError, match=r"no stratified split.*c \(1 clip\)"):
        check_cv_splits(y, None, n_splits=3, cv_groups="none")


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="cv_groups='city'"):
        check_cv_splits(["a", "b"], None, cv_groups="city")
    with pytest.raises(ConfigError, match="n_splits=1"):
        check_cv_splits(["a", "b"], None, n_splits=1)
    with pytest.raises(DataError, match="3 groups for 2 clips"):
        check_cv_splits(["a", "b"], ["x", "y", "z"])


def test_holdout_fine_fewer_and_refused():
    fs = _clips(ONE_OR_TWO)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)
        tr, va = check_holdout_split(fs.y, fs.groups, test_size=0.1, random_state=0)
    assert not set(fs.groups[tr]) & set(fs.groups[va]) and set(fs.y[tr]) == set(SCENES)
    few = _clips([3] * 10, shared_sites=True)
    with pytest.warns(SplitWarning, match=r"^hold-out: (\d+) of 200 clips held out \(1 of 3 folds\), not 0.1 of "
                                          r"them: only 3 locations") as record:
        tr, va = check_holdout_split(few.y, few.groups, test_size=0.1, random_state=0)
    assert f"{len(va)} of 200" in _split_warnings(record)[0] and len(np.unique(few.groups[va])) == 1
    single = _clips([1] * 10)
    with pytest.raises(DataError, match=r"hold-out: every location that could be held out.*airport \(1 location\)"
                                        r".*--cv-groups none.*validation_fraction=0"):
        check_holdout_split(single.y, single.groups, test_size=0.1)


def test_location_kfold_in_a_grid_search_decides_once():
    fs = _clips([3] * 10, shared_sites=True)
    cv = LocationKFold(5)
    with pytest.warns(SplitWarning) as record, sklearn.config_context(enable_metadata_routing=True):
        grid = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=cv)
        grid.fit(fs.X, fs.y, groups=fs.groups)
    assert len(_split_warnings(record)) == 1
    assert grid.n_splits_ == 3 == cv.plan_.n_splits
    assert cv.get_n_splits() == 5  # without data: what was asked


def test_set_cv_groups_reaches_every_nested_estimator():
    est = make_estimator("late", (("audio", 2, 3), ("video", 2, 3)))
    assert set_cv_groups(est, "none").cv_groups == "none"
    assert set_cv_groups(est, None).cv_groups == "none"  # None: leave as it is
    early = make_estimator("early", (("audio", 2, 3), ("video", 2, 3)))
    assert set_cv_groups(early, "none") is early  # no internal CV, nothing to set
    with pytest.raises(ConfigError, match="cv_groups='all'"):
        set_cv_groups(early, "all")


# -- the estimators: fine, fewer folds with a warning, refusal, and the way out --------------------------

def _estimator(mode, fs, **params):
    est = make_estimator(mode, fs.modalities)
    return est.set_params(**(SMALL_MLP if mode == "intermediate" else {"cv": 5}), **params)


@pytest.mark.parametrize("mode", ["late", "weighted", "intermediate"])
def test_fusion_fine_is_silent(no_split_warning, mode):
    fs = _clips([5] * 10, per_class=20)
    est = _estimator(mode, fs).fit(fs.X, fs.y, groups=fs.groups)
    if mode == "late":
        assert len(est.cv_splits_) == 5
    assert est.predict_proba(fs.X).shape == (fs.n_clips, 10)


@pytest.mark.parametrize("mode", ["late", "weighted", "intermediate"])
def test_fusion_fewer_folds_say_so_once(mode):
    fs = _clips([3] * 10, shared_sites=True)
    what = {"late": "late fusion's internal cross-validation: 3 folds instead of 5",
            "weighted": "weighted fusion's internal cross-validation: 3 folds instead of 5",
            "intermediate": "intermediate fusion's early-stopping hold-out: 70 of 200 clips held out (1 of 3"}[mode]
    with pytest.warns(SplitWarning) as record:
        est = _estimator(mode, fs).fit(fs.X, fs.y, groups=fs.groups)
    messages = _split_warnings(record)
    assert len(messages) == 1 and messages[0].startswith(what)
    if mode == "late":
        assert len(est.cv_splits_) == 3 and _every_training_part_holds_every_class(fs.y, est.cv_splits_)


# Members' C given: the fusion's own folds are what these tests are about, and a head choosing C is tested alone.
_PINNED = {"late": {"audio__head__C": 1.0, "video__head__C": 1.0, "cv": 3},
           "weighted": {"audio__head__C": 1.0, "video__head__C": 1.0, "cv": 3}, "intermediate": SMALL_MLP}


@pytest.mark.parametrize("mode", ["late", "weighted", "intermediate"])
def test_fusion_refuses_when_asked_for_grouped_folds_no_grouped_split_allows(mode):
    # Late and weighted: the issue's set; the MLP's hold-out needs only one fold, so every scene at one location.
    fs = _clips([1] * 10 if mode == "intermediate" else ONE_OR_TWO)
    with pytest.raises(DataError, match=r"(1 location).*cv_groups='none'"):
        _estimator(mode, fs, cv_groups="location").fit(fs.X, fs.y, groups=fs.groups)
    # The way out: folds that share locations, asked for, so no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)
        est = _estimator(mode, fs, cv_groups="none").set_params(**_PINNED[mode]).fit(fs.X, fs.y, groups=fs.groups)
    assert np.isfinite(est.predict_proba(fs.X)).all() and est.cv_fallback_ is None


@pytest.mark.parametrize("mode", ["head", "late", "weighted", "intermediate"])
def test_internal_folds_fall_back_when_every_class_is_at_one_location(mode):
    # A choice made inside a fit (C, the stacker's out-of-fold input, the early-stopping hold-out) never makes
    # the fit refuse: stratified folds instead, one CVFallbackWarning saying why, and the reason kept.
    fs = _clips([1] * 10)
    what = {"head": "a head's inner cross-validation", "late": "late fusion's internal cross-validation",
            "weighted": "weighted fusion's internal cross-validation",
            "intermediate": "intermediate fusion's early-stopping hold-out"}[mode]
    if mode == "head":
        est = LogisticRegressionHead(Cs=(0.01, 1.0), cv=3)
        X = fs.X
    else:
        est = make_estimator(mode, fs.modalities).set_params(**_PINNED[mode])
        X = fs.X
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, fs.y, groups=fs.groups)
    fallbacks = [str(w.message) for w in record if issubclass(w.category, CVFallbackWarning)]
    assert len(fallbacks) == 1 and _split_warnings(record) == fallbacks  # the one split warning, given once
    assert fallbacks[0].startswith(f"{what}: no split by recording location keeps every class in every training "
                                   "part (") and "airport (1 location)" in fallbacks[0]
    assert "stratified folds that share locations instead, so what it chose on them is optimistic" in fallbacks[0]
    assert est.cv_fallback_ == fallbacks[0] and cv_fallbacks(est) == fallbacks
    assert np.isfinite(est.predict_proba(X)).all()
    if mode == "head":
        assert {r["C"] for r in est.cv_scores_} == {0.01, 1.0}  # C was chosen (on the stratified folds), not defaulted
    if mode == "late":
        assert len(est.cv_splits_) == 3 and _every_training_part_holds_every_class(fs.y, est.cv_splits_)
        # its heads share locations as the fusion's folds do, quietly: the stacker chose its C on them
        assert est.stack_.final_estimator_.cv_groups == "none"


def test_late_fusion_never_stacks_on_folds_missing_a_class():
    # The issue's inverted stacker: one location per scene. Grouped folds asked for: refused, never fitted silently.
    fs = _clips([1] * 10)
    with pytest.raises(DataError, match="late fusion's internal cross-validation: no split by recording location"):
        make_estimator("late", fs.modalities).set_params(cv_groups="location").fit(fs.X, fs.y, groups=fs.groups)


# -- through the command line -----------------------------------------------------------------------------

GRID = """
fusion = "early"
model = "logreg"
seed = 0

[grid]
head__C = [0.1, 1.0]
"""


def _root(tmp_path, locations, shared_sites=False):
    train = _clips(locations, shared_sites=shared_sites)
    test = _clips(locations, per_class=4, seed=1, shared_sites=shared_sites, split="test")
    root = write_features(tmp_path / "a_root", {"train": train, "test": test}, layout="A")
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    return root, grid


def _run(capsys, *args):
    status = main([str(a) for a in args])
    return status, capsys.readouterr()


def test_tune_cli_refuses_the_issue_case_and_takes_the_way_out(tmp_path, capsys):
    root, grid = _root(tmp_path, ONE_OR_TWO)
    out = tmp_path / "t"
    status, io = _run(capsys, "tune", grid, "--features", root, "--split", "train", "--cv", 3, "--quiet", "--out", out)
    assert status == 2 and not out.exists()
    lines = io.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("avsc-sk: error: tune's cross-validation: no split by recording "
                                                   "location into 2 or more folds keeps every class")
    assert "airport (1 location)" in lines[0] and "--cv-groups none" in lines[0]

    status, io = _run(capsys, "tune", grid, "--features", root, "--split", "train", "--cv", 3, "--cv-groups", "none",
                      "--quiet", "--out", out)
    assert status == 0, io.err
    assert "avsc-sk: warning" not in io.err
    best_line = [line for line in io.out.splitlines() if line.startswith("best CV")][0]
    assert OPTIMISTIC in best_line and f"folds: 3-fold StratifiedKFold, {OPTIMISTIC}" in io.out
    assert OPTIMISTIC in (out / "results.md").read_text()
    results = pd.read_csv(out / "cv_results.csv")
    assert set(results["cv_folds"]) == {f"3-fold StratifiedKFold, {OPTIMISTIC}"}
    assert set(results["cv_n_splits"]) == {3} and set(results["cv_missing_from_training"]) == {"none"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["folds"]["note"] == OPTIMISTIC and summary["folds"]["grouped"] is False
    assert 'cv_groups = "none"' in (out / "best.toml").read_text()  # fit --config reproduces the same policy


def test_tune_cli_fewer_folds_warns_once_and_records_it(tmp_path, capsys):
    root, grid = _root(tmp_path, [3] * 10, shared_sites=True)
    out = tmp_path / "t"
    status, io = _run(capsys, "tune", grid, "--features", root, "--split", "train", "--cv", 5, "--quiet", "--out", out)
    assert status == 0, io.err
    warned = [line for line in io.err.splitlines() if line.startswith("avsc-sk: warning:")]
    assert len(warned) == 1 and "tune's cross-validation: 3 folds instead of 5" in warned[0]
    assert "airport (3 locations)" in warned[0]
    assert "2 configurations x 3 folds" in io.out and "3-fold StratifiedGroupKFold by location (5 asked)" in io.out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["folds"]["n_splits"] == 3 and summary["folds"]["n_splits_requested"] == 5
    assert summary["folds"]["missing_from_training"] == []
    assert "(5 asked)" in (out / "results.md").read_text()
    results = pd.read_csv(out / "cv_results.csv")
    assert "split2_test_neg_log_loss" in results and "split3_test_neg_log_loss" not in results


def test_tune_cli_fine_data_no_warning(tmp_path, capsys):
    root, grid = _root(tmp_path, [3] * 10)
    out = tmp_path / "t"
    status, io = _run(capsys, "tune", grid, "--features", root, "--split", "train", "--cv", 3, "--quiet", "--out", out)
    assert status == 0, io.err
    assert "warning" not in io.err
    assert "folds: 3-fold StratifiedGroupKFold by location" in io.out
    assert json.loads((out / "summary.json").read_text())["folds"]["n_splits"] == 3


def _warning_lines(err):
    return [line for line in err.splitlines() if line.startswith("avsc-sk: warning:")]


@pytest.mark.parametrize("fusion", ["early", "late"])
def test_fit_cli_falls_back_warns_once_and_records_it(tmp_path, capsys, fusion):
    # fit did not ask for cross-validation: the head's (or late fusion's) internal folds fall back, say so in
    # one line, and the manifest records it; `tune` on the same data refuses (below), as does --cv-groups location.
    root, _ = _root(tmp_path, [1] * 10)
    pins = ["--params.head__Cs", "[0.01, 1.0]", "--params.head__cv", "3"] if fusion == "early" else \
        ["--params.audio__head__C", "1.0", "--params.video__head__C", "1.0", "--params.cv", "3"]
    status, io = _run(capsys, "fit", "--fusion", fusion, "--features", root, "--split", "train", *pins,
                      "--out", tmp_path / "run")
    assert status == 0, io.err
    warned = _warning_lines(io.err)
    what = "a head's inner cross-validation" if fusion == "early" else "late fusion's internal cross-validation"
    assert len(warned) == 1 and warned[0].startswith(f"avsc-sk: warning: {what}: no split by recording location")
    assert "optimistic" in warned[0] and len(io.err.strip().splitlines()) == 1
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["cv_fallbacks"] == [warned[0].removeprefix("avsc-sk: warning: ")]
    assert "cv_groups" not in manifest["config"]  # nothing was asked for; the fallback is what happened
    if fusion == "early":
        assert "chosen on inner folds, some sharing locations" in io.out

    status, io = _run(capsys, "fit", "--fusion", fusion, "--cv-groups", "location", "--features", root, "--split",
                      "train", *pins, "--out", tmp_path / "strict")
    assert status == 2 and not (tmp_path / "strict").exists()
    lines = io.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"avsc-sk: error: {what}: no split by recording location")


def test_fit_cli_fine_data_records_no_fallback(tmp_path, capsys):
    root, _ = _root(tmp_path, [3] * 10)
    status, io = _run(capsys, "fit", "--fusion", "early", "--features", root, "--split", "train",
                      "--params.head__C", "1.0", "--out", tmp_path / "run")
    assert status == 0, io.err
    assert _warning_lines(io.err) == []
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["cv_fallbacks"] == []


def test_tune_cli_still_refuses_data_that_fit_falls_back_on(tmp_path, capsys):
    root, grid = _root(tmp_path, [1] * 10)
    status, io = _run(capsys, "tune", grid, "--features", root, "--split", "train", "--cv", 3, "--quiet",
                      "--out", tmp_path / "t")
    lines = io.err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and not (tmp_path / "t").exists()
    assert lines[0].startswith("avsc-sk: error: tune's cross-validation: no split by recording location")


def test_fit_cli_late_takes_cv_groups_none_without_warning(tmp_path, capsys):
    root, _ = _root(tmp_path, ONE_OR_TWO)
    status, io = _run(capsys, "fit", "--fusion", "late", "--cv-groups", "none", "--features", root, "--split", "train",
                      "--params.audio__head__C", "1.0", "--params.video__head__C", "1.0", "--out", tmp_path / "run")
    assert status == 0, io.err
    assert _warning_lines(io.err) == []
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["cv_groups"] == "none"  # the run records that its stacker saw shared locations
    assert manifest["cv_fallbacks"] == []  # asked for, not fallen back to


def test_a_given_splitter_whose_fold_trains_without_a_class_is_refused():
    from sklearn.model_selection import GroupKFold

    fs = _clips(ONE_OR_TWO)
    with pytest.raises(DataError, match=r"late fusion's internal cross-validation: fold 1 of 3 from "
                                        r"cv=GroupKFold\(n_splits=3.*\) trains without metro, street_traffic, so"):
        make_estimator("late", fs.modalities).set_params(cv=GroupKFold(3)).fit(fs.X, fs.y, groups=fs.groups)
