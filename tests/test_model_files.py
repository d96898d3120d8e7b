"""Format-1 migration and one-file export/import of model versions."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import joblib
import numpy as np
import pytest

from training import artifacts
from training.cli import main
from training.errors import ModelError
from training.model import bundle
from training.model.migrate import CHECK_TEXTS

TEXTS = CHECK_TEXTS + ["法院公开宣判一起盗窃案，检察院派员出庭支持公诉。"]


def _old_version(root, name, pipe, tamper=False):
    """A version as the pre-format-2 code wrote it: model.joblib + model.json with its sha256."""
    folder = root / name
    folder.mkdir(parents=True)
    joblib.dump(pipe, folder / "model.joblib", compress=3)
    digest = hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()
    meta = {"labels": ["policing", "courts", "procuratorate", "legal_publicity"], "version": name, "created": f"2026-01-0{len(name) % 9 + 1}T00:00:00+00:00",
            "metrics": {"cv": {"macro_f1": 0.5}}, "training": {"rows": 40, "sha256": "ab" * 32},
            "libraries": {"scikit-learn": "1.9.1"}, "file": {"name": "model.joblib", "sha256": digest}}
    (folder / "model.json").write_text(json.dumps(meta))
    (folder / "training.csv").write_text("text,labels\n")
    if tamper:
        (folder / "model.joblib").write_bytes((folder / "model.joblib").read_bytes() + b"\0")
    return folder


@pytest.fixture()
def old_store(tmp_path, tiny_model):
    root = tmp_path / "models"
    _old_version(root, "old-1", tiny_model[0])
    _old_version(root, "old-2", tiny_model[0], tamper=True)
    (root / "active.json").write_text(json.dumps({"active": "old-1", "history": ["old-2"]}))
    return root


def test_serving_an_old_pickle_version_says_to_migrate(old_store):
    with pytest.raises(ModelError, match="legal-tagger models migrate"):
        artifacts.load_model(old_store, "old-1")


def test_migrate_reads_only_verified_pickles_and_keeps_scores_and_metadata(old_store, tiny_model, monkeypatch):
    loads = []
    real_load = joblib.load
    monkeypatch.setattr(joblib, "load", lambda f: loads.append(1) or real_load(f))
    result = main(["models", "migrate", "--models-dir", str(old_store)], standalone_mode=False)
    assert result is None and len(loads) == 1  # the tampered pickle was never opened
    scorer, meta = artifacts.load_model(old_store, "old-1-f2")
    assert meta["format"] == 2 and meta["metrics"] == {"cv": {"macro_f1": 0.5}} and meta["training"]["rows"] == 40
    assert meta["created"].startswith("2026-01-0") and meta["migrated"]["from"] == "old-1"
    assert sorted(meta["files"]) == ["model.npz", "scorer.json", "training.csv"]
    assert np.abs(scorer.predict_proba(TEXTS) - tiny_model[0].predict_proba(TEXTS)).max() <= 1e-12
    assert artifacts.read_active(old_store) == {"active": "old-1-f2", "history": ["old-2"]}
    assert not (old_store / "old-2-f2").exists()


def test_migrate_says_what_it_did_per_version(old_store, runner):
    out = runner.invoke(main, ["models", "migrate", "--models-dir", str(old_store), "--remove-old"])
    lines = out.output.strip().splitlines()
    assert out.exit_code == 0, out.output
    assert any(l.startswith("old-1: migrated — checksum verified") and "removed old-1" in l for l in lines)
    assert any(l.startswith("old-2: skipped") and "was not read" in l for l in lines)
    assert not (old_store / "old-1").exists() and (old_store / "old-2").exists()
    again = runner.invoke(main, ["models", "migrate", "--models-dir", str(old_store)])
    assert "old-1-f2" not in again.output and "old-2: skipped" in again.output


@pytest.fixture()
def exported(models_dir, tmp_path):
    out = tmp_path / "tiny.tgz"
    bundle.export_version(models_dir, "tiny-1", out)
    return out


def test_export_import_round_trip(exported, tmp_path, runner, models_dir):
    target = tmp_path / "other"
    out = runner.invoke(main, ["models", "import", str(exported), "--models-dir", str(target)])
    assert out.exit_code == 0, out.output
    a, _ = artifacts.load_model(models_dir, "tiny-1")
    b, meta = artifacts.load_model(target, "tiny-1")
    assert np.array_equal(a.predict_proba(TEXTS), b.predict_proba(TEXTS))
    assert sorted(p.name for p in (target / "tiny-1").iterdir()) == sorted([*meta["files"], "model.json"])
    again = runner.invoke(main, ["models", "import", str(exported), "--models-dir", str(target)])
    assert again.exit_code == 1 and "already exists" in again.output


def _members(path):
    with tarfile.open(path, "r:gz") as archive:
        return [(m, archive.extractfile(m).read()) for m in archive.getmembers()]


def _write(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for info, content in members:
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    return path


def _info(name, size=0, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname = size, kind, link
    return info


def _variant(exported, tmp_path, how):
    members = _members(exported)
    if how == "traversal":
        members.append((_info("../evil.json", 2), b"{}"))
    elif how == "absolute":
        members.append((_info("/tmp/evil.json", 2), b"{}"))
    elif how == "deep":
        members.append((_info("tiny-1/sub/x.json", 2), b"{}"))
    elif how == "symlink":
        members.append((_info("tiny-1/link.json", kind=tarfile.SYMTYPE, link="/etc/passwd"), None))
    elif how == "hardlink":
        members.append((_info("tiny-1/hard.json", kind=tarfile.LNKTYPE, link="tiny-1/model.json"), None))
    elif how == "device":
        members.append((_info("tiny-1/dev", kind=tarfile.CHRTYPE), None))
    elif how == "extra":
        members.append((_info("tiny-1/notes.txt", 2), b"hi"))
    elif how == "two_versions":
        members.append((_info("other/model.json", 2), b"{}"))
    elif how == "tampered":
        members = [(m, c + b"\0" if m.name.endswith(".npz") else c) for m, c in members]
        for m, c in members:
            m.size = len(c)
    elif how == "old_format":
        members = [(m, c) for m, c in members if m.name.endswith("model.json")]
        meta = json.loads(members[0][1])
        meta.pop("format")
        meta.pop("files")
        members[0][0].size = len(content := json.dumps(meta).encode())
        members = [(members[0][0], content)]
    elif how == "no_meta":
        members = [(m, c) for m, c in members if not m.name.endswith("model.json")]
    elif how == "not_gzip":
        path = tmp_path / "bad.tgz"
        path.write_bytes(b"PK\x03\x04 not a tar")
        return path
    return _write(tmp_path / f"{how}.tgz", members)


@pytest.mark.parametrize("how,message", [
    ("traversal", "not <version>/<file>"), ("absolute", "absolute"), ("deep", "not <version>/<file>"),
    ("symlink", "symbolic link"), ("hardlink", "hard link"), ("device", "device"),
    ("extra", "not listed in model.json"), ("two_versions", "two versions"), ("tampered", "checksum does not match"),
    ("old_format", "migrate"), ("no_meta", "no model.json"), ("not_gzip", "unreadable gzip tar"),
])
def test_import_rejects_anything_but_a_verified_export(exported, tmp_path, runner, how, message):
    source = _variant(exported, tmp_path, how)
    target = tmp_path / "target"
    out = runner.invoke(main, ["models", "import", str(source), "--models-dir", str(target)])
    assert out.exit_code == 1
    assert message in out.output and len(out.output.strip().splitlines()) == 1, out.output
    assert not target.exists() or list(target.iterdir()) == []
    assert not (tmp_path / "evil.json").exists()


@pytest.mark.parametrize("limit,message", [("MAX_MEMBER_BYTES", "larger than 1,000 bytes"), ("MAX_TOTAL_BYTES", "add up to more than")])
def test_import_rejects_oversize_members(exported, tmp_path, monkeypatch, limit, message):
    monkeypatch.setattr(bundle, limit, 1000)
    with pytest.raises(ModelError, match=message):
        bundle.import_version(tmp_path / "target", exported)
    assert not (tmp_path / "target").exists()
