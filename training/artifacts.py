"""Versioned model artifacts: atomic writes, checksum and library-version checks, active pointer.

Layout: models/<version>/{model.joblib, model.json} and models/active.json naming the active
version and the activation history (for rollback). A version directory is never modified after
it is renamed into place, except model.json's `metrics.gold`, which is rewritten atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from .errors import ModelError, ModelNotFound

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
ACTIVE_FILE = "active.json"
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Pickles are only safe to load with the libraries that wrote them; these must match exactly
# (major.minor), the others are recorded for the record.
PINNED = ("scikit-learn", "numpy", "scipy")
RECORDED = ("joblib", "jieba", "rjieba")


def library_versions() -> dict[str, str]:
    """Versions of the libraries a pickled pipeline depends on."""
    versions = {"python": platform.python_version()}
    for name in PINNED + RECORDED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_version() -> str:
    """A sortable, unique version name: UTC time plus a short random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def check_version_name(version: str) -> str:
    """Reject names that are not plain version names (no paths, no dots at the start)."""
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ModelNotFound(f"{version!r} is not a model version name (letters, digits, . _ - only)")
    return version


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_model(pipeline: Any, meta: dict, models_dir: Path, version: str | None = None, extra_files: dict[str, bytes] | None = None) -> Path:
    """Write pipeline + metadata into a temp dir, then rename it to models_dir/<version>.

    An exception anywhere leaves models_dir exactly as it was (the temp dir is removed).
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = check_version_name(version or new_version())
    final = models_dir / version
    if final.exists():
        raise ModelError(f"model version {version} already exists in {models_dir}; versions are never overwritten")
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=models_dir))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
        model_path = tmp / MODEL_FILE
        joblib.dump(pipeline, model_path, compress=3)
        with open(model_path, "rb") as handle:
            os.fsync(handle.fileno())
        meta = {
            **meta,
            "version": version,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            "file": {"name": MODEL_FILE, "sha256": sha256_file(model_path), "bytes": model_path.stat().st_size},
        }
        for name, content in (extra_files or {}).items():
            (tmp / Path(name).name).write_bytes(content)
        _write_json_atomic(tmp / META_FILE, meta)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_meta(models_dir: Path, version: str) -> dict:
    """A version's model.json."""
    path = Path(models_dir) / check_version_name(version) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise ModelNotFound(f"no model version {version!r} in {models_dir}; see `legal-tagger models`") from None
    except (ValueError, OSError) as exc:  # JSONDecodeError, UnicodeDecodeError, a directory named model.json
        raise ModelError(f"{path}: corrupt metadata ({exc}); retrain or restore this version") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: corrupt metadata (not a JSON object); retrain or restore this version")
    return meta


def update_meta(models_dir: Path, version: str, **fields: Any) -> dict:
    """Merge fields into a version's model.json (atomic rewrite); the model file is untouched."""
    meta = read_meta(models_dir, version)
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(meta.get(key), dict):
            meta[key] = {**meta[key], **value}
        else:
            meta[key] = value
    _write_json_atomic(Path(models_dir) / version / META_FILE, meta)
    return meta


def verify(models_dir: Path, version: str) -> dict:
    """Check a version's checksum and library versions; return its metadata or raise ModelError."""
    meta = read_meta(models_dir, version)
    path = Path(models_dir) / version / meta.get("file", {}).get("name", MODEL_FILE)
    if not path.is_file():
        raise ModelError(f"{path}: model file missing; retrain or restore version {version}")
    expected = meta.get("file", {}).get("sha256")
    if not expected or sha256_file(path) != expected:
        raise ModelError(
            f"{path}: checksum does not match model.json; the file was altered or is not ours — "
            f"refusing to load it (retrain with `legal-tagger train`)"
        )
    current = library_versions()
    for name in PINNED:
        built = meta.get("libraries", {}).get(name, "")
        if _minor(built) != _minor(current[name]):
            raise ModelError(
                f"model {version} was built with {name} {built or '?'} but {current[name] or 'none'} "
                f"is installed; install {name}=={built} or retrain with `legal-tagger train`"
            )
    return meta


def load_model(models_dir: Path, version: str) -> tuple[Any, dict]:
    """Verify, then unpickle a version: (pipeline, metadata)."""
    meta = verify(models_dir, version)
    return joblib.load(Path(models_dir) / version / meta["file"]["name"]), meta


def list_versions(models_dir: Path) -> list[str]:
    """Complete versions (those with model.json), oldest first by creation time."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    found = [p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / META_FILE).is_file()]

    def created(path: Path) -> str:
        try:
            return json.loads((path / META_FILE).read_text(encoding="utf-8")).get("created", "")
        except (OSError, ValueError):
            return ""

    return [p.name for p in sorted(found, key=lambda p: (created(p), p.name))]


def read_active(models_dir: Path) -> dict:
    """{'active': version or None, 'history': [previous versions, newest last]}."""
    path = Path(models_dir) / ACTIVE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"active": None, "history": []}
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: corrupt ({exc.msg}); run `legal-tagger activate VERSION`") from None
    return {"active": data.get("active"), "history": list(data.get("history", []))}


def active_version(models_dir: Path) -> str:
    """The active version, or the newest one if none was ever activated."""
    active = read_active(models_dir)["active"]
    if active:
        return active
    versions = list_versions(models_dir)
    if not versions:
        raise ModelNotFound(f"no model in {models_dir}; train one with `legal-tagger train labels/corpus.csv`")
    return versions[-1]


def set_active(models_dir: Path, version: str) -> dict:
    """Verify a version and make it active (atomic pointer swap); remember the previous one."""
    verify(models_dir, version)
    state = read_active(models_dir)
    if state["active"] and state["active"] != version:
        state["history"] = (state["history"] + [state["active"]])[-50:]
    state["active"] = version
    _write_json_atomic(Path(models_dir) / ACTIVE_FILE, state)
    return state


def rollback(models_dir: Path) -> dict:
    """Re-activate the version that was active before the current one."""
    state = read_active(models_dir)
    history = [v for v in state["history"] if v != state["active"] and (Path(models_dir) / v / META_FILE).is_file()]
    if not history:
        raise ModelNotFound("no previous version to roll back to")
    previous = history.pop()
    verify(models_dir, previous)
    state = {"active": previous, "history": history}
    _write_json_atomic(Path(models_dir) / ACTIVE_FILE, state)
    return state


def protected(models_dir: Path) -> set[str]:
    """Versions that may never be deleted: the active one and the one before it."""
    state = read_active(models_dir)
    keep = {state["active"]} if state["active"] else set()
    if state["history"]:
        keep.add(state["history"][-1])
    return keep


def delete_version(models_dir: Path, version: str) -> None:
    """Remove a version directory; the active and previous versions are refused."""
    check_version_name(version)
    if version in protected(models_dir):
        raise ModelError(f"version {version} is active or the rollback target; activate another version first")
    path = Path(models_dir) / version
    if not (path / META_FILE).is_file():
        raise ModelNotFound(f"no model version {version!r} in {models_dir}")
    trash = Path(models_dir) / f".trash-{version}-{uuid.uuid4().hex[:6]}"
    os.rename(path, trash)  # atomic disappearance, then the slow delete
    shutil.rmtree(trash, ignore_errors=True)


def prune(models_dir: Path, keep: int) -> list[str]:
    """Delete the oldest versions beyond `keep`, never the active or previous one."""
    versions = list_versions(models_dir)
    safe = protected(models_dir)
    removed = []
    for version in versions[: max(0, len(versions) - keep)]:
        if version not in safe:
            delete_version(models_dir, version)
            removed.append(version)
    return removed
