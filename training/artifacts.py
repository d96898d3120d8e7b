"""Versioned model artifacts (format 2): data files with checksums, atomic writes, active pointer.

Layout: models/<version>/{model.npz, scorer.json, model.json} and models/active.json naming the
active version and the activation history (for rollback). model.npz holds plain numeric arrays
(vocabularies as code points, IDF, coefficients, thresholds), scorer.json the parameters, label
set and cue patterns; model.json the metadata and the sha256 of every other file. Nothing is
pickled, so loading runs no code from the file and any numpy can read it; the loader checks
the format number, library versions are recorded for information only.

A version directory is never modified after it is renamed into place, except model.json's
`metrics.gold`, which is rewritten atomically. Old joblib versions (format 1) are refused with a
pointer to `legal-tagger models migrate`.
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
import zipfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ModelError, ModelNotFound
from .model import FORMAT
from .model.export import pipeline_arrays
from .model.files import read_npz, write_npz
from .model.scorer import LeanScorer

MODEL_FILE = "model.npz"
SPEC_FILE = "scorer.json"
META_FILE = "model.json"
ACTIVE_FILE = "active.json"
LEGACY_FILE = "model.joblib"  # format 1: read only by `legal-tagger models migrate`
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RECORDED = ("numpy", "scikit-learn", "scipy", "jieba", "rjieba")  # for information, never checked


def library_versions() -> dict[str, str]:
    """Versions of the libraries that trained a model (recorded for information)."""
    versions = {"python": platform.python_version()}
    for name in RECORDED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


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


def _write_bytes(path: Path, content: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def save_model(model: Any, meta: dict, models_dir: Path, version: str | None = None,
               extra_files: dict[str, bytes] | None = None, created: str | None = None) -> Path:
    """Write a model (a fitted Pipeline, or its (spec, arrays)) and metadata into a temp dir, then rename it to models_dir/<version>.

    An exception anywhere leaves models_dir exactly as it was (the temp dir is removed).
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = check_version_name(version or new_version())
    final = models_dir / version
    if final.exists() or final.is_symlink():
        raise ModelError(f"model version {version} already exists in {models_dir}; versions are never overwritten")
    spec, arrays = model if isinstance(model, tuple) else pipeline_arrays(model)
    LeanScorer(spec, arrays)  # never write a model that could not be loaded back
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=models_dir))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
        write_npz(tmp / MODEL_FILE, arrays)
        with open(tmp / MODEL_FILE, "rb") as handle:
            os.fsync(handle.fileno())
        _write_bytes(tmp / SPEC_FILE, (json.dumps(spec, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        for name, content in (extra_files or {}).items():
            name = Path(name).name
            if not FILE_RE.match(name) or name in (MODEL_FILE, SPEC_FILE, META_FILE):
                raise ModelError(f"{name!r} cannot be stored beside a model")
            _write_bytes(tmp / name, content)
        files = {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in sorted(tmp.iterdir())}
        drop = ("file", "files", "format", "version", "created", "libraries")
        meta = {
            **{k: v for k, v in meta.items() if k not in drop},
            "format": FORMAT,
            "version": version,
            "created": created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": library_versions(),
            "files": files,
        }
        _write_json_atomic(tmp / META_FILE, meta)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_meta(models_dir: Path, version: str) -> dict:
    """A version's model.json (a JSON object), or ModelNotFound / ModelError saying what is wrong."""
    directory = Path(models_dir) / check_version_name(version)
    path = directory / META_FILE
    if directory.is_symlink():
        raise ModelError(f"{directory} is a symbolic link; model versions must be real directories (copy it instead)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise ModelNotFound(f"no model version {version!r} in {models_dir}; see `legal-tagger models`") from None
    except UnicodeDecodeError:
        raise ModelError(f"{path}: not UTF-8 text; retrain or restore this version") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: corrupt metadata ({exc.msg}); retrain or restore this version") from None
    except (OSError, RecursionError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable ({type(exc).__name__}); retrain or restore this version") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: metadata is not a JSON object; retrain or restore this version")
    return meta


def update_meta(models_dir: Path, version: str, **fields: Any) -> dict:
    """Merge fields into a version's model.json (atomic rewrite); the model files are untouched."""
    meta = read_meta(models_dir, version)
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(meta.get(key), dict):
            meta[key] = {**meta[key], **value}
        else:
            meta[key] = value
    _write_json_atomic(Path(models_dir) / version / META_FILE, meta)
    return meta


def _check_format(meta: dict, models_dir: Path, version: str) -> dict[str, dict]:
    """The files table of a format-2 version, or ModelError naming the fix."""
    fmt = meta.get("format")
    if fmt != FORMAT:
        if fmt is None and (Path(models_dir) / version / LEGACY_FILE).exists():
            raise ModelError(
                f"model {version} is in the old pickle format; convert it once with "
                f"`legal-tagger models migrate` (it is never loaded as a pickle while serving)"
            )
        raise ModelError(f"model {version} has format {fmt!r}; this version of legal-tagger reads format {FORMAT} (retrain or upgrade)")
    files = meta.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files or SPEC_FILE not in files:
        raise ModelError(f"model {version}: model.json lists no {MODEL_FILE} and {SPEC_FILE}; retrain or restore this version")
    return files


def _read_verified(models_dir: Path, version: str, name: str, entry: Any) -> bytes:
    """A file's bytes, read once, after checking them against the sha256 in model.json."""
    path = Path(models_dir) / version / str(name)
    if not FILE_RE.match(str(name)) or not isinstance(entry, dict):
        raise ModelError(f"model {version}: model.json lists a bad file entry {name!r}; retrain or restore this version")
    if path.is_symlink() or not path.is_file():
        raise ModelError(f"{path}: model file missing or not a regular file; retrain or restore version {version}")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
        raise ModelError(
            f"{path}: checksum does not match model.json; the file was altered or is not ours — "
            f"refusing to load it (retrain with `legal-tagger train`)"
        )
    return content


def verify(models_dir: Path, version: str) -> dict:
    """Check a version's format and the checksum of every file; return its metadata or raise ModelError."""
    meta = read_meta(models_dir, version)
    for name, entry in _check_format(meta, models_dir, version).items():
        _read_verified(models_dir, version, name, entry)
    return meta


def load_model(models_dir: Path, version: str) -> tuple[LeanScorer, dict]:
    """Verify, then build the scorer from the arrays: (scorer, metadata). Nothing is unpickled."""
    meta = read_meta(models_dir, version)
    files = _check_format(meta, models_dir, version)
    contents = {name: _read_verified(models_dir, version, name, entry) for name, entry in files.items()}
    try:
        spec = json.loads(contents[SPEC_FILE].decode("utf-8"))
        arrays = read_npz(contents[MODEL_FILE])
    except (ValueError, OSError, EOFError, KeyError, RecursionError, zipfile.BadZipFile) as exc:
        raise ModelError(f"model {version}: unreadable model file ({type(exc).__name__}); retrain or restore this version") from None
    scorer = LeanScorer(spec, arrays)
    # The name a response reports is the directory's, never a field an edited model.json can change.
    return scorer, {**meta, "version": version}


def _version_dirs(models_dir: Path) -> list[Path]:
    """Candidate version directories: plain names, real directories (symlinks are refused), with model.json."""
    models_dir = Path(models_dir)
    try:
        entries = list(models_dir.iterdir())
    except OSError:
        return []
    return [p for p in entries if VERSION_RE.match(p.name) and not p.is_symlink() and p.is_dir() and (p / META_FILE).is_file()]


def _created(path: Path) -> str:
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return ""
    created = meta.get("created", "") if isinstance(meta, dict) else ""
    return created if isinstance(created, str) else ""


def list_versions(models_dir: Path) -> list[str]:
    """Complete versions (real directories with model.json), oldest first by creation time."""
    return [p.name for p in sorted(_version_dirs(models_dir), key=lambda p: (_created(p), p.name))]


def skipped_versions(models_dir: Path, deep: bool = False) -> dict[str, str]:
    """Entries of models_dir that are not usable versions, each with the reason (never raises).

    deep=False checks names, metadata and format; deep=True also every checksum (reads every file).
    """
    models_dir = Path(models_dir)
    try:
        entries = sorted(models_dir.iterdir())
    except OSError:
        return {}
    out = {}
    for path in entries:
        if path.name.startswith(".") or path.name == ACTIVE_FILE or (path.is_file() and not path.is_symlink()):
            continue
        if path.is_symlink():
            out[path.name] = "a symbolic link; model versions must be real directories"
        elif not VERSION_RE.match(path.name):
            out[path.name] = "not a version name"
        elif not (path / META_FILE).is_file():
            out[path.name] = f"no {META_FILE} (not a model version)"
        else:
            try:
                if deep:
                    verify(models_dir, path.name)
                else:
                    _check_format(read_meta(models_dir, path.name), models_dir, path.name)
            except ModelError as exc:
                out[path.name] = str(exc)
    state = read_active(models_dir)
    if state.get("error"):
        out[ACTIVE_FILE] = state["error"]
    return out


def read_active(models_dir: Path) -> dict:
    """{'active': version or None, 'history': [previous versions, newest last]}; never raises.

    A corrupt pointer reads as no pointer, with 'error' saying why: the service then serves the
    newest version that verifies, and `legal-tagger activate VERSION` writes a good pointer.
    """
    path = Path(models_dir) / ACTIVE_FILE
    empty: dict[str, Any] = {"active": None, "history": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError, RecursionError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return {**empty, "error": f"{path}: corrupt ({why}); run `legal-tagger activate VERSION`"}
    if not isinstance(data, dict):
        return {**empty, "error": f"{path}: not a JSON object; run `legal-tagger activate VERSION`"}
    active, history = data.get("active"), data.get("history", [])
    problems = []
    if active is not None and not (isinstance(active, str) and VERSION_RE.match(active)):
        problems.append("'active' is not a version name")
        active = None
    if not isinstance(history, list):
        problems.append("'history' is not a list")
        history = []
    history = [v for v in history if isinstance(v, str) and VERSION_RE.match(v)]
    state: dict[str, Any] = {"active": active, "history": history}
    if problems:
        state["error"] = f"{path}: {'; '.join(problems)}; run `legal-tagger activate VERSION`"
    return state


def remove_leftovers(models_dir: Path, older_than: float = 60.0) -> list[str]:
    """Delete `.tmp-*` and `.trash-*` directories left by a killed save or delete (older than a minute: not in progress)."""
    import time

    removed = []
    try:
        entries = list(Path(models_dir).iterdir())
    except OSError:
        return removed
    for path in entries:
        if path.name.startswith((".tmp-", ".trash-")) and path.is_dir() and not path.is_symlink():
            try:
                if time.time() - path.stat().st_mtime >= older_than:
                    shutil.rmtree(path)
                    removed.append(path.name)
            except OSError:
                continue
    return removed


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
    """Verify a version and make it active (atomic pointer swap); remember the previous one. Repairs a corrupt pointer."""
    verify(models_dir, version)
    state = read_active(models_dir)
    state.pop("error", None)
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
    state.pop("error", None)
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
            try:
                delete_version(models_dir, version)
            except (ModelError, OSError):  # one bad directory never fails the job that prunes
                continue
            removed.append(version)
    return removed
