"""``from_members``: late and weighted fusion assembled from shared fitted members equal a plain ``fit``."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier
from threadpoolctl import threadpool_limits

from avsc_sk.data import FeatureSet
from avsc_sk.errors import ConfigError
from avsc_sk.fusion import (LateFusionClassifier, WeightedFusionClassifier, fit_member, fixed_member, fold_proba,
                          grouped_splits)
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


# Member hyper-parameters chosen once (member_tuning="once", the default) or again in every fold ("nested").

def _count_inner_cv(monkeypatch):
    """Count the logistic heads' inner cross-validations (one per head fit that chooses its C)."""
    from avsc_sk.heads import LogisticRegressionHead

    calls = []
    real = LogisticRegressionHead._inner_splits

    def counting(self, y, groups):
        calls.append(len(y))
        return real(self, y, groups)

    monkeypatch.setattr(LogisticRegressionHead, "_inner_splits", counting)
    return calls


@pytest.mark.parametrize("mode", ["late", "weighted"])
def test_members_choose_their_C_once_and_the_fold_fits_reuse_it(split, mode, monkeypatch):
    train, _ = split
    calls = _count_inner_cv(monkeypatch)
    est = make_estimator(mode, train.modalities).set_params(cv=3).fit(train.X, train.y, groups=train.groups)
    # One inner CV per member, on every training clip, and (late) the stacker's; none in the 3 x 2 fold fits.
    assert calls == [train.n_clips] * (2 + (mode == "late"))
    calls.clear()
    nested = make_estimator(mode, train.modalities).set_params(cv=3, member_tuning="nested")
    nested.fit(train.X, train.y, groups=train.groups)
    folds = grouped_splits(train.X, np.asarray(train.y), train.groups, 3, nested.random_state)
    assert sorted(calls) == sorted([train.n_clips] * (2 + (mode == "late")) + [len(tr) for tr, _ in folds] * 2)


def test_fixed_member_takes_the_chosen_values():
    fs = _data()
    est = make_estimator("late", fs.modalities)
    template = est.estimators[0][1]
    Z = clone(est.pooler).fit_transform(fs.X)[:, :8]
    fitted = fit_member("audio", template, Z, np.asarray(fs.y), groups=fs.groups)
    fixed = fixed_member(template, fitted)
    assert template.get_params()["head__C"] is None  # the template is left as it was
    assert fixed.get_params()["head__C"] == fitted.named_steps["head"].C_
    refit = fixed.fit(Z, np.asarray(fs.y))
    assert refit.named_steps["head"].cv_scores_ == []  # no path: C was given


@pytest.mark.parametrize("mode", ["late", "weighted"])
def test_from_members_equals_fit_with_chosen_C(split, mode):
    # The members' C left to choose: their out-of-fold clones are fitted at each member's chosen C.
    train, test = split
    est = make_estimator(mode, train.modalities).set_params(cv=3)
    fitted = clone(est).fit(train.X, train.y, groups=train.groups)
    pooler = clone(est.pooler).fit(train.X)
    Z, y, groups = pooler.transform(train.X), np.asarray(train.y), np.asarray(train.groups)
    classes = np.unique(y)
    splits = grouped_splits(Z, y, groups, 3, est.random_state)
    members, oof = [], []
    for name, template in est.estimators:
        Zm = Z[:, pooler.output_indices_[name]]
        member = fit_member(name, template, Zm, y, groups=groups)
        fixed = fixed_member(template, member)
        parts = [fold_proba(name, fixed, Zm, y, tr, te, classes, f"fold {i}", 3, groups)
                 for i, (tr, te) in enumerate(splits)]
        P = np.empty((len(y), len(classes)), dtype=parts[0].dtype)  # the members' own precision
        for (_, te), part in zip(splits, parts):
            P[te] = part
        members.append((name, member))
        oof.append(P)
    extra = {"groups": train.groups, "cv_splits": splits} if mode == "late" else {}
    shared = type(est).from_members(members, oof, train.X, train.y, **extra, **est.get_params(deep=False))
    assert [m.named_steps["head"].C_ for m in shared.estimators_] == \
        [m.named_steps["head"].C_ for m in fitted.estimators_]
    np.testing.assert_array_equal(shared.predict_proba(test.X), fitted.predict_proba(test.X))


@pytest.mark.parametrize("mode", ["late", "weighted"])
def test_compare_shares_members_tuned_as_fit_tunes_them(split, mode, monkeypatch):
    from avsc_sk.evaluation import bootstrap_ci
    from avsc_sk.experiments import compare_fusions
    from avsc_sk.heads import fit_with_groups

    train, test = split
    calls = _count_inner_cv(monkeypatch)
    df = compare_fusions(train, test, fusions=["audio", mode], n_boot=10, cv=3)
    assert len(calls) == 2 + (mode == "late")  # each member chose its C once, shared by both modes
    est = fit_with_groups(make_estimator(mode, train.modalities).set_params(cv=3), train.X, train.y, train.groups)
    # Scored as compare scores (float32 probabilities included): the same model gives the same figure.
    ll = bootstrap_ci(np.asarray(test.y), est.predict_proba(test.X), "log_loss", n_boot=10, seed=0,
                      classes=[str(c) for c in est.classes_])["estimate"]
    assert df.set_index("mode")["log_loss"][mode] == ll


def test_member_tuning_is_validated(split):
    train, _ = split
    with pytest.raises(ConfigError, match=r"member_tuning='twice': expected 'once'"):
        make_estimator("weighted", train.modalities).set_params(member_tuning="twice").fit(
            train.X, train.y, groups=train.groups)
