"""`legal-tagger models migrate`: convert old joblib versions (format 1) into format-2 versions, once.

The pickle of a version is read only when its sha256 matches the one its model.json recorded,
i.e. only files this project wrote; the new version is checked to score exactly as the pickle
did before it is written. joblib and scikit-learn are imported here only, never while serving.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import artifacts
from ..errors import ModelError

# Our own sentences, one per label and one of none: the pickle and the new files must agree on them.
CHECK_TEXTS = [
    "派出所民警连夜追踪，抓获盗窃电动车的犯罪嫌疑人。",
    "区人民法院公开开庭审理一起民间借贷纠纷案，当庭宣判。",
    "县人民检察院依法对涉嫌诈骗的王某批准逮捕。",
    "司法局工作人员走进社区开展宪法宣传，讲解民法典。",
    "社区网格员入户走访，收集居民意见。",
]


@dataclass
class Outcome:
    """What migrate did with one version."""

    version: str
    status: str  # "migrated", "skipped" or "failed"
    message: str
    new_version: str | None = None

    def line(self) -> str:
        return f"{self.version}: {self.status} — {self.message}"


def legacy_versions(models_dir: Path) -> list[str]:
    """Versions whose directory holds a format-1 pickle and no format number."""
    out = []
    for version in artifacts.list_versions(models_dir):
        try:
            meta = artifacts.read_meta(models_dir, version)
        except ModelError:
            continue
        if meta.get("format") is None and (Path(models_dir) / version / artifacts.LEGACY_FILE).is_file():
            out.append(version)
    return out


def migrated_name(version: str) -> str:
    """The new version's name: the old one plus -f2 (shortened to fit the 64-character limit)."""
    return f"{version[:61]}-f2"


def migrate_version(models_dir: Path, version: str) -> Outcome:
    """Convert one format-1 version; the old directory is left as it was."""
    models_dir = Path(models_dir)
    meta = artifacts.read_meta(models_dir, version)
    path = models_dir / version / artifacts.LEGACY_FILE
    expected = (meta.get("file") or {}).get("sha256") if isinstance(meta.get("file"), dict) else None
    content = path.read_bytes()
    if not expected or hashlib.sha256(content).hexdigest() != expected:
        return Outcome(version, "skipped", f"{path.name} does not match the sha256 in model.json, so it was not read (restore or delete this version)")
    new = migrated_name(version)
    if (models_dir / new).exists():
        return Outcome(version, "skipped", f"already migrated to {new}", new)
    import io

    import joblib  # only here: reading a format-1 pickle whose checksum verified

    pipeline = joblib.load(io.BytesIO(content))
    from .export import pipeline_arrays
    from .scorer import LeanScorer

    spec, arrays = pipeline_arrays(pipeline)
    difference = float(np.max(np.abs(pipeline.predict_proba(CHECK_TEXTS) - LeanScorer(spec, arrays).predict_proba(CHECK_TEXTS))))
    if difference > 1e-9:
        return Outcome(version, "failed", f"the converted model scores differently (max difference {difference:.2g}); retrain instead")
    extra = {p.name: p.read_bytes() for p in (models_dir / version).iterdir()
             if p.is_file() and not p.is_symlink() and p.name not in (artifacts.LEGACY_FILE, artifacts.META_FILE)}
    new_meta = {**meta, "migrated": {"from": version, "format": 1, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     "libraries_then": meta.get("libraries", {})}}
    artifacts.save_model((spec, arrays), new_meta, models_dir, new, extra_files=extra, created=meta.get("created"))
    return Outcome(version, "migrated", f"checksum verified; written as {new} (format {spec['format']}, same scores)", new)


def migrate(models_dir: Path, remove_old: bool = False) -> list[Outcome]:
    """Migrate every format-1 version; repoint active.json and its history; optionally remove the old directories."""
    models_dir = Path(models_dir)
    outcomes = []
    for version in legacy_versions(models_dir):
        try:
            outcomes.append(migrate_version(models_dir, version))
        except (ModelError, OSError, ValueError) as exc:
            outcomes.append(Outcome(version, "failed", str(exc)))
        except Exception as exc:  # an unpickling error of any kind: report it, go on with the others
            outcomes.append(Outcome(version, "failed", f"cannot read the pickle ({type(exc).__name__}: {exc})"))
    renamed = {o.version: o.new_version for o in outcomes if o.new_version}
    if renamed:
        state = artifacts.read_active(models_dir)
        new_state = {"active": renamed.get(state["active"], state["active"]),
                     "history": [renamed.get(v, v) for v in state["history"]]}
        if new_state != state:
            artifacts._write_json_atomic(models_dir / artifacts.ACTIVE_FILE, new_state)
    if remove_old:
        for outcome in outcomes:
            if outcome.new_version:
                shutil.rmtree(models_dir / outcome.version)
                outcome.message += f"; removed {outcome.version}"
    return outcomes
