"""The `legal-tagger` command line: train, evaluate, validate, classify, serve, models."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from . import artifacts
from .config import METRICS_PREFIX, get_settings
from .errors import TaggerError
from .taxonomy import label_ids, load_taxonomy, to_meta


def translated(func):
    """Turn the library's named errors into one-line CLI errors (exit status 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TaggerError as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:  # bad hyper-parameter or setting
            raise click.ClickException(str(exc)) from None

    return wrapper


def _progress(label: str, total: int):
    """A progress bar on stderr (click's, which hides itself when stderr is not a terminal)."""
    return click.progressbar(length=total, label=label, file=sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="legal-news-tagger")
def main() -> None:
    """Tag Chinese legal-affairs news: policing, courts, procuratorate, legal_publicity."""


@main.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--taxonomy", "taxonomy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Check against this label set (default labels/taxonomy.toml).")
@translated
def validate(csv_path: Path, taxonomy_file: Path | None = None) -> None:
    """Check a labeled CSV without training.

    Example: legal-tagger validate labels/corpus.csv
    """
    from .data import read_csv

    settings = get_settings()
    labels = label_ids(taxonomy_file or settings.taxonomy_path)
    dataset = read_csv(csv_path, labels)
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = {label: sum(label in s for s in dataset.labels) for label in labels}
    click.echo(f"{csv_path}: {len(dataset)} rows OK; per label: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@main.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("more_csv", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Models directory (default: TAGGER_MODELS_DIR or models/).")
@click.option("--version", "version", help="Version name (default: UTC time + random suffix).")
@click.option("--activate/--no-activate", default=True, show_default=True, help="Make the new version the active one.")
@click.option("--cv/--no-cv", "run_cv", default=False, show_default=True, help="Also report whole-pipeline 5-fold CV metrics (about 10x the fit time).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Hyper-parameter override, e.g. --param C=2.")
@click.option("--taxonomy", "taxonomy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The new model's label set (labels/taxonomy.toml's format, TOML or JSON): every label it has.")
@translated
def train(csv_path: Path, more_csv: tuple[Path, ...], out_dir: Path | None, version: str | None, activate: bool, run_cv: bool,
          params: tuple[str, ...], taxonomy_file: Path | None = None) -> None:
    """Train a model from labeled CSVs (columns text,labels; optional id,title); several CSVs are joined.

    Example: legal-tagger train labels/corpus.csv --out models/
    Your own labels: legal-tagger train labels/corpus.csv labels/examples/judicial_admin.csv --taxonomy labels/examples/taxonomy_judicial_admin.toml
    """
    from . import pipeline as model_pipeline
    from .data import read_csv
    from .evaluate import format_report
    from .tokenize import resolve_backend

    settings = get_settings()
    out_dir = out_dir or settings.models_dir
    taxonomy_path = taxonomy_file or settings.taxonomy_path
    taxonomy = load_taxonomy(taxonomy_path)
    labels = [label.id for label in taxonomy]
    overrides = dict(p.split("=", 1) for p in params if "=" in p)
    bad = [p for p in params if "=" not in p]
    if bad:
        raise click.ClickException(f"--param {bad[0]!r} must look like NAME=VALUE")
    checked = model_pipeline.check_params(overrides)
    dataset = _read_training_csvs([csv_path, *more_csv], labels)
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)
    metrics = {}
    if run_cv:
        with _progress("cross-validating", checked["cv"]) as bar:
            cv = model_pipeline.cross_validate(dataset, labels, overrides, folds=checked["cv"], progress=lambda i, n: bar.update(1))
        click.echo(format_report(cv, "cross-validation on the training CSV"), err=True)
        metrics["cv"] = cv
    _warn_small_labels(dataset, labels, metrics.get("cv"))
    click.echo("fitting the final model…", err=True)
    pipe, info = model_pipeline.fit(dataset, labels, overrides, taxonomy_path)
    meta = {
        "labels": labels,
        "label_names": {label.id: label.name for label in taxonomy},
        "taxonomy": to_meta(taxonomy),
        "thresholds": info["thresholds"],
        "params": info["params"],
        "metrics": metrics,
        "training": {
            "file": csv_path.name, "sha256": dataset.sha256, "rows": len(dataset),
            "fit_seconds": info["fit_seconds"],
            "per_label": {label: sum(label in s for s in dataset.labels) for label in labels},
        },
        "tokenizer": resolve_backend(settings.tokenizer_backend),
    }
    path = artifacts.save_model(pipe, meta, out_dir, version)
    if activate:
        artifacts.set_active(out_dir, path.name)
    click.echo(f"saved {path}{' (active)' if activate else ''}; thresholds {info['thresholds']}")


@main.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, most suspicious first.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 10), help="Cross-validation folds for the out-of-fold scores.")
@click.option("--top", default=0, type=click.IntRange(0), help="Print only the first N findings (0: all).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Hyper-parameter override, e.g. --param C=2.")
@click.option("--taxonomy", "taxonomy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Label set whose terms feed the cue features (default labels/taxonomy.toml).")
@translated
def audit(csv_path: Path, as_json: bool, folds: int, top: int, params: tuple[str, ...], taxonomy_file: Path | None) -> None:
    """Rank rows whose labels look wrong (confident learning on out-of-fold scores), conflicting duplicates, too-short rows.

    Rows are the CSV's data rows, 1-based, header not counted.
    Example: legal-tagger audit my.csv --json > findings.jsonl
    """
    from .audit import audit_rows, read_rows

    overrides = dict(p.split("=", 1) for p in params if "=" in p)
    data, rows, warnings = read_rows(csv_path)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    with _progress("cross-validating", folds) as bar:
        result = audit_rows(data, rows, folds=folds, params=overrides, taxonomy_path=str(taxonomy_file) if taxonomy_file else None,
                            progress=lambda i, n: bar.update(1))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    findings = result.findings[:top] if top else result.findings
    for f in findings:
        if as_json:
            click.echo(json.dumps(f.to_dict(), ensure_ascii=False))
        else:
            click.echo(f"row {f.row}\t{f.kind}\t{f.label or '-'}\t{f.score:.3f}\t{'|'.join(f.given) or '(none)'}\t{f.detail}\t{f.text}")
    click.echo(f"{len(result.findings)} finding(s) in {len(data)} rows: " + ", ".join(f"{k}={v}" for k, v in result.summary["by_kind"].items()), err=True)


def _read_training_csvs(paths: list[Path], labels: list[str]):
    """One dataset from one or more CSVs (later duplicates of a text are dropped); label floor checked on the whole."""
    from .data import MIN_PER_LABEL, Dataset, label_count_problems, read_csv
    from .errors import DataError

    if len(paths) == 1:
        return read_csv(paths[0], labels)
    parts = [read_csv(path, labels, min_per_label=0) for path in paths]
    seen: set[str] = set()
    merged = Dataset([], [], [], [], sha256="+".join(p.sha256[:12] for p in parts), warnings=[w for p in parts for w in p.warnings])
    for path, part in zip(paths, parts):
        for text, tags, row_id in zip(part.texts, part.labels, part.ids):
            key = " ".join(text.split())
            if key in seen:
                merged.warnings.append(f"{path.name} row {row_id}: same text as an earlier file's row; ignored")
                continue
            seen.add(key)
            merged.texts.append(text)
            merged.labels.append(tags)
            merged.ids.append(row_id)
            merged.optional.append(set())
    problems = label_count_problems(merged.labels, labels, MIN_PER_LABEL)
    if problems:
        raise DataError("training rows: " + "; ".join(problems), problems)
    return merged


def _warn_small_labels(dataset, labels: list[str], cv: dict | None) -> None:
    """Warn about labels under 30 positive rows, with their cross-validated F1 when --cv measured it."""
    from .gate import WARN_BELOW

    for label in labels:
        n = sum(label in tags for tags in dataset.labels)
        if n < WARN_BELOW:
            f1 = f"cross-validated F1 {cv['per_label'][label]['f1']:.3f}" if cv else "add --cv to measure its F1"
            click.echo(f"warning: label {label!r}: only {n} positive row(s), fewer than {WARN_BELOW}; {f1}; add rows tagged {label!r}", err=True)


def _load_tagger(version: str | None):
    from .tagger import Tagger

    settings = get_settings()
    version = version or artifacts.active_version(settings.models_dir)
    pipe, meta = artifacts.load_model(settings.models_dir, version)
    return Tagger(pipe, meta)


@main.command()
@click.argument("data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "version", help="Model version (default: the active one).")
@click.option("--record", metavar="NAME", help="Store the scores in the model's model.json under metrics.gold.NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), help="Write an HTML report (bars, confusion, calibration, worst mistakes) into DIR.")
@translated
def evaluate(data_path: Path, version: str | None, record: str | None, as_json: bool, report_dir: Path | None) -> None:
    """Score a model on a labeled CSV or JSONL (text, labels, optional `optional`).

    Example: legal-tagger evaluate gold.jsonl --model 20260101-000000-abc123 --report out/
    """
    from .data import read_dataset
    from .evaluate import format_report, score

    tagger = _load_tagger(version)
    dataset = read_dataset(data_path, tagger.labels)
    results = []
    with _progress("classifying", len(dataset)) as bar:
        for start in range(0, len(dataset), 64):
            batch = dataset.texts[start:start + 64]
            results += tagger.classify(batch, explain=8 if report_dir else 0)
            bar.update(len(batch))
    predicted = [set(r.labels) for r in results]
    report = score(dataset.labels, predicted, tagger.labels, dataset.optional)
    report["model"] = tagger.version
    report["file_sha256"] = dataset.sha256
    if report_dir:
        from .report import write_report

        page = write_report(report_dir, dataset.texts, dataset.labels, dataset.optional, results, tagger.labels, report,
                            label_names=tagger.meta.get("label_names"), title=f"{data_path.name} · 模型 {tagger.version}",
                            thresholds=tagger.thresholds)
        click.echo(f"report: {page}", err=True)
    if record:
        artifacts.update_meta(get_settings().models_dir, tagger.version, metrics={**tagger.meta.get("metrics", {}), "gold": {**tagger.meta.get("metrics", {}).get("gold", {}), record: report}})
    click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report, f"{data_path.name} · model {tagger.version}"))


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--jsonl", is_flag=True, help="Input: one JSON object with a 'text' field per line; output: one JSON object per line.")
@click.option("--model", "version", help="Model version (default: the active one).")
@click.option("--batch", default=64, show_default=True, help="Texts vectorized together.")
@click.option("--split", is_flag=True, help="The file is a whole newspaper page: print one JSON line per article.")
@translated
def classify(source, jsonl: bool, version: str | None, batch: int, split: bool) -> None:
    """Print tags for a text file (one article) or, with --jsonl, for each line.

    Examples: legal-tagger classify article.txt
              legal-tagger classify --split page.txt
              cat items.jsonl | legal-tagger classify --jsonl - > tagged.jsonl
    """
    from .data import decode

    tagger = _load_tagger(version)
    raw = decode(source.read(), getattr(source, "name", "input"))
    if split:
        from .segment import segment

        articles = segment(raw)
        for article, result in zip(articles, tagger.classify([a.classify_text for a in articles])):
            record = {k: v for k, v in article.to_dict().items() if k != "text"}
            click.echo(json.dumps({**record, **result.to_dict(), "model": tagger.version}, ensure_ascii=False))
        return
    if not jsonl:
        if not raw.strip():
            raise click.ClickException("input is empty; give a file with article text")
        result = tagger.classify([raw])[0]
        click.echo(json.dumps({**result.to_dict(), "model": tagger.version}, ensure_ascii=False))
        return
    items = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"line {number}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise click.ClickException(f"line {number}: needs a string field 'text'")
        items.append(item)
    out = sys.stdout
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        for item, result in zip(chunk, tagger.classify([i["text"] for i in chunk])):
            record = {k: v for k, v in item.items() if k != "text"}
            record.update(result.to_dict())
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


@main.command()
@translated
def models() -> None:
    """List model versions; the active one is marked with *.

    Example: legal-tagger models
    """
    settings = get_settings()
    active = artifacts.read_active(settings.models_dir)["active"]
    for version in artifacts.list_versions(settings.models_dir):
        meta = artifacts.read_meta(settings.models_dir, version)
        cv = meta.get("metrics", {}).get("cv", {}).get("macro_f1")
        click.echo(f"{'*' if version == active else ' '} {version}  rows={meta.get('training', {}).get('rows')}  cv_macro_f1={cv}")


@main.command()
@click.argument("version")
@translated
def activate(version: str) -> None:
    """Make VERSION the active model (checksum and library versions are verified first).

    Example: legal-tagger activate 20260101-000000-abc123
    """
    state = artifacts.set_active(get_settings().models_dir, version)
    click.echo(f"active: {state['active']}")


@main.command()
@click.option("--host", help="Bind address (default TAGGER_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default TAGGER_PORT or 8000).")
@click.option("--workers", type=int, help="gunicorn worker processes (default: one per CPU core).")
@click.option("--threads", type=int, help="Threads per worker (default 8, TAGGER_THREADS).")
@translated
def serve(host: str | None, port: int | None, workers: int | None, threads: int | None) -> None:
    """Run the REST service under gunicorn, model preloaded in every worker.

    Example: legal-tagger serve --host 0.0.0.0 --port 8000
    """
    from .store import Store, check_data_dir

    settings = get_settings()
    check_data_dir(settings.data_dir)  # DataDirError: one line naming the path and the fix
    if Store(settings.data_dir / "tagger.sqlite3").read_only:  # e.g. the database file alone is read-only
        raise click.ClickException(f"{settings.data_dir / 'tagger.sqlite3'} cannot be written; make it writable by the service user")
    # Metrics from every worker add up only through a shared directory. Each start gets its own
    # (named by this pid, which gunicorn's master keeps after execv); gunicorn_conf.when_ready
    # removes those of dead servers once this one has bound its port, so a start that fails to
    # bind never wipes the running server's metrics.
    metrics_root = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "prometheus")
    metrics_dir = metrics_root / f"{METRICS_PREFIX}{os.getpid()}"
    try:
        metrics_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"metrics directory {metrics_root} (PROMETHEUS_MULTIPROC_DIR): {exc.strerror}; point it at a writable directory") from None
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    argv = [
        sys.executable, "-m", "gunicorn", "--config", "python:service.gunicorn_conf",
        "--bind", f"{host or settings.host}:{port or settings.port}",
        "--workers", str(workers or settings.workers),
        "--threads", str(threads or settings.threads),
        "--log-level", settings.log_level,
        "service.wsgi:app",
    ]
    click.echo(" ".join(argv[2:]), err=True)
    os.execv(sys.executable, argv)


if __name__ == "__main__":  # pragma: no cover
    main()
