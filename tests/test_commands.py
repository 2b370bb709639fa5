"""Regression tests of issue 10: what a new user hit at fit, predict, evaluate, compare and report."""

import re
from pathlib import Path

import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import SCENES, write_features

from conftest import small_featureset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """A native file with a train, val and test split of a few clips per scene."""
    base = tmp_path_factory.mktemp("commands")
    sets = {"train": small_featureset("train", n_per_class=4), "val": small_featureset("val", n_per_class=2),
            "test": small_featureset("test", n_per_class=3)}
    return write_features(base / "features.h5", sets)


def _prediction(path, extra=None):
    head = ["aid", "scene_pred", "scene_label", *SCENES, *(extra or {})]
    row = ["bus-lyon-1100-40123", "bus", "bus", *(["0.100"] * 10), *(extra or {}).values()]
    path.write_text("\t".join(head) + "\n" + "\t".join(row) + "\n")
    return path


def _error(capsys):
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("avsc-sk: error: "), err
    return lines[0]


# -- 8: accurate messages for a file that is not a prediction or label file ----------------------
def test_evaluate_names_a_file_that_is_no_prediction(capsys):
    assert main(["evaluate", "--prediction", str(ROOT / "README.md")]) == 2
    line = _error(capsys)
    assert "README.md is not a prediction file" in line and "aid scene_pred" in line
    assert "empty" not in line


def test_evaluate_names_a_directory_given_as_labels(tmp_path, capsys):
    pred = _prediction(tmp_path / "pred.csv")
    assert main(["evaluate", "--prediction", str(pred), "--label", str(ROOT / "pipelines")]) == 2
    line = _error(capsys)
    assert "pipelines is a directory" in line and "label file" in line
    assert "disk space" not in line
