"""Files on disk are untrusted: a corrupt pointer or version directory never stops the service (issue 12, section 4)."""

from __future__ import annotations

import json
import logging
import os
import shutil

import pytest

from training import artifacts
from training.cli import main
from training.config import Settings


@pytest.fixture()
def store(tmp_path, tiny_model):
    """Two good versions: tiny-2 active, tiny-1 the previous one."""
    root = tmp_path / "models"
    pipe, info = tiny_model
    for name, created in (("tiny-1", "2026-01-01"), ("tiny-2", "2026-01-02")):
        artifacts.save_model(pipe, {"thresholds": info["thresholds"]}, root, name, created=f"{created}T00:00:00+00:00")
    artifacts.set_active(root, "tiny-1")
    artifacts.set_active(root, "tiny-2")
    return root


def _client(store, tmp_path):
    from service import create_app

    settings = Settings(models_dir=store, data_dir=tmp_path / "var", max_batch=8, max_text_chars=5000, max_body_bytes=64 * 1024)
    return create_app({"TESTING": True, "TAGGER": settings}).test_client()


POINTERS = {"empty": "", "truncated": '{"active": "tiny-', "list": "[]", "history_5": '{"active": "tiny-2", "history": 5}',
            "active_path": '{"active": "../tiny-2", "history": []}'}


@pytest.mark.parametrize("case", sorted(POINTERS))
def test_a_corrupt_pointer_serves_the_newest_good_version_and_says_so(store, tmp_path, case, caplog):
    (store / "active.json").write_text(POINTERS[case])
    with caplog.at_level(logging.ERROR, logger="service.registry"):
        client = _client(store, tmp_path)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["model"] == "tiny-2"
    assert "active.json" in ready.get_json()["skipped"]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    models = client.get("/models")
    assert models.status_code == 200 and "activate" in models.get_json()["skipped"]["active.json"]
    assert client.post("/classify", json={"text": "法院开庭审理"}).get_json()["model"] == "tiny-2"


def _not_utf8(store):
    (store / "tiny-2" / "model.json").write_bytes(b"\xff\xfe{\x00")


def _not_object(store):
    (store / "tiny-2" / "model.json").write_text("[1, 2]")


def _byte_flipped(store):
    path = store / "tiny-2" / "model.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _symlinked(store):
    shutil.move(store / "tiny-2", store.parent / "elsewhere")
    os.symlink(store.parent / "elsewhere", store / "tiny-2")


def _stray_dir(store):
    (store / "tiny-2" / "model.json").unlink()
    (store / "notes").mkdir()


VERSION_FAULTS = {"not_utf8": (_not_utf8, "UTF-8"), "not_object": (_not_object, "not a JSON object"),
                  "byte_flipped": (_byte_flipped, "checksum"), "symlinked": (_symlinked, "symbolic link"),
                  "stray_dir": (_stray_dir, "")}


@pytest.mark.parametrize("case", sorted(VERSION_FAULTS))
def test_a_bad_version_directory_falls_back_to_the_last_good_active_one(store, tmp_path, case, caplog):
    corrupt, reason = VERSION_FAULTS[case]
    corrupt(store)
    with caplog.at_level(logging.ERROR, logger="service.registry"):
        client = _client(store, tmp_path)
    ready = client.get("/readyz").get_json()
    assert ready["model"] == "tiny-1"
    assert reason in ready["skipped"]["tiny-2"]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
    models = client.get("/models")
    assert models.status_code == 200
    assert "tiny-1" in models.get_json()["versions"] and "tiny-2" in models.get_json()["skipped"]
    artifacts.prune(store, keep=0)  # never crashes on the bad directory
    assert client.post("/classify", json={"text": "法院开庭审理"}).get_json()["model"] == "tiny-1"


def test_activate_repairs_a_corrupt_pointer(store, runner, monkeypatch):
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(store))
    (store / "active.json").write_text("[]")
    out = runner.invoke(main, ["activate", "tiny-1"])
    assert out.exit_code == 0, out.output
    assert json.loads((store / "active.json").read_text()) == {"active": "tiny-1", "history": []}


def test_the_model_named_is_the_directory_not_a_field_of_model_json(store, tmp_path):
    meta = json.loads((store / "tiny-2" / "model.json").read_text())
    meta["version"] = "someone-else"
    (store / "tiny-2" / "model.json").write_text(json.dumps(meta))
    client = _client(store, tmp_path)
    assert client.post("/classify", json={"text": "法院开庭审理"}).get_json()["model"] == "tiny-2"


def test_leftovers_of_a_killed_save_are_removed_at_startup(store, tmp_path):
    stale, fresh = store / ".tmp-tiny-3-abc", store / ".tmp-tiny-4-def"
    for path in (stale, fresh):
        path.mkdir()
        (path / "model.npz").write_bytes(b"partial")
    os.utime(stale, (0, 0))  # a save in progress right now would be seconds old: keep that one
    _client(store, tmp_path)
    assert not stale.exists() and fresh.exists()
