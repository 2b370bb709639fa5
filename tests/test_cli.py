"""The main job end to end on the built-in data: demo, and fit -> predict -> evaluate without --features."""

import re

import pandas as pd
import pytest
from sklearn.metrics import classification_report

from avsc_sk.cli import main
from avsc_sk.data import SCENES


@pytest.fixture(scope="module")
def builtin_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("AVSC_SK_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def test_demo_prints_the_three_modes_on_synthetic_data(builtin_cache, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SYNTHETIC data")
    rows = {m: (float(a), float(ll)) for m, a, ll in re.findall(r"^(audio|video|early)\s+([\d.]+)\s+([\d.]+)", out, re.M)}
    assert set(rows) == {"audio", "video", "early"}
    assert rows["audio"][0] == pytest.approx(0.706, abs=0.03)
    assert rows["video"][0] == pytest.approx(0.674, abs=0.03)
    assert rows["early"][0] == pytest.approx(0.797, abs=0.03)
    assert rows["early"][1] < rows["audio"][1] < rows["video"][1]  # log loss: fusion best
    assert re.search(r"demo finished in [\d.]+ s", out)


def test_fit_predict_evaluate_on_builtin_data(builtin_cache, tmp_path, capsys):
    run, pred = tmp_path / "run", tmp_path / "prediction.csv"
    assert main(["fit", "--fusion", "early", "--out", str(run)]) == 0
    assert main(["predict", str(run), "--out", str(pred)]) == 0
    frame = pd.read_csv(pred, sep="\t")
    # SYNTHETIC is marked by a last column, after the probabilities where positional readers look
    assert list(frame.columns) == ["aid", "scene_pred", "scene_label", *SCENES, "data"] and len(frame) == 3645
    assert set(frame["data"]) == {"synthetic"}
    assert list(frame.columns[3:13]) == list(SCENES)
    capsys.readouterr()
    assert main(["evaluate", "--prediction", str(pred)]) == 0
    out = capsys.readouterr().out
    expected = classification_report(frame["scene_label"], frame["scene_pred"], labels=list(SCENES))
    banner, _, out = out.partition("\n")
    assert banner.startswith("SYNTHETIC data")
    assert out.startswith(expected)
    accuracy = float(re.search(r"^accuracy: ([\d.]+)$", out, re.M).group(1))
    assert accuracy == pytest.approx((frame["scene_label"] == frame["scene_pred"]).mean(), abs=5e-4)
    assert re.search(r"^overall log loss: [\d.]+$", out, re.M)
