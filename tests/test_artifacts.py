import json

import joblib
import pytest

from training import artifacts
from training.errors import ModelError, ModelNotFound


@pytest.fixture()
def store(tmp_path, tiny_model):
    pipe, info = tiny_model
    root = tmp_path / "models"
    first = artifacts.save_model(pipe, {"thresholds": info["thresholds"]}, root, "v1")
    artifacts.set_active(root, first.name)
    return root


def test_saved_version_has_checksum_and_library_versions(store):
    meta = artifacts.read_meta(store, "v1")
    assert meta["file"]["sha256"] == artifacts.sha256_file(store / "v1" / "model.joblib")
    assert meta["libraries"]["scikit-learn"]
    pipe, loaded = artifacts.load_model(store, "v1")
    assert loaded["version"] == "v1"
    assert pipe.predict(["法院宣判"]).shape == (1, 4)


def test_failure_mid_write_leaves_previous_versions_untouched(store, tiny_model, monkeypatch):
    before = sorted(p.name for p in store.iterdir())
    snapshot = (store / "v1" / "model.joblib").read_bytes()

    def explode(obj, path, **kwargs):
        open(path, "wb").write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", explode)
    with pytest.raises(OSError, match="disk full"):
        artifacts.save_model(tiny_model[0], {}, store, "v2")
    assert sorted(p.name for p in store.iterdir()) == before
    assert (store / "v1" / "model.joblib").read_bytes() == snapshot
    assert artifacts.read_active(store)["active"] == "v1"


def test_existing_version_is_never_overwritten(store, tiny_model):
    with pytest.raises(ModelError, match="already exists"):
        artifacts.save_model(tiny_model[0], {}, store, "v1")


def test_tampered_model_file_is_refused(store):
    path = store / "v1" / "model.joblib"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="checksum does not match"):
        artifacts.load_model(store, "v1")


def test_library_version_mismatch_is_refused(store):
    meta_path = store / "v1" / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"built with scikit-learn 0\.24\.2 .* retrain"):
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
    (store / "v2" / "model.joblib").write_bytes(b"junk")
    with pytest.raises(ModelError):
        artifacts.set_active(store, "v2")
    assert artifacts.read_active(store)["active"] == "v1"
