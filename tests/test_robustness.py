"""report --robustness: what a missing or noisy modality costs each run (issue 20 item 3)."""

import json

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import write_features
from avsc_sk.evaluation import SHARES, SNRS_DB, exact_log_loss, robustness_table
from avsc_sk.fusion import FUSIONS, make_estimator
from avsc_sk.heads import fit_with_groups

from conftest import small_featureset
from test_no_modality import CLI_PINNED, PINNED


@pytest.fixture(scope="module")
def sets():
    return small_featureset("train", n_per_class=16), small_featureset("test", n_per_class=4)


def _fit(fusion, train):
    est = make_estimator(fusion, train).set_params(**PINNED[fusion])
    return fit_with_groups(est, train.X, train.y, train.groups)


def _row(table, perturbation, modality, level):
    hit = table[(table["perturbation"] == perturbation) & (table["modality"] == modality)
                & np.isclose(table["level"], level)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_unperturbed_rows_are_the_plain_scores_and_noise_costs(sets):
    train, test = sets
    model = _fit("early", train)
    table = robustness_table(model, test)
    assert len(table) == 2 * (len(SHARES) + len(SNRS_DB))
    P = model.predict_proba(test.X)
    for modality in ("audio", "video"):
        plain = _row(table, "missing", modality, 0.0)
        assert plain["log_loss"] == pytest.approx(exact_log_loss(test.y, P, classes=list(model.classes_)), abs=1e-12)
        assert plain["accuracy"] == pytest.approx(np.mean(model.classes_[P.argmax(1)] == test.y))
        # Noise as strong as the features costs more than faint noise.
        assert _row(table, "noise", modality, 0.0)["log_loss"] > _row(table, "noise", modality, 20.0)["log_loss"]
    assert robustness_table(model, test).equals(table)  # seeded


def test_a_fused_model_without_a_modality_scores_as_its_single_modality_part(sets):
    train, test = sets
    early = _fit("early", train)
    table = robustness_table(early, test, shares=(1.0,), snrs_db=())
    # Early fusion without video is its audio pipeline (the early head's C), exactly.
    P = early.fallbacks_["audio"].predict_proba(test.X)
    assert _row(table, "missing", "video", 1.0)["log_loss"] == pytest.approx(
        exact_log_loss(test.y, P, classes=list(early.classes_)), abs=1e-12)
    # Weighted fusion without video ranks the scenes as its audio member does.
    weighted = _fit("weighted", train)
    audio = weighted.estimators_[0].predict_proba(weighted.pooler_.transform(test.X)[:, weighted.blocks_[0]])
    assert _row(robustness_table(weighted, test, shares=(1.0,), snrs_db=()), "missing", "video", 1.0)[
        "accuracy"] == pytest.approx(np.mean(weighted.classes_[audio.argmax(1)] == test.y))
    # An audio-only model without audio says the class prior for every clip.
    audio_only = _fit("audio", train)
    row = _row(robustness_table(audio_only, test, shares=(1.0,), snrs_db=()), "missing", "audio", 1.0)
    prior = np.tile(audio_only.class_prior_, (test.n_clips, 1))
    assert row["log_loss"] == pytest.approx(exact_log_loss(test.y, prior, classes=list(audio_only.classes_)))


def test_report_robustness_for_every_fusion_mode(sets, tmp_path, capsys):
    train, test = sets
    data = write_features(tmp_path / "f.h5", {"train": train, "test": test})
    runs = []
    for fusion in FUSIONS:
        run = tmp_path / fusion
        assert main(["fit", "--features", str(data), "--split", "train", "--fusion", fusion, *CLI_PINNED[fusion],
                     "--out", str(run)]) == 0
        runs.append(str(run))
    out = tmp_path / "rep"
    assert main(["report", *runs, "--features", str(data), "--robustness", "--n-boot", "20", "--out", str(out)]) == 0
    capsys.readouterr()
    table = pd.read_csv(out / "robustness.csv")
    assert sorted(table["run"].unique()) == sorted(FUSIONS)
    assert len(table) == len(FUSIONS) * 2 * (len(SHARES) + len(SNRS_DB))
    assert set(json.loads((out / "report.json").read_text())["robustness"]) == set(FUSIONS)
    assert (out / "robustness.png").exists() and "Robustness" in (out / "report.html").read_text()
