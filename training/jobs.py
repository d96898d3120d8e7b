"""Background training jobs: validate → train → evaluate against the active model → save → activate.

A job never touches an existing version: the new model is written atomically under a fresh
version name. Only one job trains at a time (a file lock); others wait in state "queued".
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import artifacts, pipeline
from .config import Settings
from .data import MIN_PER_LABEL, Dataset, label_count_problems, read_csv
from .errors import DataError, ModelError, TaggerError
from .evaluate import score
from .store import Store
from .tagger import Tagger
from .taxonomy import label_ids, load_taxonomy

log = logging.getLogger(__name__)

ACTIVATE_POLICIES = ("never", "if_better", "always")
BASES = ("upload", "corpus")
HOLDOUT_SHARE = 0.2
MIN_HOLDOUT = 5
TRAINING_COPY = "training.csv"


@dataclass(frozen=True)
class Gate:
    """Quality gate: macro-F1 may not drop more than `macro_margin`; no label more than `label_drop`."""

    macro_margin: float = 0.0
    label_drop: float = 0.05

    def check(self, new: dict, old: dict) -> tuple[bool, list[str]]:
        reasons = []
        if new["macro_f1"] < old["macro_f1"] - self.macro_margin:
            reasons.append(f"macro-F1 {new['macro_f1']:.3f} < active {old['macro_f1']:.3f} - margin {self.macro_margin}")
        for label, m in new["per_label"].items():
            before = old["per_label"][label]["f1"]
            if m["f1"] < before - self.label_drop:
                reasons.append(f"{label} F1 {m['f1']:.3f} < active {before:.3f} - {self.label_drop}")
        return not reasons, reasons


def rows_to_csv(rows: list[dict[str, Any]]) -> bytes:
    """JSON rows ({text, labels: list or 'a|b', title?, id?}) as training CSV bytes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "text", "labels"])
    for i, row in enumerate(rows, start=1):
        labels = row.get("labels", [])
        writer.writerow([row.get("id", i), row.get("title", ""), row.get("text", ""), "|".join(labels) if isinstance(labels, list) else labels])
    return out.getvalue().encode("utf-8")


def corpus_of(models_dir: Path, version: str, fallback: Path) -> bytes:
    """The training CSV of a version: its own copy, or the repo corpus if its checksum matches."""
    own = Path(models_dir) / version / TRAINING_COPY
    if own.is_file():
        return own.read_bytes()
    meta = artifacts.read_meta(models_dir, version)
    if fallback.is_file():
        raw = fallback.read_bytes()
        if hashlib.sha256(raw).hexdigest() == meta.get("training", {}).get("sha256"):
            return raw
    raise DataError(f"the training data of model {version} is not available; train with base=upload instead")


def split_holdout(dataset: Dataset, share: float = HOLDOUT_SHARE, seed: int = 0) -> tuple[list[int], list[int]]:
    """Indices (train, held-out) of the uploaded rows; held-out is empty when there are too few."""
    order = list(range(len(dataset)))
    random.Random(seed).shuffle(order)
    n = int(round(len(order) * share))
    if n < MIN_HOLDOUT:
        return order, []
    return order[n:], order[:n]


def _subset(dataset: Dataset, idx: list[int]) -> Dataset:
    return Dataset([dataset.texts[i] for i in idx], [dataset.labels[i] for i in idx], [dataset.ids[i] for i in idx])


def _merge(*parts: Dataset) -> Dataset:
    texts, labels, ids, seen = [], [], [], set()
    for part in parts:
        for t, l, i in zip(part.texts, part.labels, part.ids):
            key = " ".join(t.split())
            if key not in seen:
                seen.add(key)
                texts.append(t)
                labels.append(l)
                ids.append(i)
    return Dataset(texts, labels, ids)


def report_path(settings: Settings, job_id: str) -> Path:
    """Where a job's HTML evaluation report lives."""
    return settings.data_dir / "reports" / f"{job_id}.html"


def _write_job_report(settings: Settings, job_id: str, held: Dataset, results, labels, report: dict, thresholds) -> None:
    from .report import render_report_html

    path = report_path(settings, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_report_html(held.texts, held.labels, None, results, labels, report, title=f"训练任务 {job_id} · 留出集", thresholds=thresholds)
    path.write_text(html, encoding="utf-8")


def run_job(store: Store, job_id: str, settings: Settings, upload: bytes, options: dict[str, Any], feedback: bytes | None = None) -> None:
    """Run one training job to a terminal state; never raises (errors land in the job record)."""
    lock_path = settings.data_dir / "train.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer at a time; waiting jobs stay "queued"
            _run(store, job_id, settings, upload, options, feedback)
    except DataError as exc:
        store.update_job(job_id, state="failed", message=str(exc).split(": ", 1)[-1][:500], errors=exc.problems[:200])
    except (TaggerError, ValueError) as exc:
        store.update_job(job_id, state="failed", message=str(exc)[:500])
    except Exception as exc:  # a bug: record it rather than leave the job running forever
        log.exception("training job %s crashed", job_id)
        store.update_job(job_id, state="failed", message=f"internal error: {type(exc).__name__}: {exc}"[:500])


def _run(store: Store, job_id: str, settings: Settings, upload: bytes, options: dict[str, Any], feedback: bytes | None) -> None:
    t0 = time.perf_counter()
    labels = label_ids(settings.taxonomy_path)
    models_dir = settings.writable_models_dir()
    store.update_job(job_id, state="validating", progress=0.05, message="checking the rows")
    data = read_csv(upload, labels, min_per_label=0)
    extra = read_csv(feedback, labels, min_per_label=0) if feedback else None
    try:
        active = artifacts.active_version(models_dir)
    except ModelError:
        active = None
    base = None
    if options["base"] == "corpus":
        if not active:
            raise DataError("base=corpus needs an active model; train with base=upload")
        base = read_csv(corpus_of(models_dir, active, settings.corpus_path), labels, min_per_label=0)
    train_idx, held_idx = split_holdout(data)
    parts = [p for p in (base, _subset(data, train_idx), extra) if p is not None]
    train = _merge(*parts)
    too_few = label_count_problems(train.labels, labels, MIN_PER_LABEL)
    if too_few:
        raise DataError("training rows: " + "; ".join(too_few) + " (add rows, or use base=corpus)", too_few)
    store.update_job(job_id, state="training", progress=0.2, message=f"training on {len(train)} rows")
    model, info = pipeline.fit(train, labels, options.get("params"))
    store.update_job(job_id, state="evaluating", progress=0.8, message=f"scoring on {len(held_idx)} held-out rows")
    report: dict[str, Any] = {"rows": {"train": len(train), "held_out": len(held_idx), "upload": len(data),
                                       "base": len(base) if base else 0, "feedback": len(extra) if extra else 0},
                              "active_before": active, "thresholds": info["thresholds"], "fit_seconds": info["fit_seconds"]}
    gate_ok, reasons = False, ["no held-out rows (upload at least 25 rows to evaluate)"]
    if held_idx:
        held = _subset(data, held_idx)
        tagger = Tagger(model, {"version": "candidate", "thresholds": info["thresholds"]})
        held_results = tagger.classify(held.texts, explain=8)
        report["new"] = score(held.labels, [set(r.labels) for r in held_results], labels)
        _write_job_report(settings, job_id, held, held_results, labels, report["new"], tagger.thresholds)
        if active:
            old_model, _ = artifacts.load_model(models_dir, active)
            report["active"] = score(held.labels, pipeline.predict_sets(old_model, held.texts), labels)
            gate = Gate(settings.gate_macro_margin, settings.gate_label_drop)
            gate_ok, reasons = gate.check(report["new"], report["active"])
        else:
            gate_ok, reasons = True, []
    report["gate"] = {"passed": gate_ok, "reasons": reasons}
    meta = {
        "labels": labels,
        "label_names": {label.id: label.name for label in load_taxonomy(settings.taxonomy_path)},
        "thresholds": info["thresholds"],
        "params": info["params"],
        "metrics": {"held_out": report.get("new")},
        "training": {"file": TRAINING_COPY, "sha256": hashlib.sha256(upload).hexdigest(), "rows": len(train),
                     "job": job_id, "base": options["base"], "parent": active},
    }
    path = artifacts.save_model(model, meta, models_dir, extra_files={TRAINING_COPY: rows_to_csv(
        [{"text": t, "labels": sorted(l)} for t, l in zip(train.texts, train.labels)])})
    policy = options["activate"]
    activated = policy == "always" or (policy == "if_better" and gate_ok)
    if activated:
        artifacts.set_active(models_dir, path.name)
    removed = artifacts.prune(models_dir, keep=settings.keep_versions)
    report.update(activated=activated, policy=policy, removed_versions=removed, seconds=round(time.perf_counter() - t0, 2))
    store.update_job(job_id, state="done", progress=1.0, version=path.name, report=report,
                     message=f"model {path.name} {'activated' if activated else 'saved, not activated'}")
