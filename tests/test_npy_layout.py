"""The plain-array layout (.npy folder + clips.csv, or one .npz) and ``avsc-sk info``."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avsc_sk.cli import main
from avsc_sk.data import (
    SCENES,
    convert_features,
    detect_layout,
    list_splits,
    read_features,
    summarize_features,
    write_features,
)
from avsc_sk.errors import DataError, SplitWarning

N = 40
SPLIT_OF = np.array(["train", "tt", "train", "val"] * (N // 4), dtype=object)  # interleaved, with an alias


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"audio": rng.normal(size=(N, 6, 5)).astype(np.float64),  # float64, 6 frames of 5
            "video": rng.normal(size=(N, 3)).astype(np.float16)}      # one float16 vector a clip


def _table(**columns):
    ids = [hashlib.sha1(str(i).encode()).hexdigest()[:10] for i in range(N)]
    base = {"clip_id": ids, "label": [SCENES[i % 3] for i in range(N)], "group": [f"g{i // 4}" for i in range(N)],
            "split": SPLIT_OF}
    base.update(columns)
    return pd.DataFrame({k: v for k, v in base.items() if v is not None})


def _folder(path, arrays=None, table=None, sep=","):
    path.mkdir()
    for name, arr in (arrays or _arrays()).items():
        np.save(path / f"{name}.npy", arr)
    (table if table is not None else _table()).to_csv(path / "clips.csv", sep=sep, index=False)
    return path


def _npz(path, arrays=None, table=None, compressed=False):
    table = table if table is not None else _table()
    save = np.savez_compressed if compressed else np.savez
    save(path, **(arrays or _arrays()), **{c: np.asarray(table[c], dtype=str) for c in table.columns})
    return path


def _rows(split):
    return np.flatnonzero(SPLIT_OF == {"test": "tt"}.get(split, split))


# -- reading -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sep", [",", "\t"])
def test_folder_reads_the_arrays_rows_of_the_split_in_table_order(tmp_path, sep):
    arrays, table = _arrays(), _table()
    path = _folder(tmp_path / "emb", arrays, table, sep=sep)
    assert detect_layout(path) == "npy"
    assert list_splits(path) == ["train", "val", "test"]
    fs = read_features(path, "train")
    rows = _rows("train")
    assert fs.modalities == (("audio", 6, 5), ("video", 1, 3))
    assert fs.X.dtype == np.float32 and fs.X.flags.c_contiguous
    np.testing.assert_array_equal(fs.frames("audio"), arrays["audio"][rows].astype(np.float32))
    np.testing.assert_array_equal(fs.frames("video")[:, 0], arrays["video"][rows].astype(np.float32))
    assert fs.clip_ids.tolist() == table.clip_id[rows].tolist()
    assert fs.y.tolist() == table.label[rows].tolist()
    assert fs.location.tolist() == fs.city.tolist() == table.group[rows].tolist()
    assert fs.split == "train" and fs.source == str(path) and not fs.synthetic


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_reads_the_same_as_the_folder_even_in_tiny_pieces(tmp_path, monkeypatch, compressed):
    import avsc_sk.data._features as features
    import avsc_sk.data._npy as npy

    folder, npz = _folder(tmp_path / "emb"), _npz(tmp_path / "emb.npz", compressed=compressed)
    assert detect_layout(npz) == "npy" and list_splits(npz) == ["train", "val", "test"]
    want = read_features(folder, "test+train")
    monkeypatch.setattr(npy, "_PIECE_BYTES", 7 * 8)  # fewer bytes than one audio row: one row a piece
    monkeypatch.setattr(features, "_CHUNK_CELLS", 3 * 33)  # chunks of 3 clips
    got = read_features(npz, "test+train")
    np.testing.assert_array_equal(got.X, want.X)
    assert got.clip_ids.tolist() == want.clip_ids.tolist() and got.y.tolist() == want.y.tolist()


def test_pooled_while_reading_equals_pooling_the_frames(tmp_path, monkeypatch):
    import avsc_sk.data._features as features

    path = _folder(tmp_path / "emb")
    monkeypatch.setattr(features, "_CHUNK_CELLS", 4 * 33)
    stats = ("mean", "std", "q0.5")
    pooled = read_features(path, "train+val", stats=stats, max_frames=4)
    frames = read_features(path, "train+val", max_frames=4)
    assert pooled.stats == stats and pooled.modalities == (("audio", 4, 5), ("video", 1, 3))
    np.testing.assert_allclose(pooled.X, frames.pool(stats).X, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(frames.frames("audio"),
                                  _arrays()["audio"][np.concatenate([_rows("train"), _rows("val")]), :4]
                                  .astype(np.float32))


def test_clip_ids_of_any_form_stay_text(tmp_path):
    ids = [f"{i:03d}" for i in range(N)]  # numbers with leading zeros
    fs = read_features(_folder(tmp_path / "emb", table=_table(clip_id=ids)), "val")
    assert fs.clip_ids.tolist() == [ids[i] for i in _rows("val")]


def test_groups_fall_back_to_city_then_to_each_clip_with_one_warning(tmp_path):
    city = [f"c{i % 5}" for i in range(N)]
    fs = read_features(_folder(tmp_path / "a", table=_table(group=None, city=city)), "train")
    assert fs.location.tolist() == fs.city.tolist() == [city[i] for i in _rows("train")]

    path = _folder(tmp_path / "b", table=_table(group=None))
    with pytest.warns(SplitWarning, match="no group or city column, so each clip is its own") as record:
        fs = read_features(path, "train")
    assert len(record) == 1
    assert fs.location.tolist() == fs.clip_ids.tolist()


def test_without_a_split_column_every_clip_is_train(tmp_path):
    path = _folder(tmp_path / "emb", table=_table(split=None))
    assert list_splits(path) == ["train"]
    assert read_features(path, "train").n_clips == N
    with pytest.raises(DataError, match=r"no 'test' split .*no split column .*every clip is in train.*available: "
                                        r"train"):
        read_features(path, "test")


def test_an_empty_label_column_reads_unlabelled(tmp_path):
    fs = read_features(_folder(tmp_path / "emb", table=_table(label=[""] * N)), "train")
    assert fs.y is None


def test_modalities_can_be_selected_and_ordered(tmp_path):
    fs = read_features(_folder(tmp_path / "emb"), "val", modalities=["video", "audio"])
    assert fs.modality_names == ("video", "audio")


def test_labels_of_any_form(tmp_path):
    labels = ["cat", "dog", "eel", "fox"] * (N // 4)
    fs = read_features(_folder(tmp_path / "emb", table=_table(label=labels)), "train")
    assert fs.y.tolist() == [labels[i] for i in _rows("train")]


def test_convert_writes_the_same_clips_to_native(tmp_path):
    src = _npz(tmp_path / "emb.npz")
    result = convert_features(src, tmp_path / "out.h5")
    assert result.splits == {"train": 20, "val": 10, "test": 10}
    for split in ("train", "val", "test"):
        a, b = read_features(src, split), read_features(result.path, split)
        np.testing.assert_array_equal(a.X, b.X)
        for attr in ("clip_ids", "y", "city", "location"):
            assert getattr(a, attr).tolist() == getattr(b, attr).tolist()


# -- bad input: one DataError naming the file and the fix -------------------------------------------------

def _nan_arrays():
    arrays = _arrays()
    arrays["audio"][5, 2, 1] = np.nan
    return arrays


def _dup_table():
    ids = _table().clip_id.tolist()
    ids[7] = ids[3]
    return _table(clip_id=ids)


@pytest.mark.parametrize("make, pattern", [
    (lambda p: _folder(p, arrays={**_arrays(), "video": np.zeros((N - 1, 3))}),
     r"video\.npy: modality 'video' has 39 rows but the clip table lists 40 clips; save one row per clip"),
    (lambda p: _folder(p, arrays=_nan_arrays()),
     r"NaN or inf in the audio embeddings of clip '\w+' in .*audio\.npy; re-extract that clip"),
    (lambda p: _folder(p, table=_dup_table()),
     r"clip id '\w+' appears twice in .*clips\.csv \(.*clips\.csv line 5 and .*line 9\); each clip must appear once"),
    (lambda p: (_folder(p), (p / "clips.csv").unlink()),
     r"has \.npy files but no clips\.csv; write .*clips\.csv with a clip_id column"),
    (lambda p: _folder(p, arrays={**_arrays(), "video": np.zeros((N, 3), dtype=np.int64)}),
     r"modality 'video' holds int64, not floats; save it as float32"),
    (lambda p: _folder(p, table=_table(split=["train", "holdout"] * (N // 2))),
     r"clips\.csv line 3: split 'holdout' is not train, val or test"),
    (lambda p: _folder(p, table=_table(label=["bus", ""] * (N // 2))),
     r"clips\.csv labels only some clips \(20 without a label, e.g. .*line 3\); label every clip or none"),
    (lambda p: _folder(p, arrays={**_arrays(), "audio": np.asfortranarray(_arrays()["audio"])}),
     r"audio\.npy is stored in Fortran order \(e\.g\. saved transposed\); save it C-ordered"),
    (lambda p: (_folder(p, table=_dup_table()), (p / "clips.csv").write_text(
        (p / "clips.csv").read_text().replace("\n", "\n\n", 2))),  # blank lines 2 and 4 do not shift the count
     r"appears twice in .*\(.*clips\.csv line 7 and .*line 11\)"),
    (lambda p: _folder(p, table=_table().rename(columns={"clip_id": "name"})),
     r"clips\.csv has no clip_id column \(header: name, label, group, split\)"),
    (lambda p: _npz(p.with_suffix(".npz"), table=_table(), arrays={**_arrays(), "audio": np.zeros((N, 2, 2, 2))}),
     r"modality 'audio' has shape \(40, 2, 2, 2\); expected \(clips, dim\) or \(clips, frames, dim\)"),
])
def test_bad_input_is_one_data_error_naming_the_file_and_the_fix(tmp_path, make, pattern):
    make(tmp_path / "emb")
    path = tmp_path / "emb.npz" if (tmp_path / "emb.npz").exists() else tmp_path / "emb"
    with pytest.raises(DataError, match=pattern):
        read_features(path, "train+val+test")


def _damage(path):
    data = bytearray(path.read_bytes())
    start = data.index(b"audio.npy") + 160  # the start of the compressed audio member: its .npy header
    data[start:start + 64] = bytes(b ^ 0xFF for b in data[start:start + 64])
    path.write_bytes(bytes(data))


def test_damaged_or_misnamed_files_are_one_data_error(tmp_path):
    npz = _npz(tmp_path / "emb.npz", compressed=True)
    _damage(npz)
    with pytest.raises(DataError, match=r"emb\.npz: array 'audio' is not a readable \.npy array .*save it again "
                                        r"with np\.savez"):
        read_features(npz, "train")
    (tmp_path / "zip.npz").write_bytes(b"not a zip file")
    for read in (list_splits, read_features):
        with pytest.raises(DataError, match=r"zip\.npz is not a readable \.npz file .*save it with np\.savez"):
            read(tmp_path / "zip.npz")
    folder = _folder(tmp_path / "emb")
    with pytest.raises(DataError, match=r"audio\.npy is one array; pass the folder holding it"):
        read_features(folder / "audio.npy", "train")
    (folder / "clips.csv").write_bytes("clip_id\nna\xefve\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"clips\.csv is not UTF-8 text .*save it as UTF-8"):
        read_features(folder, "train")
    other = _folder(tmp_path / "other")
    whole = (other / "audio.npy").read_bytes()
    (other / "audio.npy").write_bytes(whole[:-8])
    with pytest.raises(DataError, match=r"audio\.npy ends early \(the file is truncated\); save it again"):
        read_features(other, "train")
    (other / "audio.npy").write_bytes(whole)
    (other / "video.npy").write_bytes(b"")
    with pytest.raises(DataError, match=r"video\.npy is not a readable \.npy array"):
        read_features(other, "train")


def test_an_npz_without_clip_ids_or_with_object_arrays_says_how_to_save_it(tmp_path):
    np.savez(tmp_path / "a.npz", audio=np.zeros((3, 4)))
    with pytest.raises(DataError, match=r"a\.npz holds no clip_id array; save the clip ids in it too"):
        read_features(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", audio=np.zeros((3, 4)), clip_id=np.array(["x", 1, None], dtype=object))
    with pytest.raises(DataError, match=r"array 'clip_id' holds Python objects; save it as text"):
        read_features(tmp_path / "b.npz")


# -- the summary behind avsc-sk info ------------------------------------------------------------------------

@pytest.fixture
def no_frame_reads(monkeypatch):
    """Make reading any frame of any layout fail: a summary must not need one."""
    from avsc_sk.data import _native, _npy, _perclip

    def refuse(*args, **kwargs):
        raise AssertionError("a frame was read")

    for plan in (_native._NativePlan, _perclip._PerClipPlan, _npy._NpyPlan):
        monkeypatch.setattr(plan, "read_block", refuse)


def test_summary_counts_clips_and_groups_per_class_and_split_without_reading_frames(tmp_path, no_frame_reads):
    labels = [SCENES[-1] if SPLIT_OF[i] == "tt" else SCENES[i % 3] for i in range(N)]  # tram only in test
    table = _table(label=labels)
    summary = summarize_features(_folder(tmp_path / "emb", table=table), max_frames=4)
    assert summary.layout == "npy" and not summary.synthetic
    assert list(summary.splits) == ["train", "val", "test"]
    assert summary.splits["train"].modalities == (("audio", 4, 5), ("video", 1, 3))
    table["split"] = table.split.replace({"tt": "test"})
    for split, rows in table.groupby("split"):
        assert summary.splits[split].n_clips == len(rows)
        assert summary.splits[split].n_groups == rows.group.nunique()
        want = rows.groupby("label").agg(clips=("group", "size"), groups=("group", "nunique"))
        got = summary.classes[split].loc[want.index]
        assert got.clips.tolist() == want.clips.tolist() and got.groups.tolist() == want.groups.tolist()
    assert summary.classes.index.tolist() == sorted(set(table.label))
    assert summary.classes.loc[SCENES[-1]].tolist() == [0, 0, 0, 0, 10, 10]  # train, val: none; test: 10 / 10


@pytest.mark.parametrize("layout", ["native", "A", "B"])
def test_summary_of_the_hdf5_layouts_reads_no_frame(tmp_path, layout, no_frame_reads):
    from conftest import small_featureset

    sets = {"train": small_featureset("train", n_per_class=3), "test": small_featureset("test", n_per_class=2)}
    path = write_features(tmp_path / "f", sets, layout=layout)
    summary = summarize_features(path)
    assert summary.layout == layout
    for split, fs in sets.items():
        assert summary.splits[split].n_clips == fs.n_clips
        assert summary.splits[split].modalities == fs.modalities
        counts = pd.Series(fs.y).value_counts()
        assert summary.classes[(split, "clips")].loc[counts.index].tolist() == counts.tolist()
        groups = pd.DataFrame({"y": fs.y, "g": fs.location}).groupby("y").g.nunique()
        assert summary.classes[(split, "groups")].loc[groups.index].tolist() == groups.tolist()


# -- the command line ---------------------------------------------------------------------------------------

def test_info_prints_layout_splits_modalities_and_the_class_table(tmp_path, capsys):
    path = _folder(tmp_path / "emb")
    assert main(["info", str(path), "--max-frames", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"features: {path} (layout npy)"
    assert "synthetic: no" in out and "modalities: audio 6x5, video 1x3" in out
    assert "split train: 20 clips, 10 groups, labelled" in out
    assert "split test: 10 clips, 10 groups, labelled" in out
    header = next(i for i, line in enumerate(out) if line.split() == ["class", "train", "val", "test"])
    rows = {line.split()[0]: line.split()[1:] for line in out[header + 1:]}
    # bus is class 1 (rows i % 3 == 1) and row i is in group i // 4: in train (i % 4 in 0, 2) rows 4, 10, 16, 22,
    # 28, 34; in val (i % 4 == 3) rows 7, 19, 31; in test (i % 4 == 1) rows 1, 13, 25, 37
    assert rows["bus"] == ["6", "/", "6", "3", "/", "3", "4", "/", "4"]


def test_info_on_synthetic_native_data_says_synthetic(tmp_path, capsys):
    out = tmp_path / "syn.h5"
    assert main(["synth", "--out", str(out), "--clips", "60", "--frames", "2", "--dim", "3"]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("SYNTHETIC") and "synthetic: yes" in lines
    assert "modalities: audio 2x3, video 2x3" in lines and f"features: {out} (layout native)" in lines
    assert sum(re.fullmatch(r"  \w+( +\d+ / \d+){3}", line) is not None for line in lines) == len(SCENES)


@pytest.mark.parametrize("form", ["folder", "npz"])
def test_fit_predict_and_convert_on_plain_arrays_with_hashed_clip_ids(tmp_path, capsys, form):
    from conftest import small_featureset

    train, test = small_featureset("train", n_per_class=6), small_featureset("test", n_per_class=3)
    arrays = {m: np.concatenate([train.frames(m), test.frames(m)]).astype(np.float64) for m in train.modality_names}
    table = pd.DataFrame({"clip_id": [hashlib.md5(c.encode()).hexdigest() for c in [*train.clip_ids, *test.clip_ids]],
                          "label": [*train.y, *test.y], "group": [*train.location, *test.location],
                          "split": ["train"] * train.n_clips + ["test"] * test.n_clips})
    path = _folder(tmp_path / "emb", arrays, table) if form == "folder" else _npz(tmp_path / "emb.npz", arrays, table)
    run = tmp_path / "run"
    assert main(["fit", "--features", str(path), "--split", "train", "--out", str(run)]) == 0
    assert main(["predict", str(run), "--features", str(path), "--split", "test",
                 "--out", str(tmp_path / "pred.csv")]) == 0
    pred = pd.read_csv(tmp_path / "pred.csv", sep="\t")
    assert pred.aid.tolist() == table.clip_id[train.n_clips:].tolist()
    assert pred.scene_label.tolist() == list(test.y)
    assert main(["convert", str(path), "--out", str(tmp_path / "native.h5")]) == 0
    assert "wrote" in capsys.readouterr().out
    back = read_features(tmp_path / "native.h5", "test", max_frames=None)
    np.testing.assert_array_equal(back.X, test.X)
    assert back.clip_ids.tolist() == pred.aid.tolist()


_BAD = {
    "rows": r"video\.npy: modality 'video' has 39 rows but the clip table lists 40 clips; save one row per clip",
    "nan": r"NaN or inf in the audio embeddings of clip '\w+' in .*audio\.npy; re-extract that clip",
    "csv": r"has \.npy files but no clips\.csv; write .*clips\.csv with a clip_id column",
    "dup": r"clip id '\w+' appears twice in .*clips\.csv .*; each clip must appear once",
}


@pytest.mark.parametrize("command, case", [(c, k) for c in ("info", "fit", "convert") for k in _BAD
                                           if (c, k) != ("info", "nan")])  # info reads no values
def test_bad_plain_arrays_are_one_error_line(tmp_path, capsys, command, case):
    pattern = _BAD[case]
    path = {"rows": lambda p: _folder(p, arrays={**_arrays(), "video": np.zeros((N - 1, 3))}),
            "nan": lambda p: _folder(p, arrays=_nan_arrays()),
            "csv": lambda p: (_folder(p), (p / "clips.csv").unlink()),
            "dup": lambda p: _folder(p, table=_dup_table())}[case](tmp_path / "emb")
    path = tmp_path / "emb"
    argv = {"info": ["info", str(path)],
            "fit": ["fit", "--features", str(path), "--split", "train+test", "--out", str(tmp_path / "run")],
            "convert": ["convert", str(path), "--out", str(tmp_path / "out.h5")]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("avsc-sk: error: ")
    assert re.search(pattern, err[0])
    assert not (tmp_path / "run").exists() and not (tmp_path / "out.h5").exists()


def test_the_readme_example_saves_arrays_that_fit_reads(tmp_path, monkeypatch, capsys):
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("Embeddings from any other extractor"):]
    code = section[section.index("```python") + len("```python"):]
    code = code[:code.index("```")]
    shell = section[section.index("```bash") + len("```bash"):]
    shell = shell[:shell.index("```")]
    rng = np.random.default_rng(0)
    n = 60
    labels = [["cat", "dog", "eel"][i % 3] for i in range(n)]
    monkeypatch.chdir(tmp_path)
    exec(code, {"audio_emb": rng.normal(size=(n, 4, 8)) + np.arange(n)[:, None, None] % 3,
                "video_emb": rng.normal(size=(n, 6)).astype(np.float32), "ids": [f"clip{i}" for i in range(n)],
                "labels": labels, "locations": [f"loc{i // 3}" for i in range(n)],
                "splits": ["train"] * 45 + ["test"] * 15})
    for line in shell.strip().splitlines():
        argv = line.split("#")[0].split()
        assert argv[0] == "avsc-sk"
        assert main(argv[1:]) == 0
    out = capsys.readouterr().out
    assert "layout npy" in out and "modalities: audio 4x8, video 1x6" in out
    assert (tmp_path / "runs" / "my-early" / "manifest.json").exists()


def test_info_on_unlabelled_clips_says_so_and_warns_once_about_groups(tmp_path, capsys):
    path = _npz(tmp_path / "emb.npz", table=_table(label=None, group=None))
    assert main(["info", str(path)]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert "split val: 10 clips, 10 groups, unlabelled" in out
    assert out[-1] == "classes: none (no split is labelled)"
    warning = [line for line in captured.err.splitlines() if line.startswith("avsc-sk: warning: ")]
    assert len(warning) == 1 and "no group or city column, so each clip is its own" in warning[0]
