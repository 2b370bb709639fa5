"""``from_members``: late and weighted fusion assembled from shared fitted members equal a plain ``fit``."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier
from threadpoolctl import threadpool_limits

from avsc_sk.data import FeatureSet
from avsc_sk.errors import ConfigError
from avsc_sk.fusion import LateFusionClassifier, WeightedFusionClassifier, fit_member, fold_proba, grouped_splits
from avsc_sk.fusion import make_estimator


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _data(n_loc=40, per_loc=6, n_classes=4, dim=8, n_frames=2, seed=0):
    """Clips of ``n_classes`` labels (not TAU's) from locations, two modalities of different strength."""
    rng = np.random.default_rng(seed)
    y_idx = np.repeat(np.arange(n_loc) % n_classes, per_loc)
    loc = np.repeat(np.arange(n_loc), per_loc)
    blocks = []
    for strength in (1.0, 0.6):
        protos = rng.normal(size=(n_classes, dim))
        clip = strength * protos[y_idx] + rng.normal(scale=0.7, size=(n_loc, dim))[loc]
        blocks.append((clip[:, None, :] + rng.normal(size=(len(y_idx), n_frames, dim))).reshape(len(y_idx), -1))
    labels = np.asarray(["cat", "dog", "eel", "fox"])[y_idx]
    ids = [f"clip{i:04d}" for i in range(len(y_idx))]
    return FeatureSet(np.hstack(blocks).astype(np.float32), [("audio", n_frames, dim), ("video", n_frames, dim)],
                      ids, labels, location=[f"loc{g}" for g in loc], city=[""] * len(ids), synthetic=True)


@pytest.fixture(scope="module")
def split():
    fs = _data()
    test = np.isin(fs.groups, np.unique(fs.groups)[::4])
    return fs.subset(~test), fs.subset(test)


def _members_as_fit_makes_them(est, train):
    """What ``fit`` trains: each modality's pipeline on its pooled block, and its out-of-fold probabilities."""
    pooler = clone(est.pooler).fit(train.X)
    Z, y, groups = pooler.transform(train.X), np.asarray(train.y), np.asarray(train.groups)
    classes = np.unique(y)
    splits = grouped_splits(Z, y, groups, est.cv, est.random_state)
    members, oof = [], []
    for name, template in est.estimators:
        Zm = Z[:, pooler.output_indices_[name]]
        members.append((name, fit_member(name, template, Zm, y, groups=groups)))
        parts = [fold_proba(name, template, Zm, y, tr, te, classes, f"fold {i}", len(splits), groups)
                 for i, (tr, te) in enumerate(splits)]
        P = np.empty((len(y), len(classes)), dtype=parts[0].dtype)  # the members' own precision
        for (_, te), part in zip(splits, parts):
            P[te] = part
        oof.append(P)
    return members, oof, splits


def _coefs(est):
    return [member.named_steps["head"].estimator_.coef_ for member in est.estimators_]


@pytest.fixture(scope="module")
def binary():
    fs = _data(n_classes=2)
    test = np.isin(fs.groups, np.unique(fs.groups)[::4])
    return fs.subset(~test), fs.subset(test)


@pytest.mark.parametrize("data", ["split", "binary"])  # binary: the stack drops each member's first column
def test_late_from_members_equals_fit(data, request):
    train, test = request.getfixturevalue(data)
    est = make_estimator("late", train.modalities).set_params(cv=3, audio__head__C=1.0, video__head__C=1.0)
    fitted = clone(est).fit(train.X, train.y, groups=train.groups)
    members, oof, splits = _members_as_fit_makes_them(est, train)
    shared = LateFusionClassifier.from_members(members, oof, train.X, train.y, groups=train.groups,
                                               cv_splits=splits, **est.get_params(deep=False))
    # A real StackingClassifier underneath on both paths, with the same parameters.
    assert isinstance(shared.stack_, StackingClassifier) and isinstance(fitted.stack_, StackingClassifier)
    assert len(shared.stack_.cv) == len(fitted.stack_.cv) == 3
    assert all(np.array_equal(a, b) for s, f in zip(shared.stack_.cv, fitted.stack_.cv) for a, b in zip(s, f))
    assert repr(shared.stack_.get_params()) == repr(fitted.stack_.get_params())
    assert list(shared.classes_) == list(fitted.classes_) == ["cat", "dog", "eel", "fox"][:len(np.unique(train.y))]
    for a, b in zip(_coefs(shared), _coefs(fitted)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(shared.final_estimator_.estimator_.coef_, fitted.final_estimator_.estimator_.coef_)
    assert shared.final_estimator_.C_ == fitted.final_estimator_.C_  # the stacker chose its C on the locations
    assert shared.stack_.final_estimator_ is shared.final_estimator_
    np.testing.assert_array_equal(shared.predict_proba(test.X), fitted.predict_proba(test.X))
    np.testing.assert_allclose(shared.stack_.predict_proba(shared.pooler_.transform(test.X)),
                               shared.predict_proba(test.X), rtol=1e-6)
    # Another stacker input (the members' in-sample probabilities) would give another stacker: the OOF are used.
    in_sample = [m.predict_proba(shared.pooler_.transform(train.X)[:, b]) for (_, m), b in zip(members, shared.blocks_)]
    other = LateFusionClassifier.from_members(members, in_sample, train.X, train.y, groups=train.groups,
                                              cv_splits=splits, **est.get_params(deep=False))
    assert not np.allclose(other.final_estimator_.estimator_.coef_, fitted.final_estimator_.estimator_.coef_)


@pytest.mark.parametrize("params", [{}, {"per_class": True}, {"blend": "arithmetic"}])
def test_weighted_from_members_equals_fit(split, params):
    train, test = split
    est = make_estimator("weighted", train.modalities).set_params(cv=3, audio__head__C=1.0, video__head__C=1.0,
                                                                  **params)
    fitted = clone(est).fit(train.X, train.y, groups=train.groups)
    members, oof, _ = _members_as_fit_makes_them(est, train)
    shared = WeightedFusionClassifier.from_members(members, oof, train.X, train.y, **est.get_params(deep=False))
    assert list(shared.classes_) == list(fitted.classes_)
    np.testing.assert_array_equal(shared.weights_, fitted.weights_)
    assert shared.temperature_ == fitted.temperature_
    if params.get("per_class"):
        np.testing.assert_array_equal(shared.class_weights_, fitted.class_weights_)
    for a, b in zip(_coefs(shared), _coefs(fitted)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(shared.predict_proba(test.X), fitted.predict_proba(test.X))


def test_from_members_refuses_members_that_do_not_fit_the_data(split):
    train, _ = split
    est = make_estimator("late", train.modalities).set_params(cv=3)
    members, oof, splits = _members_as_fit_makes_them(est.set_params(audio__head__C=1.0, video__head__C=1.0), train)
    params = est.get_params(deep=False)
    with pytest.raises(ConfigError, match=r"members \['video', 'audio'\] differ"):
        LateFusionClassifier.from_members(members[::-1], oof[::-1], train.X, train.y, cv_splits=splits,
                                          **params)
    with pytest.raises(ConfigError, match="oof_proba: expected 2 arrays of shape"):
        LateFusionClassifier.from_members(members, [p[:-1] for p in oof], train.X, train.y, cv_splits=splits,
                                          **params)
    wide = [(name, clone(m).fit(np.hstack([train.X] * 2), train.y)) for name, m in members]
    with pytest.raises(ConfigError, match="member 'audio' was fitted on 64 columns"):
        WeightedFusionClassifier.from_members(wide, oof, train.X, train.y, pooler=params["pooler"])
    with pytest.raises(ConfigError, match="pass oof_proba"):
        LateFusionClassifier.from_members(members, None, train.X, train.y, cv_splits=splits, **params)
