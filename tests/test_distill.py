"""Cross-modal transfer: a single-modality student learning from a teacher's out-of-fold probabilities."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import log_loss

from avsc_sk.cli import main
from avsc_sk.data import write_features
from avsc_sk.fusion import DistilledClassifier, make_estimator, soft_target_rows
from avsc_sk.fusion._base import grouped_splits
from avsc_sk.heads import LGBMHead, LogisticRegressionHead, MLPHead

from conftest import small_featureset


def test_soft_target_rows_weighted_cross_entropy_is_the_soft_cross_entropy():
    rng = np.random.default_rng(0)
    classes = np.array(["a", "b", "c", "d"])
    targets = rng.dirichlet(np.ones(4), size=30)
    targets[:5] = np.eye(4)[[0, 1, 2, 3, 0]]  # one-hot rows keep one row each
    keep = np.argmax(targets, axis=1)
    P = rng.dirichlet(np.ones(4), size=30)
    rows, labels, w = soft_target_rows(targets, classes, keep=keep, min_weight=0.0)
    np.testing.assert_allclose(np.bincount(rows, weights=w), 1.0)
    weighted = log_loss(labels, P[rows], labels=classes, sample_weight=w) * w.sum() / len(targets)
    soft = -np.mean(np.sum(targets * np.log(P), axis=1))
    assert weighted == pytest.approx(soft, rel=1e-12)
    rows, _, _ = soft_target_rows(targets, classes, keep=keep)  # default min_weight: one-hot rows stay one row
    assert (np.bincount(rows)[:5] == 1).all() and (np.bincount(rows)[5:] == 4).all()


def test_soft_target_rows_keep_the_label_and_drop_tiny_mass():
    targets = np.array([[0.0005, 0.9995, 0.0], [0.5, 0.25, 0.25]])
    rows, labels, w = soft_target_rows(targets, np.array([0, 1, 2]), keep=np.array([0, 2]))
    # Clip 0 keeps its label's column (0) though below min_weight; clip 1 keeps all three.
    assert list(zip(rows, labels)) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    np.testing.assert_allclose(np.bincount(rows, weights=w), 1.0)


@pytest.mark.parametrize("head", [LogisticRegressionHead(C=0.5), MLPHead(alpha=0.01, hidden_layer_sizes=(8,),
                                                                          max_iter=400, random_state=0)],
                         ids=["logreg", "mlp"])
def test_weight_equals_duplication_at_fixed_C(head):
    # What makes replication exact: at a fixed hyper-parameter, weight 2 is the row twice.
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 5)), np.repeat([0, 1, 2], 20)
    w = rng.integers(1, 3, size=60).astype(float)
    weighted = clone(head).fit(X, y, sample_weight=w)
    duplicated = clone(head).fit(np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int)))
    if isinstance(head, LogisticRegressionHead):
        np.testing.assert_allclose(weighted.predict_proba(X), duplicated.predict_proba(X), atol=1e-5)
    else:  # SGD-type batches differ with row count; the weighted loss is what it minimises
        assert np.mean(weighted.predict(X) == duplicated.predict(X)) > 0.9


def _data():
    train = small_featureset("train", n_per_class=12)
    return train, train.X, train.y, train.groups


def test_alpha_zero_is_the_student_trained_on_labels():
    train, X, y, groups = _data()
    student = make_estimator("video", train.modalities, input_stats=train.stats)
    teacher = make_estimator("early", train.modalities, input_stats=train.stats)
    plain = clone(student).fit(X, y, head__groups=groups)
    distilled = DistilledClassifier(student, teacher, alpha=0.0, cv=3).fit(X, y, groups=groups)
    # The same C and rows; the two fits differ only within the solver's tolerance (the plain head's
    # final fit starts from its C path, the student's head from zero).
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), atol=1e-3)
    assert distilled.estimator_.steps[-1][1].C == pytest.approx(plain.steps[-1][1].C_)


def test_teacher_targets_come_from_folds_without_the_clip_or_its_location():
    train, X, y, groups = _data()
    teacher = make_estimator("early", train.modalities, input_stats=train.stats).set_params(head__C=1.0)
    student = make_estimator("video", train.modalities, input_stats=train.stats).set_params(head__C=1.0)
    d = DistilledClassifier(student, teacher, cv=3).fit(X, y, groups=groups)
    assert d.cv_fallback_ is None
    covered = np.zeros(len(y), dtype=int)
    for tr, te in d.cv_splits_:
        assert not set(groups[tr]) & set(groups[te])  # no location on both sides
        covered[te] += 1
        fold = clone(teacher).fit(X[tr], y[tr])
        np.testing.assert_allclose(d.teacher_oof_[te], fold.predict_proba(X[te]), atol=1e-10)
    assert (covered == 1).all()  # every clip's target from exactly one fold that did not train on it
    expected = grouped_splits(X, y, groups, 3, 0, "auto", "x")
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(expected, d.cv_splits_))


def test_fitted_teacher_lends_its_choices_and_a_good_teacher_helps_a_weak_view():
    # Known answer: audio separates the scenes, video barely; the video student learns from
    # an audio-video teacher's soft targets which clips are ambiguous.
    train, X, y, groups = _data()
    teacher = make_estimator("early", train.modalities, input_stats=train.stats).fit(X, y, head__groups=groups)
    student = make_estimator("video", train.modalities, input_stats=train.stats)
    d = DistilledClassifier(student, teacher, cv=3).fit(X, y, groups=groups)
    assert d.teacher_oof_accuracy_ > 0.5
    assert d.n_rows_ > len(y)  # several classes per clip
    rows = d.teacher_oof_.sum(axis=1)
    np.testing.assert_allclose(rows, 1.0)
    # The fitted teacher was cloned with its chosen C fixed: no inner CV in its folds.
    assert d.teacher.steps[-1][1].C is None and d.teacher.steps[-1][1].C_ > 0
    P = d.predict_proba(X)
    assert P.shape == (len(y), len(d.classes_)) and np.array_equal(d.predict(X), d.classes_[P.argmax(1)])


def test_refuses_a_head_that_cannot_learn_from_soft_targets():
    train, X, y, groups = _data()
    student = make_estimator("video", train.modalities, input_stats=train.stats, model="knn")
    with pytest.raises(Exception, match="cannot learn from soft targets.*--model logreg, mlp or lgbm"):
        DistilledClassifier(student, LogisticRegressionHead(C=1.0)).fit(X, y)
    with pytest.raises(Exception, match="needs a teacher"):
        DistilledClassifier(LogisticRegressionHead(C=1.0)).fit(X, y)


def test_lgbm_head_takes_sample_weight():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(80, 4)), np.repeat([0, 1], 40)
    X[y == 1] += 1.0
    w = np.where(y == 1, 3.0, 1.0)
    head = LGBMHead(n_estimators=20, min_child_samples=5)
    heavy = clone(head).fit(X, y, sample_weight=w).predict_proba(X)[:, 1].mean()
    plain = clone(head).fit(X, y).predict_proba(X)[:, 1].mean()
    assert heavy > plain  # class 1 weighted up: more probability on it
    with pytest.raises(ValueError, match="at least one non-zero"):
        clone(head).fit(X, y, sample_weight=np.zeros(80))


# ------------------------------------------------------------------ the command line's refusals
@pytest.fixture(scope="module")
def features(tmp_path_factory):
    root = tmp_path_factory.mktemp("distill")
    sets = {"train": small_featureset("train"), "test": small_featureset("test", n_per_class=4)}
    path = write_features(root / "features.h5", sets)
    other = {k: small_featureset(k, dims=(6, 5), n_per_class=n) for k, n in (("train", 12), ("test", 4))}
    return path, write_features(root / "other.h5", other)


def _cli(capsys, *argv):
    capsys.readouterr()
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def teacher_run(features, tmp_path_factory):
    run = tmp_path_factory.mktemp("teacher") / "early"
    assert main(["fit", "--features", str(features[0]), "--fusion", "early", "--set", "params.head__C=1.0",
                 "--out", str(run)]) == 0
    return run


@pytest.mark.parametrize("args, needle", [
    (["--fusion", "early"], "the student must be one modality"),
    (["--fusion", "video", "--model", "knn"], "cannot learn from soft targets"),
    (["--fusion", "video", "--model", "auto"], "a student is one modality with a fixed head"),
    (["--fusion", "video", "--model", "svm"], "cannot learn from soft targets"),
    (["--fusion", "video", "--segment-frames", "2"], "on whole clips"),
    (["--fusion", "video", "--distill-alpha", "2"], "distill_alpha = 2.0"),
], ids=["fused-student", "knn-student", "auto-student", "svm-student", "segments", "alpha"])
def test_cli_refuses_what_cannot_be_distilled(features, teacher_run, tmp_path, capsys, args, needle):
    status, out, err = _cli(capsys, "fit", "--features", features[0], *args, "--teacher", teacher_run,
                            "--out", tmp_path / "run")
    lines = [line for line in err.splitlines() if line]
    assert status == 2 or status == 1
    assert len(lines) == 1 and lines[0].startswith("avsc-sk: error: ") and needle in lines[0], err
    assert not (tmp_path / "run").exists()


def test_cli_refuses_a_missing_teacher_and_one_of_other_features(features, teacher_run, tmp_path, capsys):
    status, _, err = _cli(capsys, "fit", "--features", features[0], "--fusion", "video",
                          "--teacher", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert status != 0 and err.count("\n") == 1 and "nowhere" in err and "Traceback" not in err
    status, _, err = _cli(capsys, "fit", "--features", features[1], "--fusion", "video",
                          "--teacher", teacher_run, "--out", tmp_path / "run")
    assert status != 0 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()


def test_cli_student_manifest_and_alpha(features, teacher_run, tmp_path, capsys):
    run = tmp_path / "student"
    status, out, err = _cli(capsys, "fit", "--features", features[0], "--fusion", "video", "--teacher", teacher_run,
                            "--distill-alpha", "0.3", "--out", run)
    assert status == 0, err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["teacher"]["alpha"] == 0.3 and manifest["config"]["teacher"] == str(teacher_run)
    assert manifest["teacher"]["train_fingerprint"] == \
        json.loads((teacher_run / "manifest.json").read_text())["train"]["fingerprint"]
    assert "distilled from" in out and "alpha 0.3" in out


def test_cli_student_with_class_weight_predicts(features, teacher_run, tmp_path, capsys):
    # --class-weight weighs the student's head (its keys are the student's), the teacher stays as fitted.
    run = tmp_path / "student"
    status, _, err = _cli(capsys, "fit", "--features", features[0], "--fusion", "audio", "--model", "mlp",
                          "--set", "params.head__alpha=0.01", "--set", "params.head__max_iter=300",
                          "--teacher", teacher_run, "--class-weight", "balanced", "--out", run)
    assert status == 0, err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["config"]["params"]["head__class_weight"] == "balanced" and manifest["teacher"]
    status, _, err = _cli(capsys, "predict", run, "--features", features[0], "--out", tmp_path / "p.csv")
    assert status == 0 and (tmp_path / "p.csv").is_file(), err
