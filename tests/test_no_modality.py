"""A clip with none of a model's modalities gets the training class prior, in every fusion mode (issue 22.1).

Before, mean imputation made "no data" the average clip, which a video-only run called
``airport`` at 0.988. Now every mode answers such clips with the scenes' shares of its
training clips, says so in one warning (rows from the API, clip ids from the commands),
and leaves such training clips out of what it learns from.
"""

import warnings

import numpy as np
import pytest

from avsc_sk.cli import main
from avsc_sk.data import FeatureSet, read_features, write_features
from avsc_sk.fusion import FUSIONS, NoModalityWarning, make_estimator
from avsc_sk.heads import fit_with_groups

from conftest import small_featureset

# Pinned where the test is not about choosing them: C for the heads, a short network.
PINNED = {"audio": {"head__C": 1.0}, "video": {"head__C": 1.0}, "early": {"head__C": 1.0},
          "late": {"audio__head__C": 1.0, "video__head__C": 1.0}, "weighted": {"audio__head__C": 1.0,
          "video__head__C": 1.0}, "intermediate": {"max_epochs": 5, "hidden": 16, "embed": 8, "shared": 8}}


def _imbalanced(fs):
    """Drop some clips of the first scenes: a class prior far from uniform."""
    y = np.asarray(fs.y)
    keep = [i for i in range(fs.n_clips) if not (y[i] in ("airport", "bus") and i % 3)]
    return fs.subset(np.array(keep))


def _blank(fs, rows, names):
    X = fs.X.copy()
    for name in names:
        X[np.ix_(rows, np.arange(X.shape[1])[fs.columns(name)])] = np.nan
    return FeatureSet(X, fs.modalities, fs.clip_ids, fs.y, fs.city, fs.location, split=fs.split,
                      classes=fs.classes)


@pytest.fixture(scope="module")
def train():
    return _imbalanced(small_featureset("train", n_per_class=16))


@pytest.fixture(scope="module")
def test():
    return small_featureset("test", n_per_class=3)


def _fit(fusion, train):
    est = make_estimator(fusion, train).set_params(**PINNED[fusion])
    return fit_with_groups(est, train.X, train.y, train.groups)


def _prior(y, classes):
    return np.array([np.mean(np.asarray(y) == c) for c in classes])


@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_clip_with_none_of_the_modalities_gets_the_class_prior(fusion, train, test):
    model = _fit(fusion, train)
    reads = [fusion] if fusion in ("audio", "video") else ["audio", "video"]
    rows = np.array([0, 4, 7])
    X = _blank(test, rows, reads).X
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        P = model.predict_proba(X)
    prior = _prior(train.y, model.classes_)
    assert prior.max() > 2 * prior.min()  # far from uniform: the test tells prior from "no idea"
    np.testing.assert_allclose(P[rows], np.tile(prior, (3, 1)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.class_prior_, prior, atol=1e-12)
    said = [str(w.message) for w in caught if issubclass(w.category, NoModalityWarning)]
    assert len(said) == 1 and said[0].startswith("3 clip(s) (rows 0, 4, 7)"), said
    # The other clips are predicted exactly as without the blank ones.
    others = np.setdiff1d(np.arange(test.n_clips), rows)
    np.testing.assert_allclose(P[others], model.predict_proba(test.X[others]), rtol=0, atol=1e-12)
    assert (model.predict(X)[rows] == model.classes_[np.argmax(prior)]).all()


@pytest.mark.parametrize("fusion", FUSIONS)
def test_training_clips_with_no_modality_are_left_out_of_the_fit(fusion, train):
    reads = [fusion] if fusion in ("audio", "video") else ["audio", "video"]
    rows = np.arange(0, train.n_clips, 9)
    blanked = _blank(train, rows, reads)
    keep = np.setdiff1d(np.arange(train.n_clips), rows)
    model, alone = _fit(fusion, blanked), _fit(fusion, train.subset(keep))
    probe = small_featureset("test", n_per_class=2).X
    if fusion == "intermediate":  # its standardisation ignores the blank clips too; its hold-out split differs
        assert np.isfinite(model.predict_proba(probe)).all()
    else:
        np.testing.assert_allclose(model.predict_proba(probe), alone.predict_proba(probe), rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.class_prior_, _prior(train.y, model.classes_), atol=1e-12)


def test_early_fusion_missing_a_modality_predicts_as_the_present_one_alone(train, test):
    early, audio = _fit("early", train), _fit("audio", train)
    X = _blank(test, np.arange(0, test.n_clips, 2), ["video"]).X
    P = early.predict_proba(X)
    # Clips without video: exactly the audio pipeline at early's chosen C, no surer than audio alone.
    np.testing.assert_allclose(P[::2], audio.predict_proba(X[::2]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(P[1::2], early.predict_proba(test.X[1::2]), rtol=0, atol=1e-12)
    # Mean imputation, what early fusion did before, is surer here than the modality alone.
    imputed = make_estimator("early", train).set_params(fallbacks=False, **PINNED["early"])
    imputed = fit_with_groups(imputed, train.X, train.y, train.groups)
    assert imputed.predict_proba(X[::2]).max(axis=1).mean() > P[::2].max(axis=1).mean()


def test_cli_names_the_clips_and_writes_the_prior(train, tmp_path, capsys):
    test = small_featureset("test", n_per_class=3)
    blank = _blank(test, np.array([1, 5]), ["video"])
    data = write_features(tmp_path / "f.h5", {"train": train, "test": blank})
    run = tmp_path / "run"
    assert main(["fit", "--features", str(data), "--split", "train", "--fusion", "video",
                 "--set", "params.head__C=1", "--allow-missing-modality", "--out", str(run)]) == 0
    capsys.readouterr()
    out = tmp_path / "p.csv"
    assert main(["predict", str(run), "--features", str(data), "--allow-missing-modality", "--decimals", "6",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    ids = [str(c) for c in np.asarray(blank.clip_ids)[[1, 5]]]
    lines = [line for line in err.splitlines() if "class prior" in line]
    assert len(lines) == 1 and lines[0].startswith("avsc-sk: warning: 2 of the 30 clips") and all(i in lines[0]
                                                                                                   for i in ids)
    import pandas as pd

    frame = pd.read_csv(out, sep="\t", comment="#").set_index("aid")
    classes = sorted(set(train.y))
    prior = _prior(train.y, classes)
    for clip in ids:
        np.testing.assert_allclose(frame.loc[clip, classes].to_numpy(float), prior, atol=1e-6)
    assert read_features(data, "test", allow_missing_modality=True).missing()[:, 1].sum() == 2


CLI_PINNED = {"audio": ["--set", "params.head__C=1"], "video": ["--set", "params.head__C=1"],
              "early": ["--set", "params.head__C=1"],
              "late": ["--set", "params.audio__head__C=1", "--set", "params.video__head__C=1"],
              "weighted": ["--set", "params.audio__head__C=1", "--set", "params.video__head__C=1"],
              "intermediate": ["--set", "params.max_epochs=5", "--set", "params.hidden=16"]}


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """Half the training clips without video, a tenth without audio; a test split with gaps too (issue 20.1)."""
    base = tmp_path_factory.mktemp("partial")
    train = small_featureset("train", n_per_class=16)
    rows = np.arange(train.n_clips)
    train = _blank(_blank(train, rows[rows % 2 == 0], ["video"]), rows[rows % 10 == 1], ["audio"])
    test = _blank(small_featureset("test", n_per_class=3), np.array([0, 1]), ["video"])
    return write_features(base / "f.h5", {"train": train, "test": test}), train


@pytest.mark.parametrize("fusion", FUSIONS)
def test_every_mode_trains_on_clips_that_lack_a_modality(fusion, partial, tmp_path, capsys):
    data, train = partial
    run = tmp_path / "run"
    assert main(["fit", "--features", str(data), "--split", "train", "--fusion", fusion, *CLI_PINNED[fusion],
                 "--allow-missing-modality", "--out", str(run)]) == 0
    err = capsys.readouterr().err
    import json

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["train"]["clips_per_modality"] == {"audio": 144, "video": 80}
    if fusion in ("audio", "video"):
        left = {"audio": 16, "video": 80}[fusion]
        assert f"{left} of the 160 clips" in err and "left out of its fit" in err
    else:
        assert "96 of the 160 training clips" in err and "lack a modality (audio 16, video 80)" in err
    assert 0 < manifest["scores"]["accuracy"] <= 1
    assert main(["predict", str(run), "--features", str(data), "--allow-missing-modality",
                 "--out", str(tmp_path / "p.csv")]) == 0


def test_compare_and_tune_train_on_clips_that_lack_a_modality(partial, tmp_path, capsys):
    data, _ = partial
    assert main(["compare", "--features", str(data), "--allow-missing-modality", "--n-boot", "50",
                 "--out", str(tmp_path / "cmp")]) == 0
    captured = capsys.readouterr()
    assert "96 of the 160 training clips" in captured.err and "class prior" in captured.out
    assert "NoModalityWarning" not in captured.err
    grid = tmp_path / "g.toml"
    grid.write_text('fusion = "late"\n[grid]\naudio__head__C = [0.1, 1.0]\n')
    assert main(["tune", str(grid), "--features", str(data), "--allow-missing-modality", "--cv", "2",
                 "--out", str(tmp_path / "t")]) == 0
    assert "96 of the 160 training clips" in capsys.readouterr().err


def test_a_teacher_and_its_student_train_on_clips_that_lack_a_modality(partial, tmp_path, capsys):
    """Issue 20.2 with 20.1: an early teacher and a video student, both fitted and used through the CLI on gaps."""
    import json

    data, train = partial
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    assert main(["fit", "--features", str(data), "--split", "train", "--fusion", "early", *CLI_PINNED["early"],
                 "--allow-missing-modality", "--out", str(teacher)]) == 0
    assert main(["fit", "--features", str(data), "--split", "train", "--fusion", "video", *CLI_PINNED["video"],
                 "--teacher", str(teacher), "--allow-missing-modality", "--out", str(student)]) == 0
    out = capsys.readouterr().out
    assert "distilled from" in out
    manifest = json.loads((student / "manifest.json").read_text())
    assert manifest["teacher"]["fusion"] == "early" and 0 < manifest["scores"]["accuracy"] <= 1
    predictions = tmp_path / "p.csv"
    assert main(["predict", str(student), "--features", str(data), "--allow-missing-modality",
                 "--out", str(predictions)]) == 0
    import pandas as pd

    frame = pd.read_csv(predictions, sep="\t", comment="#")
    classes = sorted(set(train.y))
    assert len(frame) == 30 and np.allclose(frame[classes].sum(axis=1), 1, atol=0.006)  # 3 decimals each
