"""Behaviour of the late, weighted and intermediate fusion estimators and of compare_fusions."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from threadpoolctl import threadpool_limits

from avsc_sk._pooling import FramePooler
from avsc_sk.data import SCENES, FeatureSet
from avsc_sk.errors import ConfigError, DataError, SplitWarning
from avsc_sk.heads import LogisticRegressionHead, UngroupedWarning, fit_with_groups
from avsc_sk.fusion import (
    NoModalityWarning,
    IntermediateFusionClassifier,
    LateFusionClassifier,
    WeightedFusionClassifier,
    make_estimator,
    make_feature_pipeline,
    make_pooler,
)
from avsc_sk.experiments import compare_fusions, format_compare
from avsc_sk.model_selection import LocationKFold
from avsc_sk.runs import build_estimator

@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # Tiny matrices: BLAS threads only contend (on a busy 2-core machine this module ran 15x slower).
    with threadpool_limits(1):
        yield


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


def _pinned(est, C=1.0):
    """``est`` with every head's C given (a stacker's too): for tests of other things than the heads'
    own choosing, which costs a grouped inner CV per head fit (tests/test_heads.py checks it)."""
    params = est.get_params()
    pins = {k: C for k, v in params.items() if (k == "C" or k.endswith("__C")) and v is None}
    if "final_estimator" in params and params["final_estimator"] is None:
        pins["final_estimator"] = LogisticRegressionHead(C=C)
    return est.set_params(**pins)


def test_grouped_cv_folds_never_share_a_location(split):
    train, _ = split
    clf = _pinned(make_estimator("late", train.modalities)).set_params(cv=4).fit(train.X, train.y, groups=train.groups)
    assert len(clf.cv_splits_) == 4
    for tr, te in clf.cv_splits_:
        assert not set(train.groups[tr]) & set(train.groups[te])
    assert np.array_equal(np.sort(np.concatenate([te for _, te in clf.cv_splits_])), np.arange(train.n_clips))
    # Without groups the folds are StratifiedKFold's, which put clips of one location on both sides: the
    # leak, said once, never silently.
    with pytest.warns(SplitWarning, match="no recording locations.*optimistic") as record:
        leaky = _pinned(LateFusionClassifier(_pipes(train), cv=4)).fit(train.X, train.y)
    assert len([w for w in record if issubclass(w.category, SplitWarning)]) == 1
    assert any(set(train.groups[tr]) & set(train.groups[te]) for tr, te in leaky.cv_splits_)
    # Asked for explicitly, the same folds come without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)
        chosen = _pinned(LateFusionClassifier(_pipes(train), cv=4, cv_groups="none")).fit(train.X, train.y,
                                                                                       groups=train.groups)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(chosen.cv_splits_, leaky.cv_splits_))


def test_late_and_weighted_beat_single_modalities(split):
    train, test = split
    acc = {}
    for mode in ("audio", "video", "late", "weighted"):
        est = _pinned(make_estimator(mode, train.modalities))
        est.fit(train.X, train.y, **({"groups": train.groups} if mode in ("late", "weighted") else {}))
        acc[mode] = np.mean(est.predict(test.X) == test.y)
    assert acc["late"] > max(acc["audio"], acc["video"])
    assert acc["weighted"] > max(acc["audio"], acc["video"])


def test_weight_learning_ignores_a_noise_modality():
    fs = _data(mods=(("audio", 1.2), ("noise", 0.0)))
    clf = _pinned(WeightedFusionClassifier(_pipes(fs), cv=4)).fit(fs.X, fs.y, groups=fs.groups)
    assert clf.modality_names_ == ["audio", "noise"]
    assert clf.weights_.shape == (2,) and np.isclose(clf.weights_.sum(), 1.0)
    assert clf.weights_[1] < 0.05
    arith = _pinned(WeightedFusionClassifier(_pipes(fs), blend="arithmetic", cv=4)).fit(fs.X, fs.y, groups=fs.groups)
    assert arith.weights_[1] < 0.05 and arith.temperature_ == 1.0


def test_per_class_weights_follow_the_informative_modality():
    # audio knows the first five scenes, video the last five.
    strong, weak = [1.5] * 5 + [0.0] * 5, [0.0] * 5 + [1.5] * 5
    fs = _data(class_strength={"audio": strong, "video": weak}, mods=(("audio", 1.0), ("video", 1.0)))
    clf = _pinned(WeightedFusionClassifier(_pipes(fs), per_class=True, reg=0.01, cv=4)).fit(fs.X, fs.y, groups=fs.groups)
    W = clf.class_weights_
    assert W.shape == (10, 2) and np.allclose(W.sum(axis=1), 1.0)
    assert W[:5, 0].mean() > W[5:, 0].mean() + 0.2
    # A strong pull gives back the global weights.
    tight = _pinned(WeightedFusionClassifier(_pipes(fs), per_class=True, reg=1e4, cv=4)).fit(fs.X, fs.y,
                                                                                          groups=fs.groups)
    assert np.allclose(tight.class_weights_, tight.weights_[None, :], atol=0.02)


def test_fixed_weights_are_tunable_with_gridsearch(split):
    train, _ = split
    # Heads at C=1: these 16-d toy features want little regularisation. The groups reach the
    # estimator's own internal folds through metadata routing, as in tune.
    with sklearn.config_context(enable_metadata_routing=True):
        clf = make_estimator("weighted", train.modalities).set_params(cv=3, random_state=0, audio__head__C=1.0,
                                                                      video__head__C=1.0)
        grid = GridSearchCV(clf.set_fit_request(groups=True), {"weights": [(1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]},
                            cv=GroupKFold(3), scoring="neg_log_loss")
        grid.fit(train.X, train.y, groups=train.groups)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 3 and len(set(np.round(scores, 6))) == 3
    # The weak video modality alone is the worst; the winner's weights are normalised.
    assert np.argmin(scores) == 2
    best = np.asarray(grid.best_params_["weights"])
    assert np.allclose(grid.best_estimator_.weights_, best / best.sum())


def test_late_stacker_gets_the_locations(split):
    # StackingClassifier routes no fit metadata to its final estimator: the default stacker, a
    # head choosing its own C, would otherwise choose it on ungrouped folds (and warn).
    train, _ = split
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitWarning)
        warnings.simplefilter("error", UngroupedWarning)
        # Plain members take no groups, so StackingClassifier would route the stacker none.
        clf = make_estimator("late", train.modalities, model=LogisticRegression(C=1.0, max_iter=1000))
        clf.set_params(cv=3).fit(train.X, train.y, groups=train.groups)
    assert isinstance(clf.final_estimator_, LogisticRegressionHead) and clf.final_estimator_.chosen_["C"] > 0
    assert clf.stack_.final_estimator_ is clf.final_estimator_


def test_late_fusion_diagnosis_refits_with_the_locations():
    # Issue 18: when the stack failed, late fusion refitted its members fold by fold to name the
    # cause, without the locations: every head then chose its C ungrouped (a raw warning per fit,
    # 24 lines in one tune) before the original error. 2 locations per scene: each internal
    # training part keeps one, too few for the heads' own grouped folds.
    train = _data(n_loc=20, per_loc=3)
    # Folds asked to be grouped (else they fall back to stratified ones), heads choosing in every fold.
    clf = make_estimator("late", train.modalities).set_params(cv=2, cv_groups="location", member_tuning="nested")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UngroupedWarning)
        with pytest.raises(DataError, match="2 or more locations"):
            clf.fit(train.X, train.y, groups=train.groups)


@pytest.mark.parametrize("cls", [LateFusionClassifier, WeightedFusionClassifier])
def test_groups_reach_fit_through_metadata_routing(cls):
    # Three nested grouped CVs (outer, the fusion's, each head's): 12 locations per scene keep 2+
    # per scene in the training part of the innermost.
    train = _data(n_loc=120, per_loc=2)
    with sklearn.config_context(enable_metadata_routing=True):
        est = cls(_pipes(train), cv=3).set_fit_request(groups=True)
        # Outer folds of the same policy: each outer training part keeps 2+ locations per scene for the inner ones.
        grid = GridSearchCV(est, {"cv": [3]}, cv=LocationKFold(2), error_score="raise")
        grid.fit(train.X, train.y, groups=train.groups)
    best = grid.best_estimator_
    if cls is LateFusionClassifier:
        for tr, te in best.cv_splits_:
            assert not set(train.groups[tr]) & set(train.groups[te])


def test_three_modalities_every_mode():
    fs = _data(mods=(("audio", 1.0), ("video", 0.8), ("text", 0.6)), n_loc=40)
    train, test = fs.subset(np.arange(fs.n_clips) % 5 != 0), fs.subset(np.arange(fs.n_clips) % 5 == 0)
    for mode in ("audio", "video", "text", "early", "intermediate", "late", "weighted"):
        est = _pinned(make_estimator(mode, fs.modalities))
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
    est = _pinned(make_estimator(mode, train.modalities))
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
        audio = est.estimators_[0].predict_proba(est.pooler_.transform(test.X[:10])[:, est.blocks_[0]])
        assert np.array_equal(P[:10].argmax(axis=1), audio.argmax(axis=1))
    # No modality at all: the training class prior (tests/test_no_modality.py covers every mode).
    X[0, :] = np.nan
    with pytest.warns(NoModalityWarning, match="1 clip"):
        np.testing.assert_allclose(est.predict_proba(X)[0], est.class_prior_, atol=1e-12)


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


def test_intermediate_batch_size_one_is_refused_and_two_trains_every_epoch(split):
    train, test = split
    # A batch of one clip has no batch-norm statistics: every step was skipped, loss_curve_ all NaN.
    with pytest.raises(ConfigError, match=r"batch_size=1: expected 2 or more \(batch norm"):
        IntermediateFusionClassifier(train.modalities, batch_size=1, random_state=0).fit(train.X, train.y,
                                                                                          groups=train.groups)
    # Batch size 2 on an odd number of training clips: no one-clip batch is left over to skip.
    params = {**SMALL_MLP, "batch_size": 2, "max_epochs": 3, "validation_fraction": 0.0}
    odd = train.subset(np.arange(train.n_clips - (1 - train.n_clips % 2)))
    assert odd.n_clips % 2 == 1
    est = IntermediateFusionClassifier(train.modalities, random_state=0, **params).fit(odd.X, odd.y)
    assert len(est.loss_curve_) == 3 and np.isfinite(est.loss_curve_).all()
    assert np.mean(est.predict(test.X) == test.y) > 0.5


@pytest.mark.parametrize("mode", ["intermediate", "late", "weighted"])
def test_save_load_roundtrip(split, mode, tmp_path):
    train, test = split
    est = _pinned(make_estimator(mode, train.modalities))
    if mode == "intermediate":
        est.set_params(**SMALL_MLP)
    est.fit(train.X, train.y, groups=train.groups)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    loaded = pickle.loads(path.read_bytes())
    assert np.array_equal(loaded.predict_proba(test.X), est.predict_proba(test.X))


def test_compare_fusions_table(split):
    train, test = split
    # Heads at C=1: these 16-d toy features want little regularisation.
    df = compare_fusions(train, test, n_boot=200, cv=3, model=LogisticRegression(C=1.0, max_iter=1000))
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


# ----------------------------------------------------------------------------- pooled members, nested params

def test_nested_head_params_reach_the_fitted_modality_estimator(split):
    train, test = split
    for mode in ("late", "weighted"):
        est = make_estimator(mode, train.modalities, model=LogisticRegression(C=1.0, max_iter=1000))
        est.set_params(cv=2)
        params = est.get_params()
        assert params["audio__head__C"] == params["video__head__C"] == 1.0
        assert params["pooler__audio__stats"] == ("mean",)
        est.set_params(audio__head__C=0.01).fit(train.X, train.y, groups=train.groups)
        audio, video = (e.named_steps["head"] for e in est.estimators_)
        assert (audio.C, video.C) == (0.01, 1.0)
        # Stronger regularisation shrinks the audio head's coefficients, not video's.
        ref = make_estimator(mode, train.modalities, model=LogisticRegression(C=1.0, max_iter=1000))
        ref.set_params(cv=2).fit(train.X, train.y, groups=train.groups)
        ref_audio, ref_video = (e.named_steps["head"] for e in ref.estimators_)
        assert np.abs(audio.coef_).sum() < 0.5 * np.abs(ref_audio.coef_).sum()
        assert np.array_equal(video.coef_, ref_video.coef_)
    # A fit config reaches them the same way.
    cfg = {"fusion": "late", "model": "logreg", "seed": 0, "params": {"audio__head__C": 0.05}}
    assert build_estimator(cfg, train.modalities).get_params()["audio__head__C"] == 0.05


def test_gridsearch_tunes_one_modality_head(split):
    train, _ = split
    est = make_estimator("weighted", train.modalities).set_params(weights=(1, 1), temperature=1.0)
    grid = GridSearchCV(est, {"video__head__C": [1e-4, 1.0]}, cv=GroupKFold(3), scoring="neg_log_loss")
    grid.fit(train.X, train.y, groups=train.groups)
    assert grid.best_params_ == {"video__head__C": 1.0}
    assert grid.best_estimator_.estimators_[1].named_steps["head"].C == 1.0


def test_pooling_params_reach_the_pooler():
    fs = _data(n_loc=30, n_frames=4)
    est = _pinned(make_estimator("late", fs.modalities)).set_params(pooler__audio__stats=("mean", "std"), cv=3)
    est.fit(fs.X, fs.y, groups=fs.groups)
    assert [(b.start, b.stop) for b in est.blocks_] == [(0, 32), (32, 48)]
    assert [e.n_features_in_ for e in est.estimators_] == [32, 16]
    audio = est.pooler_.named_transformers_["audio"]
    assert isinstance(audio, FramePooler) and audio.stats == ("mean", "std")
    assert est.n_features_in_ == fs.X.shape[1] == 2 * 4 * 16


_SPY = []


class _Spy(ClassifierMixin, BaseEstimator):
    """Records the shape and dtype of every array it is fitted on; predicts the training class frequencies."""

    def fit(self, X, y):
        _SPY.append((X.shape, X.dtype))
        self.classes_, counts = np.unique(y, return_counts=True)
        self.freq_ = counts / counts.sum()
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        return np.tile(self.freq_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


@pytest.mark.parametrize("cls", [LateFusionClassifier, WeightedFusionClassifier])
def test_members_and_folds_see_only_their_pooled_columns(cls, monkeypatch):
    fs = _data(n_loc=30, n_frames=8)  # raw block 8 x 16 = 128 columns, pooled 16
    pooled = []
    real = FramePooler.transform
    monkeypatch.setattr(FramePooler, "transform", lambda self, X: pooled.append(X.shape) or real(self, X))
    _SPY.clear()
    est = cls([("audio", _Spy()), ("video", _Spy())], pooler=make_pooler(fs.modalities), cv=3)
    est.fit(fs.X, fs.y, groups=fs.groups)
    # Each modality: one fit on all clips and one per internal fold, every one on 16 pooled float32 columns.
    assert len(_SPY) == 2 * (1 + 3)
    assert {shape[1] for shape, _ in _SPY} == {16} and {dtype for _, dtype in _SPY} == {np.dtype(np.float32)}
    assert sorted(shape[0] for shape, _ in _SPY) == sorted([fs.n_clips] * 2 + [len(tr) for tr, _ in
                                                                              grouped(fs, 3)] * 2)
    # The frames were pooled once per modality, all clips at a time, before any fold.
    assert pooled == [(fs.n_clips, 128), (fs.n_clips, 128)]


def grouped(fs, cv):
    from avsc_sk.fusion import grouped_splits
    return grouped_splits(fs.X, fs.y, fs.groups, cv)


def test_too_few_clips_per_scene_is_one_data_error():
    # 4 clips per scene, each from its own location: each fold's heads still get 2+ locations per scene.
    fs = _data(n_loc=40, per_loc=1)
    est = make_estimator("late", fs.modalities, model="knn")
    # scikit-learn's stratified splitters want a class of 5 clips for 5 folds: 4 folds, said once.
    with pytest.warns(SplitWarning, match=r"^late fusion's internal cross-validation: 4 folds instead of 5.*"
                                          r"every class has fewer than 5 clips"):
        est.fit(fs.X, fs.y, groups=fs.groups)
    assert len(est.cv_splits_) == 4
    # Two folds are possible, but 25 neighbours (given; the head would choose fewer) need more
    # than the 20 clips of a fold.
    with pytest.raises(DataError, match=r"modality 'audio': internal fold 1 of 2 has 20 training clips.*"
                                        r"n_neighbors = 25.*more clips per scene.*audio__head__.*cv=3"):
        est.set_params(cv=2, audio__head__n_neighbors=25, video__head__n_neighbors=25).fit(fs.X, fs.y,
                                                                                           groups=fs.groups)
    # With fewer neighbours it fits.
    assert est.set_params(cv=2, audio__head__n_neighbors=5, video__head__n_neighbors=5).fit(fs.X, fs.y, groups=fs.groups)
    assert make_estimator("weighted", fs.modalities).set_params(cv=2).fit(fs.X, fs.y, groups=fs.groups)


def test_modality_named_like_a_parameter_is_refused():
    fs = _data(n_loc=20, mods=(("audio", 1.0), ("cv", 1.0)))
    with pytest.raises(ConfigError, match="clash with parameters"):
        make_estimator("late", fs.modalities).fit(fs.X, fs.y, groups=fs.groups)


def test_compare_matches_the_standalone_estimators(split):
    train, test = split
    df = compare_fusions(train, test, fusions=["audio", "early", "late", "weighted"], n_boot=50, cv=3)
    acc = df.set_index("mode")["accuracy"]
    for mode in ("audio", "early", "late", "weighted"):
        est = make_estimator(mode, train.modalities)
        if mode in ("late", "weighted"):
            est.set_params(cv=3)
        fit_with_groups(est, train.X, train.y, train.groups)  # the heads' inner folds: by location, as in compare
        assert acc[mode] == np.mean(est.predict(test.X) == test.y), mode


@pytest.mark.parametrize("mode", ["late", "weighted"])
@pytest.mark.parametrize("C", [1e-6, 1e4])
def test_any_head_regularisation_gives_probabilities(split, mode, C):
    # Near-uniform (tiny C) or near-0/1 (huge C) modality probabilities must still stack and blend.
    train, test = split
    est = make_estimator(mode, train.modalities).set_params(audio__head__C=C, video__head__C=C, cv=3)
    P = est.fit(train.X, train.y, groups=train.groups).predict_proba(test.X)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)
    if C > 1:
        assert np.mean(est.classes_[P.argmax(axis=1)] == test.y) > 0.8


@pytest.mark.parametrize("mode", ["late", "weighted"])
def test_run_directory_keeps_the_pooler_and_nested_params(split, mode, tmp_path):
    from avsc_sk.runs import fit_run, load_run, save_run

    train, test = split
    config = {"fusion": mode, "model": "logreg", "seed": 0, "segment_frames": 0,
              "params": {"cv": 3, "audio__head__C": 0.5, "pooler__audio__stats": ("mean", "max")}}
    model, manifest = fit_run(config, train)
    run = load_run(save_run(tmp_path / "run", model, manifest))
    assert run.model.get_params()["audio__head__C"] == 0.5
    assert run.model.blocks_[0] == slice(0, 32)
    assert np.array_equal(run.model.predict_proba(test.X), model.predict_proba(test.X))
