import json

import numpy as np
import pytest

from training import artifacts
from training.errors import ModelError, ModelNotFound
from training.model import files as model_files
from training.model.scorer import LeanScorer


@pytest.fixture()
def store(tmp_path, tiny_model):
    pipe, info = tiny_model
    root = tmp_path / "models"
    first = artifacts.save_model(pipe, {"thresholds": info["thresholds"]}, root, "v1", extra_files={"training.csv": b"text,labels\n"})
    artifacts.set_active(root, first.name)
    return root


def test_saved_version_is_format_2_data_with_a_checksum_per_file(store):
    meta = artifacts.read_meta(store, "v1")
    assert meta["format"] == 2
    on_disk = sorted(p.name for p in (store / "v1").iterdir())
    assert on_disk == ["model.json", "model.npz", "scorer.json", "training.csv"]
    assert set(meta["files"]) == set(on_disk) - {"model.json"}
    for name, entry in meta["files"].items():
        assert entry["sha256"] == artifacts.sha256_file(store / "v1" / name)
        assert entry["bytes"] == (store / "v1" / name).stat().st_size
    assert meta["libraries"]["numpy"] and meta["created"] and meta["version"] == "v1"
    # Every member of the .npz is a plain numeric array: numpy reads it with pickling disabled.
    with np.load(store / "v1" / "model.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype.kind in "iuf" for name in npz.files)
    scorer, loaded = artifacts.load_model(store, "v1")
    assert isinstance(scorer, LeanScorer) and loaded["version"] == "v1"
    assert scorer.predict_proba(["法院宣判"]).shape == (1, 4)


def test_failure_mid_write_leaves_previous_versions_untouched(store, tiny_model, monkeypatch):
    before = sorted(p.name for p in store.iterdir())
    snapshot = (store / "v1" / "model.npz").read_bytes()

    def explode(path, arrays):
        open(path, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "write_npz", explode)
    with pytest.raises(OSError, match="disk full"):
        artifacts.save_model(tiny_model[0], {}, store, "v2")
    assert sorted(p.name for p in store.iterdir()) == before
    assert (store / "v1" / "model.npz").read_bytes() == snapshot
    assert artifacts.read_active(store)["active"] == "v1"


def test_existing_version_is_never_overwritten(store, tiny_model):
    with pytest.raises(ModelError, match="already exists"):
        artifacts.save_model(tiny_model[0], {}, store, "v1")


@pytest.mark.parametrize("name", ["model.npz", "scorer.json", "training.csv"])
def test_a_tampered_file_of_any_kind_is_refused(store, name):
    path = store / "v1" / name
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="checksum does not match"):
        artifacts.load_model(store, "v1")


def test_format_number_not_library_versions_decides(store):
    meta_path = store / "v1" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["libraries"] = {"numpy": "1.0.0", "scikit-learn": "0.24.2"}  # recorded for information only
    meta_path.write_text(json.dumps(meta))
    artifacts.load_model(store, "v1")
    meta["format"] = 3
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format 3.*reads format 2"):
        artifacts.load_model(store, "v1")


def test_an_old_pickle_version_is_refused_with_the_migrate_command(store):
    (store / "old").mkdir()
    (store / "old" / "model.joblib").write_bytes(b"\x80\x04\x95")
    (store / "old" / "model.json").write_text(json.dumps({"file": {"name": "model.joblib", "sha256": "x"}}))
    with pytest.raises(ModelError, match="old pickle format.*legal-tagger models migrate"):
        artifacts.load_model(store, "old")


def test_object_arrays_are_never_written():
    with pytest.raises(ValueError, match="cannot be stored"):
        model_files.write_npz("/dev/null", {"x": np.array([object()], dtype=object)})


def test_a_model_npz_holding_a_pickle_is_refused(store):
    # An attacker who could also rewrite model.json's checksum still cannot make us unpickle.
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, archive.open("classifier.coef.npy", "w") as member:
        np.lib.format.write_array(member, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path = store / "v1" / "model.npz"
    path.write_bytes(buffer.getvalue())
    meta_path = store / "v1" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["files"]["model.npz"]["sha256"] = artifacts.sha256_file(path)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="unreadable model file"):
        artifacts.load_model(store, "v1")


@pytest.mark.parametrize("name", ["../etc", "a/b", ".hidden", "", "x" * 80])
def test_version_names_cannot_escape_the_store(store, name):
    with pytest.raises(ModelNotFound):
        artifacts.read_meta(store, name)


def test_activation_keeps_history_for_rollback(store, tiny_model):
    artifacts.save_model(tiny_model[0], {}, store, "v2")
    state = artifacts.set_active(store, "v2")
    assert state == {"active": "v2", "history": ["v1"]}
    assert artifacts.active_version(store) == "v2"


def test_activating_a_corrupt_version_changes_nothing(store, tiny_model):
    artifacts.save_model(tiny_model[0], {}, store, "v2")
    (store / "v2" / "model.npz").write_bytes(b"junk")
    with pytest.raises(ModelError):
        artifacts.set_active(store, "v2")
    assert artifacts.read_active(store)["active"] == "v1"


def _rewrite(store, arrays=None, spec=None):
    """Replace a version's arrays or spec and fix its checksums, as someone who can write model.json could."""
    folder = store / "v1"
    if arrays is not None:
        model_files.write_npz(folder / "model.npz", arrays)
    if spec is not None:
        (folder / "scorer.json").write_text(json.dumps(spec))
    meta = json.loads((folder / "model.json").read_text())
    for name in meta["files"]:
        meta["files"][name]["sha256"] = artifacts.sha256_file(folder / name)
    (folder / "model.json").write_text(json.dumps(meta))


MALFORMED = {
    "no_coef": lambda a, s: a.pop("classifier.coef"),
    "coef_shape": lambda a, s: a.__setitem__("classifier.coef", a["classifier.coef"][:, :10]),
    "coef_ints": lambda a, s: a.__setitem__("classifier.coef", a["classifier.coef"].astype(np.int64)),
    "offsets_order": lambda a, s: a.__setitem__("words.offsets", a["words.offsets"][::-1].copy()),
    "code_range": lambda a, s: a.__setitem__("chars.codes", a["chars.codes"] | np.uint32(0x200000)),
    "format": lambda a, s: s.__setitem__("format", 1),
    "tokenizer": lambda a, s: s["blocks"][0].__setitem__("tokenizer", "os.system"),
    "cue_regex": lambda a, s: s["blocks"][2]["term_patterns"].__setitem__(0, "(unclosed"),
    "block_kind": lambda a, s: s["blocks"][1].__setitem__("kind", "pickle"),
    "labels": lambda a, s: s.__setitem__("labels", ["one"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_arrays_or_spec_are_a_model_error_not_a_crash(store, case):
    with np.load(store / "v1" / "model.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    spec = json.loads((store / "v1" / "scorer.json").read_text())
    MALFORMED[case](arrays, spec)
    _rewrite(store, arrays, spec)
    with pytest.raises(ModelError, match="retrain or restore"):
        artifacts.load_model(store, "v1")
