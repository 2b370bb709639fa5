"""The report takes each run's kind (single-modality or fusion) from its manifest, not from its directory's name."""

import json

import pytest

from avsc_sk._config import apply_overrides, load_config
from avsc_sk.cli import _report, main
from avsc_sk.report import build_report, run_kind
from avsc_sk.runs import fit_run, save_run

from conftest import small_featureset


def _save(path, fusion, train):
    # The heads' C pinned: nothing here is about choosing it, and it keeps the fits quick.
    config = apply_overrides(load_config(), [f"fusion={json.dumps(fusion)}", "params.head__C=1.0"])
    model, manifest = fit_run(config, train)
    return save_run(path, model, manifest)


def _report_json(tmp_path, monkeypatch, test, *run_dirs):
    monkeypatch.setattr(_report, "load_split", lambda *a, **k: test)
    out = tmp_path / "report"
    assert main(["report", *map(str, run_dirs), "--out", str(out), "--n-boot", "20"]) == 0
    return json.loads((out / "report.json").read_text())


def test_a_misleadingly_named_run_directory_is_reported_by_its_manifest(tmp_path, monkeypatch, capsys):
    train, test = small_featureset("train"), small_featureset("test", n_per_class=4)
    early = _save(tmp_path / "audio-run", "early", train)       # an early-fusion run in a directory named audio
    audio = _save(tmp_path / "video-run", "audio", train)       # and the audio run in one named video
    video = _save(tmp_path / "fusion-run", "video", train)
    numbers = _report_json(tmp_path, monkeypatch, test, early, audio, video)
    assert numbers["kinds"] == {"early": "fusion", "audio": "audio", "video": "video"}
    assert numbers["conflict_runs"] == {"audio": "audio", "video": "video", "fusion": ["early"]}
    assert numbers["reference_run"] == "early"
    assert "warning" not in capsys.readouterr().err


def test_single_modality_runs_of_any_modality_name_are_not_fusion(tmp_path, monkeypatch):
    # Failed before: kinds came from names, and a run of modality "panns" was taken for a fusion run.
    names = ("panns", "clip")
    train, test = small_featureset("train", names=names), small_featureset("test", n_per_class=4, names=names)
    runs = [_save(tmp_path / "a", "clip", train), _save(tmp_path / "b", "early", train),
            _save(tmp_path / "c", "panns", train)]
    numbers = _report_json(tmp_path, monkeypatch, test, *runs)
    assert numbers["kinds"] == {"clip": "clip", "early": "fusion", "panns": "panns"}
    assert numbers["reference_run"] == "early"  # the first fusion run, not the first run


def test_an_old_manifest_without_a_fusion_mode_falls_back_on_the_name_with_one_warning(tmp_path, monkeypatch,
                                                                                        capsys):
    train, test = small_featureset("train"), small_featureset("test", n_per_class=4)
    old = _save(tmp_path / "audio-old", "audio", train)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["fusion"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    early = _save(tmp_path / "early", "early", train)
    numbers = _report_json(tmp_path, monkeypatch, test, old, early)
    assert numbers["kinds"] == {"audio-old": "audio", "early": "fusion"}
    err = [line for line in capsys.readouterr().err.splitlines() if "records no fusion mode" in line]
    assert len(err) == 1 and str(old) in err[0] and err[0].startswith("avsc-sk: warning: ")


@pytest.mark.parametrize("manifest, kind", [
    ({"fusion": "early", "modalities": [["audio", 2, 4], ["video", 2, 3]]}, "fusion"),
    ({"fusion": "video", "modalities": [["audio", 2, 4], ["video", 2, 3]]}, "video"),
    ({"fusion": "late", "modalities": [["audio", 2, 4]]}, "audio"),  # a fusion mode over one modality
    ({"fusion": "auto", "selection": {"fusion": "audio"}, "modalities": [["audio", 2, 4], ["video", 2, 3]]},
     "audio"),
    ({"fusion": "auto", "selection": {"fusion": "weighted"}, "modalities": [["audio", 2, 4], ["video", 2, 3]]},
     "fusion"),
    ({"fusion": "auto", "modalities": [["audio", 2, 4], ["video", 2, 3]]}, None),
    ({"modalities": [["audio", 2, 4]]}, None),
])
def test_run_kind_reads_the_mode_and_modalities(manifest, kind):
    assert run_kind(manifest) == kind

