"""Background training jobs: validate → train → evaluate against the active model → save → activate.

A job never touches an existing version: the new model is written atomically under a fresh
version name. Only one job trains at a time (a file lock); others wait in state "queued".
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

from . import artifacts, pipeline
from .config import Settings
from .data import MIN_PER_LABEL, Dataset, label_count_problems, read_csv, write_csv
from .errors import DataError, ModelError, TaggerError
from .evaluate import score
from .store import DataDirError, Store, data_dir_error
from .tagger import Tagger
from .gate import GateConfig, decide, evaluate_candidate, label_warnings
from .taxonomy import Label, from_meta, load_taxonomy, to_meta, write_taxonomy

log = logging.getLogger(__name__)

ACTIVATE_POLICIES = ("never", "if_better", "always")
BASES = ("upload", "corpus")
HOLDOUT_SHARE = 0.2  # split_holdout (kept for callers); the gate itself cross-validates (training/gate.py)
MIN_HOLDOUT = 5
TRAINING_COPY = "training.csv"
FEEDBACK_SOURCE = "feedback set (the stored corrections, GET /feedback/export)"


def rows_to_csv(rows: list[dict[str, Any]]) -> bytes:
    """JSON rows ({text, labels: list or 'a|b', title?, id?}) as training CSV bytes (formula-escaped)."""
    def cells(i: int, row: dict[str, Any]) -> list[Any]:
        labels = row.get("labels", [])
        return [row.get("id", i), row.get("title", ""), row.get("text", ""), "|".join(labels) if isinstance(labels, list) else labels]

    return write_csv(["id", "title", "text", "labels"], (cells(i, row) for i, row in enumerate(rows, start=1))).encode("utf-8")


def upload_path(settings: Settings, job_id: str) -> Path:
    """Where a job's uploaded CSV is kept."""
    return settings.data_dir / "uploads" / f"{job_id}.csv"


def submit(store: Store, settings: Settings, raw: bytes, options: dict[str, Any], feedback: bytes | None = None,
           taxonomy: tuple[Label, ...] | None = None) -> str:
    """Record a job, keep its upload, train in a background thread; the job id.

    If the upload cannot be written the job is marked failed at once (never left queued) and
    DataDirError names the data directory and the fix.
    """
    job_id = store.create_job(options)
    path = upload_path(settings, job_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)  # kept: the user's data is never lost
    except OSError as exc:
        path.unlink(missing_ok=True)  # no half-written copy
        error = data_dir_error(settings.data_dir, exc)
        store.update_job(job_id, state="failed", message=f"the upload could not be saved: {error}; submit it again"[:500])
        raise DataDirError(f"job {job_id} failed: {error}") from None
    threading.Thread(target=run_job, args=(store, job_id, settings, raw, options, feedback, taxonomy), name=f"train-{job_id}", daemon=True).start()
    return job_id


def fail_orphaned_jobs(store: Store, models_dir: Path) -> list[str]:
    """Mark failed the jobs of a process that died; a version such a job saved before dying is linked back.

    A kill between save_model and the job's last update leaves a complete, verified version whose
    model.json names the job; the job then says so (and how to activate it) instead of
    "no model was written".
    """
    failed = store.fail_orphaned_jobs()
    if not failed:
        return failed
    for version in artifacts.list_versions(models_dir):
        try:
            job = artifacts.read_meta(models_dir, version).get("training", {}).get("job")
        except ModelError:
            continue
        if job in failed:
            store.update_job(job, version=version, message=(
                f"interrupted after saving model {version}, which was not activated; "
                f"activate it with POST /models/{version}/activate, or submit the job again"))
    return failed


def remove_failed_uploads(store: Store, settings: Settings, now: float | None = None) -> list[str]:
    """Delete the uploads of jobs that failed more than failed_upload_days ago; the ids removed.

    Uploads of successful jobs and of jobs still running are kept; a file that cannot be removed
    is logged and left (this runs at startup and before each job, never failing either).
    """
    cutoff = (time.time() if now is None else now) - settings.failed_upload_days * 86400
    removed = []
    try:
        failed = store.jobs_failed_before(cutoff)
    except DataDirError as exc:
        log.warning("failed uploads not cleaned: %s", exc)
        return removed
    for job_id in failed:
        path = upload_path(settings, job_id)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)
            continue
        removed.append(job_id)
    if removed:
        log.info("removed %d upload(s) of jobs failed over %s days ago (TAGGER_FAILED_UPLOAD_DAYS)", len(removed), settings.failed_upload_days)
    return removed


def prune_versions(models_dir: Path, keep: int) -> tuple[list[str], list[str]]:
    """artifacts.prune one version at a time: (removed, skipped with why); never raises.

    One bad directory (odd name, unreadable, cannot be moved) is logged and skipped, so a job
    that has saved its model never fails in its clean-up step.
    """
    try:
        versions = artifacts.list_versions(models_dir)
        safe = artifacts.protected(models_dir)
    except Exception as exc:  # e.g. a corrupt active.json: we cannot know what is protected
        log.warning("pruning skipped: %s", exc)
        return [], [f"pruning skipped: {exc}"]
    removed, skipped = [], []
    for version in versions[: max(0, len(versions) - keep)]:
        if version in safe:
            continue
        try:
            artifacts.delete_version(models_dir, version)
        except Exception as exc:
            log.warning("pruning: skipped %s: %s", version, exc)
            skipped.append(f"{version}: {exc}")
            continue
        removed.append(version)
    return removed, skipped


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


def _write_job_report(settings: Settings, job_id: str, held: Dataset, results, labels, report: dict, thresholds, extra_html: str = "") -> None:
    from .report import render_report_html

    path = report_path(settings, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_report_html(held.texts, held.labels, None, results, labels, report, title=f"训练任务 {job_id} · 交叉验证", thresholds=thresholds)
    if extra_html:  # the gate and audit sections, in their own small renderer (training/audit/html.py)
        html = html.replace("</body>", extra_html + "</body>", 1) if "</body>" in html else html + extra_html
    path.write_text(html, encoding="utf-8")


def run_job(store: Store, job_id: str, settings: Settings, upload: bytes, options: dict[str, Any], feedback: bytes | None = None,
            taxonomy: tuple[Label, ...] | None = None) -> None:
    """Run one training job to a terminal state; never raises (errors land in the job record)."""
    lock_path = settings.data_dir / "train.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer at a time; waiting jobs stay "queued"
            _run(store, job_id, settings, upload, options, feedback, taxonomy)
    except DataError as exc:  # the message starts with its source: upload, feedback set or a model's corpus
        store.update_job(job_id, state="failed", message=str(exc)[:500], errors=exc.problems[:200])
    except (TaggerError, ValueError) as exc:
        store.update_job(job_id, state="failed", message=str(exc)[:500])
    except Exception as exc:  # a bug: record it rather than leave the job running forever
        log.exception("training job %s crashed", job_id)
        store.update_job(job_id, state="failed", message=f"internal error: {type(exc).__name__}: {exc}"[:500])


def _keep_only(dataset: Dataset, labels: list[str]) -> Dataset:
    """The dataset with labels outside `labels` removed (labels the new label set drops)."""
    keep = set(labels)
    return Dataset(dataset.texts, [tags & keep for tags in dataset.labels], dataset.ids)


def label_set(settings: Settings, active: str | None) -> tuple[Label, ...]:
    """The active model's label set (from its metadata; older models: labels/taxonomy.toml)."""
    if active:
        try:
            return from_meta(artifacts.read_meta(settings.models_dir, active), settings.taxonomy_path)
        except ModelError:
            pass
    return load_taxonomy(settings.taxonomy_path)


def _run(store: Store, job_id: str, settings: Settings, upload: bytes, options: dict[str, Any], feedback: bytes | None,
         custom: tuple[Label, ...] | None = None) -> None:
    from .audit import audit_rows, read_rows
    from .audit.html import render_gate_and_audit

    t0 = time.perf_counter()
    models_dir = settings.writable_models_dir()
    fail_orphaned_jobs(store, models_dir)  # jobs of a dead worker: recorded here, not in read-only views
    remove_failed_uploads(store, settings)
    store.update_job(job_id, state="validating", progress=0.05, message="checking the rows")
    try:
        active = artifacts.active_version(models_dir)
    except ModelError:
        active = None
    before = label_set(settings, active)
    taxonomy = custom or before
    labels = [label.id for label in taxonomy]
    old = [label.id for label in before]
    tax_path = None if taxonomy == load_taxonomy(settings.taxonomy_path) else str(
        write_taxonomy(taxonomy, settings.data_dir / "uploads" / f"{job_id}.taxonomy.json"))
    data = read_csv(upload, labels, min_per_label=0, name="upload")
    wider = list(dict.fromkeys(old + labels))  # older rows may carry labels the new set drops
    extra = _keep_only(read_csv(feedback, wider, min_per_label=0, name=FEEDBACK_SOURCE), labels) if feedback else None
    base = None
    if options["base"] == "corpus":
        if not active:
            raise DataError("base=corpus needs an active model; train with base=upload")
        base = _keep_only(read_csv(corpus_of(models_dir, active, settings.corpus_path), wider, min_per_label=0,
                                   name=f"training data of model {active}"), labels)
    train = _merge(*[p for p in (base, data, extra) if p is not None])
    too_few = label_count_problems(train.labels, labels, MIN_PER_LABEL)
    if too_few:
        raise DataError("training rows: " + "; ".join(too_few) + " (add rows, or use base=corpus)", too_few)
    cfg = GateConfig.from_params(settings, options.get("gate"))
    uploaded = {" ".join(t.split()) for t in data.texts}
    eval_idx = [i for i, t in enumerate(train.texts) if " ".join(t.split()) in uploaded]
    scope = "upload"
    if len(eval_idx) < cfg.min_rows and base is not None:
        eval_idx, scope = list(range(len(train))), "base+upload"  # a small upload: evaluate on everything
    active_model = artifacts.load_model(models_dir, active)[0] if active else None
    store.update_job(job_id, state="evaluating", progress=0.1,
                     message=f"cross-validating on {len(eval_idx)} rows ({cfg.repeats}x{cfg.folds}-fold)")
    evaluation = evaluate_candidate(
        train, eval_idx, labels, options.get("params"), tax_path, cfg, active_model,
        progress=lambda i, n: store.update_job(job_id, progress=round(0.1 + 0.6 * i / n, 3)),
        explain=lambda model, texts: Tagger(model, {"version": "candidate"}).classify(texts, explain=8),
    )
    decision, gate_ok, reasons, sentence = decide(evaluation, cfg, active_model is not None)
    evaluated = _subset(train, eval_idx)
    results = evaluation.pop("results")
    proba, fold_of, fold_models = evaluation.pop("oof")
    upload_pos = [p for p, i in enumerate(eval_idx) if " ".join(train.texts[i].split()) in uploaded]
    lenient, numbers, _ = read_rows(upload, "upload")  # the CSV's data row numbers (1-based, header not counted)
    upload_rows: dict[str, int] = {}
    for text, number in zip(lenient.texts, numbers):
        upload_rows.setdefault(" ".join(text.split()), number)
    findings = audit_rows(
        _subset(evaluated, upload_pos), [upload_rows[" ".join(evaluated.texts[p].split())] for p in upload_pos], labels,
        folds=cfg.folds, oof=(proba[upload_pos], fold_of[upload_pos], fold_models),
    ) if upload_pos else None
    store.update_job(job_id, state="training", progress=0.75, message=f"training on {len(train)} rows")
    model, info = pipeline.fit(train, labels, options.get("params"), tax_path)
    shared = [label for label in labels if label in old]
    report: dict[str, Any] = {"rows": {"train": len(train), "held_out": len(eval_idx), "evaluated": len(eval_idx), "evaluated_on": scope,
                                       "upload": len(data), "base": len(base) if base else 0, "feedback": len(extra) if extra else 0,
                                       "per_label": {label: sum(label in tags for tags in train.labels) for label in labels}},
                              "active_before": active, "thresholds": info["thresholds"], "fit_seconds": info["fit_seconds"],
                              "labels": {"new": [l for l in labels if l not in old], "dropped": [l for l in old if l not in labels], "shared": shared}}
    report["new"] = score(evaluated.labels, [set(r.labels) for r in results], labels)
    if active_model is not None:
        report["active"] = score(evaluated.labels, pipeline.predict_sets(active_model, evaluated.texts), shared)
    report["evaluation"] = evaluation
    report["warnings"] = label_warnings(evaluation)
    report["gate"] = {"passed": gate_ok, "decision": decision, "reasons": reasons, "sentence": sentence}
    if findings is not None:
        report["audit"] = {**findings.to_dict(top=10), "total": len(findings.findings)}
    _write_job_report(settings, job_id, evaluated, results, labels, report["new"], Tagger(model, {}).thresholds,
                      render_gate_and_audit(report, {label.id: label.name for label in taxonomy}))
    meta = {
        "labels": labels,
        "label_names": {label.id: label.name for label in taxonomy},
        "taxonomy": to_meta(taxonomy),
        "thresholds": info["thresholds"],
        "params": info["params"],
        "metrics": {"cv": report["new"], "gate": {k: evaluation[k] for k in ("rows", "folds", "repeats", "per_label")}},
        "training": {"file": TRAINING_COPY, "sha256": hashlib.sha256(upload).hexdigest(), "rows": len(train),
                     "job": job_id, "base": options["base"], "parent": active, "per_label": report["rows"]["per_label"]},
    }
    path = artifacts.save_model(model, meta, models_dir, extra_files={TRAINING_COPY: rows_to_csv(
        [{"text": t, "labels": sorted(l)} for t, l in zip(train.texts, train.labels)])})
    policy = options["activate"]
    activated = policy == "always" or (policy == "if_better" and gate_ok)
    if activated:
        artifacts.set_active(models_dir, path.name)
    removed, skipped = prune_versions(models_dir, keep=settings.keep_versions)
    report.update(activated=activated, policy=policy, removed_versions=removed, seconds=round(time.perf_counter() - t0, 2))
    if skipped:
        report["prune_skipped"] = skipped
    store.update_job(job_id, state="done", progress=1.0, version=path.name, report=report,
                     message=f"model {path.name} {'activated' if activated else 'saved, not activated'}: {sentence}"[:500])
