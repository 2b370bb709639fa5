"""Behaviour of the late, weighted and intermediate fusion estimators and of compare_fusions."""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold

from avsc_sk.data import SCENES, FeatureSet
from avsc_sk.errors import DataError
from avsc_sk.fusion import (
    IntermediateFusionClassifier,
    LateFusionClassifier,
    WeightedFusionClassifier,
    compare_fusions,
    format_compare,
    make_estimator,
    make_feature_pipeline,
)

# Few clips, so few batches per epoch: a larger step lets batch-norm running statistics settle early.
SMALL_MLP = dict(hidden=64, embed=16, shared=16, max_epochs=30, patience=8, batch_size=64, learning_rate=1e-2)


def _data(n_loc=60, per_loc=6, mods=(("audio", 1.2), ("video", 0.8)), n_classes=10, dim=16, n_frames=2,
          seed=0, class_strength=None):
    """Clips from locations (one scene per location, a location offset shared by its clips).

    ``mods`` gives (name, signal strength); ``class_strength`` optionally maps a modality to a
    per-class multiplier, to make modalities differ by scene.
    """
    rng = np.random.default_rng(seed)
    loc_class = np.arange(n_loc) % n_classes
    y_idx = np.repeat(loc_class, per_loc)
    loc = np.repeat(np.arange(n_loc), per_loc)
    blocks = []
    for name, strength in mods:
        protos = rng.normal(size=(n_classes, dim))
        offsets = rng.normal(scale=0.7, size=(n_loc, dim))
        mult = np.ones(n_classes) if class_strength is None or name not in class_strength \
            else np.asarray(class_strength[name], float)
        clip = strength * mult[y_idx, None] * protos[y_idx] + offsets[loc]
        frames = clip[:, None, :] + rng.normal(scale=1.0, size=(len(y_idx), n_frames, dim))
        blocks.append(frames.reshape(len(y_idx), -1))
    X = np.hstack(blocks).astype(np.float32)
    scenes = np.asarray(SCENES, dtype=object)[y_idx]
    cities = ("barcelona", "helsinki", "lisbon")
    ids = [f"{scenes[i]}-{cities[loc[i] % 3]}-{100 + loc[i]}-{i}" for i in range(len(y_idx))]
    return FeatureSet(X, [(n, n_frames, dim) for n, _ in mods], ids, scenes, synthetic=True)


@pytest.fixture(scope="module")
def split():
    fs = _data()
    test_loc = np.isin(fs.location, np.unique(fs.location)[::4])
    return fs.subset(~test_loc), fs.subset(test_loc)


def _pipes(fs):
    return [(m, make_feature_pipeline(fs.modalities, m)) for m in fs.modality_names]


def test_grouped_cv_folds_never_share_a_location(split):
    train, _ = split
    clf = LateFusionClassifier(_pipes(train), cv=4).fit(train.X, train.y, groups=train.groups)
    assert clf.stack_.cv is clf.cv_splits_ and len(clf.cv_splits_) == 4
    for tr, te in clf.cv_splits_:
        assert not set(train.groups[tr]) & set(train.groups[te])
    assert np.array_equal(np.sort(np.concatenate([te for _, te in clf.cv_splits_])), np.arange(train.n_clips))
    # Without groups the folds are StratifiedKFold's, which put clips of one location on both sides: the leak.
    leaky = LateFusionClassifier(_pipes(train), cv=4).fit(train.X, train.y)
    assert any(set(train.groups[tr]) & set(train.groups[te]) for tr, te in leaky.cv_splits_)


def test_late_and_weighted_beat_single_modalities(split):
    train, test = split
    acc = {}
    for mode in ("audio", "video", "late", "weighted"):
        est = make_estimator(mode, train.modalities)
        est.fit(train.X, train.y, **({"groups": train.groups} if mode in ("late", "weighted") else {}))
        acc[mode] = np.mean(est.predict(test.X) == test.y)
    assert acc["late"] > max(acc["audio"], acc["video"])
    assert acc["weighted"] > max(acc["audio"], acc["video"])


def test_weight_learning_ignores_a_noise_modality():
    fs = _data(mods=(("audio", 1.2), ("noise", 0.0)))
    clf = WeightedFusionClassifier(_pipes(fs), cv=4).fit(fs.X, fs.y, groups=fs.groups)
    assert clf.modality_names_ == ["audio", "noise"]
    assert clf.weights_.shape == (2,) and np.isclose(clf.weights_.sum(), 1.0)
    assert clf.weights_[1] < 0.05
    arith = WeightedFusionClassifier(_pipes(fs), blend="arithmetic", cv=4).fit(fs.X, fs.y, groups=fs.groups)
    assert arith.weights_[1] < 0.05 and arith.temperature_ == 1.0


def test_per_class_weights_follow_the_informative_modality():
    # audio knows the first five scenes, video the last five.
    strong, weak = [1.5] * 5 + [0.0] * 5, [0.0] * 5 + [1.5] * 5
    fs = _data(class_strength={"audio": strong, "video": weak}, mods=(("audio", 1.0), ("video", 1.0)))
    clf = WeightedFusionClassifier(_pipes(fs), per_class=True, reg=0.01, cv=4).fit(fs.X, fs.y, groups=fs.groups)
    W = clf.class_weights_
    assert W.shape == (10, 2) and np.allclose(W.sum(axis=1), 1.0)
    assert W[:5, 0].mean() > W[5:, 0].mean() + 0.2
    # A strong pull gives back the global weights.
    tight = WeightedFusionClassifier(_pipes(fs), per_class=True, reg=1e4, cv=4).fit(fs.X, fs.y, groups=fs.groups)
    assert np.allclose(tight.class_weights_, tight.weights_[None, :], atol=0.02)


def test_fixed_weights_are_tunable_with_gridsearch(split):
    train, _ = split
    clf = WeightedFusionClassifier(_pipes(train), cv=3)
    grid = GridSearchCV(clf, {"weights": [(1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]}, cv=GroupKFold(3),
                        scoring="neg_log_loss")
    grid.fit(train.X, train.y, groups=train.groups)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 3 and len(set(np.round(scores, 6))) == 3
    # Blending both modalities beats either one alone, and the weights are normalised.
    assert grid.best_params_["weights"] == (1.0, 1.0)
    assert np.allclose(grid.best_estimator_.weights_, [0.5, 0.5])


@pytest.mark.parametrize("cls", [LateFusionClassifier, WeightedFusionClassifier])
def test_groups_reach_fit_through_metadata_routing(split, cls):
    train, _ = split
    with sklearn.config_context(enable_metadata_routing=True):
        est = cls(_pipes(train), cv=3).set_fit_request(groups=True)
        grid = GridSearchCV(est, {"cv": [3]}, cv=GroupKFold(2)).fit(train.X, train.y, groups=train.groups)
    best = grid.best_estimator_
    if cls is LateFusionClassifier:
        for tr, te in best.cv_splits_:
            assert not set(train.groups[tr]) & set(train.groups[te])


def test_three_modalities_every_mode():
    fs = _data(mods=(("audio", 1.0), ("video", 0.8), ("text", 0.6)), n_loc=40)
    train, test = fs.subset(np.arange(fs.n_clips) % 5 != 0), fs.subset(np.arange(fs.n_clips) % 5 == 0)
    for mode in ("audio", "video", "text", "early", "intermediate", "late", "weighted"):
        est = make_estimator(mode, fs.modalities)
        if mode == "intermediate":
            est.set_params(**SMALL_MLP)
        est.fit(train.X, train.y, **({"groups": train.groups} if mode in ("intermediate", "late", "weighted")
                                     else {}))
        P = est.predict_proba(test.X)
        assert P.shape == (test.n_clips, 10) and np.allclose(P.sum(axis=1), 1.0)
        if mode == "weighted":
            assert est.weights_.shape == (3,)
        if mode == "intermediate":
            assert len(est.network_.in_dims) == 3


@pytest.mark.parametrize("mode", ["early", "intermediate", "late", "weighted"])
def test_missing_modality_still_predicts(split, mode):
    train, test = split
    est = make_estimator(mode, train.modalities)
    if mode == "intermediate":
        est.set_params(**SMALL_MLP)
    est.fit(train.X, train.y, **({} if mode == "early" else {"groups": train.groups}))
    X = test.X.copy()
    X[:10, train.columns("video")] = np.nan
    X[10:20, train.columns("audio")] = np.nan
    P = est.predict_proba(X)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)
    assert np.allclose(P[20:], est.predict_proba(test.X)[20:])
    if mode == "weighted":
        # Without video the blend is audio's pipeline alone (weights renormalised onto it).
        audio = est.estimators_[0].predict_proba(test.X[:10])
        assert np.array_equal(P[:10].argmax(axis=1), audio.argmax(axis=1))
    if mode != "early":
        X[0, :] = np.nan
        with pytest.raises(DataError, match="no modality"):
            est.predict_proba(X)


def test_intermediate_is_deterministic_under_a_seed_and_learns(split):
    train, test = split
    fit = lambda seed: IntermediateFusionClassifier(train.modalities, random_state=seed, **SMALL_MLP).fit(
        train.X, train.y, groups=train.groups)
    a, b, c = fit(0), fit(0), fit(1)
    Pa = a.predict_proba(test.X)
    assert np.array_equal(Pa, b.predict_proba(test.X))
    assert not np.allclose(Pa, c.predict_proba(test.X))
    assert a.n_epochs_ >= a.best_epoch_ >= 1 and len(a.validation_loss_curve_) == a.n_epochs_
    assert np.mean(a.predict(test.X) == test.y) > 0.6


@pytest.mark.parametrize("mode", ["intermediate", "late", "weighted"])
def test_save_load_roundtrip(split, mode, tmp_path):
    train, test = split
    est = make_estimator(mode, train.modalities)
    if mode == "intermediate":
        est.set_params(**SMALL_MLP)
    est.fit(train.X, train.y, groups=train.groups)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    loaded = pickle.loads(path.read_bytes())
    assert np.array_equal(loaded.predict_proba(test.X), est.predict_proba(test.X))


def test_compare_fusions_table(split):
    train, test = split
    df = compare_fusions(train, test, n_boot=200, cv=3)
    assert list(df["mode"]) == ["audio", "video", "early", "intermediate", "late", "weighted"]
    assert ((df["accuracy_low"] <= df["accuracy"]) & (df["accuracy"] <= df["accuracy_high"])).all()
    assert ((df["log_loss_low"] <= df["log_loss"]) & (df["log_loss"] <= df["log_loss_high"])).all()
    singles = df[df["mode"].isin(["audio", "video"])]
    fused = df[~df["mode"].isin(["audio", "video"])]
    assert (fused["vs"] == "audio").all() and fused["mcnemar_p"].between(0, 1).all()
    assert singles["mcnemar_p"].isna().all()
    assert (fused["accuracy"] > singles["accuracy"].max()).all()
    # Late and weighted reuse the single-modality pipelines: their fit time includes them.
    late = df.set_index("mode").loc["late", "fit_time_s"]
    assert late >= df.set_index("mode").loc[["audio", "video"], "fit_time_s"].sum()
    text = format_compare(df)
    assert "synthetic" in text and "| weighted |" in text and "weighted fusion weights: audio" in text


def test_compare_cli_writes_csv_and_markdown(split, tmp_path, monkeypatch, capsys):
    from avsc_sk.cli import _compare, main

    train, test = split
    monkeypatch.setattr(_compare, "load_split", lambda features, name, **kw: train if "train" in name else test)
    out = tmp_path / "cmp"
    assert main(["compare", "--fusions", "audio,video,weighted", "--n-boot", "100", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SYNTHETIC" in printed and "weighted" in printed
    csv = (out / "compare.csv").read_text()
    assert csv.splitlines()[0].startswith("mode,accuracy,accuracy_low") and len(csv.splitlines()) == 4
    assert "synthetic" in (out / "compare.md").read_text()
    assert main(["compare", "--fusions", "audio", "--out", str(out)]) == 2  # exists, no --force
