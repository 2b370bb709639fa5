"""Heads choose their regularisation on location-grouped inner folds; groups reach them everywhere."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from avsc_sk.fusion import WeightedFusionClassifier, make_estimator
from avsc_sk.errors import AvscWarning
from avsc_sk.heads import (InnerCVHead, KNNHead, LGBMHead, LogisticRegressionHead, MLPConvergenceWarning, MLPHead, SVMHead,
                           UngroupedWarning, chosen_params, fit_with_groups, make_head)
from avsc_sk.heads._base import inner_splits
from avsc_sk.runs import build_estimator


def _data(n=300, n_features=20, n_informative=5, sep=1.0, seed=0):
    X, y = make_classification(n_samples=n, n_features=n_features, n_informative=n_informative, n_redundant=0,
                               n_classes=3, class_sep=sep, random_state=seed)
    return X, y, np.arange(n) // 10  # pseudo-locations of 10 consecutive samples


class _Spy(InnerCVHead):
    """Records the groups every fit receives."""

    seen = []

    def _fit(self, X, y, groups):
        _Spy.seen.append(None if groups is None else np.asarray(groups).copy())
        self.estimator_ = LogisticRegression().fit(X, y)


def test_logreg_chooses_strong_regularisation_for_noise_and_weak_for_separable_data():
    X, y, g = _data(n=200, n_features=300, n_informative=3, sep=0.5)
    noisy = LogisticRegressionHead().fit(X, y, groups=g)
    X, y, g = _data(n=400, n_features=4, n_informative=4, sep=3.0)
    clean = LogisticRegressionHead().fit(X, y, groups=g)
    assert noisy.C_ <= 1e-2 < 1.0 <= clean.C_
    for head in (noisy, clean):
        assert head.C_ == min(head.cv_scores_, key=lambda r: r["log_loss"])["C"]
        assert [r["C"] for r in head.cv_scores_] == sorted(head.Cs)[:len(head.cv_scores_)]  # in the order tried
        assert head.estimator_.C == head.C_ and head.chosen_ == {"C": head.C_}


def test_a_given_value_wins_and_skips_the_inner_cv():
    X, y, g = _data()
    head = LogisticRegressionHead(C=0.5).fit(X, y, groups=g)
    assert head.C_ == 0.5 and head.cv_scores_ == []
    est = build_estimator({"fusion": "early", "model": "logreg", "params": {"head__C": 0.25}},
                          (("audio", 1, 10), ("video", 1, 10)))
    assert est.named_steps["head"].C == 0.25
    assert KNNHead(n_neighbors=7).fit(X, y, groups=g).n_neighbors_ == 7
    assert LGBMHead(n_estimators=12).fit(X, y, groups=g).n_estimators_ == 12


def test_inner_folds_never_split_a_location():
    X, y, g = _data()
    splits = inner_splits(y, g, 5, 0)
    assert len(splits) == 5
    for train, test in splits:
        assert not set(g[train]) & set(g[test])


def test_without_groups_each_clip_is_its_own_group_with_a_warning():
    X, y, _ = _data()
    with pytest.warns(UngroupedWarning, match="no groups"):
        LogisticRegressionHead(Cs=(0.1, 1.0)).fit(X, y)


def test_lgbm_and_mlp_heads_warn_only_in_the_house_style():
    # Issue 18: LightGBM >= 4.7 warned of its deprecated eval_set at every early-stopped fit, and the
    # MLP printed sklearn's ConvergenceWarning for every inner fold (192 raw lines for one late fit).
    X, y, g = _data(n=120, n_features=6)
    y = np.array(["bus", "park", "tram"])[y]  # string labels, as scenes are
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LGBMHead(max_rounds=20, stopping_rounds=3, min_child_samples=5).fit(X, y, groups=g)
        mlp = MLPHead(alphas=(1e-3, 1e-1), hidden_layer_sizes=(4,), max_iter=3).fit(X, y, groups=g)
    assert [w.category for w in caught] == [MLPConvergenceWarning], [str(w.message) for w in caught]
    assert "max_iter=3" in str(caught[0].message) and mlp.n_iter_ == 3
    assert issubclass(MLPConvergenceWarning, AvscWarning) and issubclass(UngroupedWarning, AvscWarning)


def test_groups_reach_the_head_in_a_pipeline_with_and_without_metadata_routing():
    import sklearn

    X, y, g = _data()
    pipe = make_pipeline(StandardScaler(), _Spy())
    _Spy.seen.clear()
    fit_with_groups(pipe, X, y, g)
    with sklearn.config_context(enable_metadata_routing=True):
        fit_with_groups(pipe, X, y, g)
    assert len(_Spy.seen) == 2 and all(np.array_equal(s, g) for s in _Spy.seen)


@pytest.mark.parametrize("fusion", ["audio", "early", "late", "weighted"])
def test_every_mode_gives_its_heads_the_locations(fusion):
    rng = np.random.default_rng(0)
    X, y, g = _data(n=240, n_features=8)
    X = np.hstack([X, X + rng.normal(size=X.shape)]).astype(np.float32)  # two "modalities" of 1 frame x 8
    est = make_estimator(fusion, (("audio", 1, 8), ("video", 1, 8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UngroupedWarning)  # any head fitted without groups fails
        fit_with_groups(est, X, y, g)
    chosen = chosen_params(est)
    assert chosen and all(k.endswith("C") for k in chosen)
    if fusion in ("late", "weighted"):
        assert set(chosen) == {"audio__head__C", "video__head__C"}


def test_late_fusion_members_choose_inside_each_outer_fold():
    X, y, g = _data(n=200)
    late = make_estimator("late", (("a", 1, 10), ("b", 1, 10)))
    late.set_params(a__head=_Spy(), b__head=_Spy())
    _Spy.seen.clear()
    fit_with_groups(late, X.astype(np.float32), y, g)
    # 2 members x (5 outer folds + the final fit); a fold's member sees only its training locations.
    sizes = sorted(len(s) for s in _Spy.seen)
    assert len(sizes) == 12 and sizes[-1] == 200 and sizes[-2] == 200 and max(sizes[:-2]) < 200
    for train, test in late.cv_splits_:
        assert any(np.array_equal(s, g[train]) for s in _Spy.seen)


def test_svm_calibration_beats_one_vs_rest_sigmoids():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_digits
    from sklearn.metrics import log_loss
    from sklearn.svm import SVC, LinearSVC

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X, y, g, Xt, yt = X[:1000], y[:1000], np.arange(1000) // 20, X[1000:], y[1000:]
    for kernel, base in (("linear", LinearSVC(C=0.1)), ("rbf", SVC(C=10.0, gamma=0.0055))):
        head = SVMHead(kernel=kernel, C=base.C, gamma=getattr(base, "gamma", None)).fit(X, y, groups=g)
        P = head.predict_proba(Xt)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        sigmoid = CalibratedClassifierCV(base, method="sigmoid", cv=3).fit(X, y).predict_proba(Xt)
        assert log_loss(yt, P) < log_loss(yt, sigmoid) - 0.005, kernel
        assert np.mean(head.predict(Xt) == yt) > 0.9


def test_knn_lgbm_mlp_choose_from_their_grids():
    X, y, g = _data(n=240)
    knn = KNNHead(ks=(1, 30)).fit(X, y, groups=g)
    assert knn.n_neighbors_ == 30  # one neighbour gives 0/1 probabilities: a terrible log loss
    lgbm = LGBMHead(max_rounds=400, stopping_rounds=10, learning_rate=0.3).fit(X, y, groups=g)
    assert 1 <= lgbm.n_estimators_ < 400
    mlp = MLPHead(alphas=(1e-3, 10.0), hidden_layer_sizes=(16,), max_iter=100).fit(X, y, groups=g)
    assert [r["alpha"] for r in mlp.cv_scores_] == [1e-3, 10.0]
    assert mlp.alpha_ == min(mlp.cv_scores_, key=lambda r: r["log_loss"])["alpha"]


@pytest.mark.parametrize("name", ["logreg", "linsvm", "svm", "lgbm", "knn", "mlp"])
def test_named_heads_leave_their_capacity_to_the_data(name):
    head = make_head(name)
    free = {"logreg": "C", "linsvm": "C", "svm": "C", "lgbm": "n_estimators", "knn": "n_neighbors",
            "mlp": "alpha"}[name]
    assert head.get_params()[free] is None


def test_weighted_fusion_keeps_a_given_temperature_when_learning_weights():
    # Regression: the learnt weights came back with temperature_ == 1.0 whatever was given.
    X, y, g = _data(n=200)
    est = make_estimator("weighted", (("a", 1, 10), ("b", 1, 10)))
    est.set_params(temperature=3.0, a__head__C=0.1, b__head__C=0.1)
    assert isinstance(est, WeightedFusionClassifier)
    est.fit(X.astype(np.float32), y, groups=g)
    assert est.temperature_ == 3.0
    assert est.weights_.shape == (2,) and np.isclose(est.weights_.sum(), 1.0)
    P = est.predict_proba(X.astype(np.float32))
    sharp = est.set_params(temperature=1.0).fit(X.astype(np.float32), y, groups=g).predict_proba(X.astype(np.float32))
    assert P.max(axis=1).mean() > sharp.max(axis=1).mean()  # 3x the sharpness: more confident


def test_a_head_that_cannot_choose_says_so():
    # One clip of a class: no two inner folds can hold it, so the fall-back C is no choice and is said to be.
    from avsc_sk.errors import SplitWarning
    from avsc_sk.heads import LogisticRegressionHead

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(9, 3)), np.array(["a"] * 4 + ["b"] * 4 + ["c"])
    with pytest.warns(SplitWarning, match="could not choose its hyper-parameters"):
        head = LogisticRegressionHead().fit(X, y, groups=np.arange(9))
    assert head.C_ == min(head.Cs)


def test_logreg_inner_folds_in_parallel_choose_the_same():
    # The folds walk the C path together (one stopping rule on the mean loss), whether in one process or two.
    X, y, g = _data(n=300)
    one = LogisticRegressionHead().fit(X, y, groups=g)
    two = LogisticRegressionHead(n_jobs=2).fit(X, y, groups=g)
    assert one.C_ == two.C_ and one.cv_scores_ == two.cv_scores_
    np.testing.assert_allclose(one.predict_proba(X), two.predict_proba(X))
    best = [r["C"] for r in one.cv_scores_].index(one.C_)
    assert len(one.cv_scores_) == min(len(one.Cs), best + 1 + one.patience)
