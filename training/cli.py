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
from .taxonomy import label_ids, load_taxonomy


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
@translated
def validate(csv_path: Path) -> None:
    """Check a labeled CSV without training.

    Example: legal-tagger validate labels/corpus.csv
    """
    from .data import read_csv

    settings = get_settings()
    dataset = read_csv(csv_path, label_ids(settings.taxonomy_path))
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = {label: sum(label in s for s in dataset.labels) for label in label_ids(settings.taxonomy_path)}
    click.echo(f"{csv_path}: {len(dataset)} rows OK; per label: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@main.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Models directory (default: TAGGER_MODELS_DIR or models/).")
@click.option("--version", "version", help="Version name (default: UTC time + random suffix).")
@click.option("--activate/--no-activate", default=True, show_default=True, help="Make the new version the active one.")
@click.option("--cv/--no-cv", "run_cv", default=False, show_default=True, help="Also report whole-pipeline 5-fold CV metrics (about 10x the fit time).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Hyper-parameter override, e.g. --param C=2.")
@translated
def train(csv_path: Path, out_dir: Path | None, version: str | None, activate: bool, run_cv: bool, params: tuple[str, ...]) -> None:
    """Train a model from a labeled CSV (columns text,labels; optional id,title).

    Example: legal-tagger train labels/corpus.csv --out models/
    """
    from . import pipeline as model_pipeline
    from .data import read_csv
    from .evaluate import format_report
    from .tokenize import resolve_backend

    settings = get_settings()
    out_dir = out_dir or settings.writable_models_dir()
    labels = label_ids(settings.taxonomy_path)
    overrides = dict(p.split("=", 1) for p in params if "=" in p)
    bad = [p for p in params if "=" not in p]
    if bad:
        raise click.ClickException(f"--param {bad[0]!r} must look like NAME=VALUE")
    checked = model_pipeline.check_params(overrides)
    dataset = read_csv(csv_path, labels)
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)
    metrics = {}
    if run_cv:
        with _progress("cross-validating", checked["cv"]) as bar:
            cv = model_pipeline.cross_validate(dataset, labels, overrides, folds=checked["cv"], progress=lambda i, n: bar.update(1))
        click.echo(format_report(cv, "cross-validation on the training CSV"), err=True)
        metrics["cv"] = cv
    click.echo("fitting the final model…", err=True)
    pipe, info = model_pipeline.fit(dataset, labels, overrides)
    meta = {
        "labels": labels,
        "label_names": {label.id: label.name for label in load_taxonomy(settings.taxonomy_path)},
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
@click.option("--debug", is_flag=True, help="With --split: add 'why' to each article (why it starts there, which headlines are section headings).")
@translated
def classify(source, jsonl: bool, version: str | None, batch: int, split: bool, debug: bool) -> None:
    """Print tags for a text file (one article) or, with --jsonl, for each line.

    Examples: legal-tagger classify article.txt
              legal-tagger classify --split page.txt
              legal-tagger classify --split --debug page.txt
              cat items.jsonl | legal-tagger classify --jsonl - > tagged.jsonl
    """
    from .data import decode

    if debug and not split:
        raise click.UsageError("--debug explains how a page was split; use it with --split")
    tagger = _load_tagger(version)
    raw = decode(source.read(), getattr(source, "name", "input"))
    if split:
        from .pages.segment import segment

        articles = segment(raw)
        for article, result in zip(articles, tagger.classify([a.classify_text for a in articles])):
            record = {k: v for k, v in article.to_dict(debug=debug).items() if k != "text"}
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


@main.group(invoke_without_command=True)
@click.option("--models-dir", type=click.Path(file_okay=False, path_type=Path), help="Models directory (default: TAGGER_MODELS_DIR or models/).")
@click.pass_context
@translated
def models(ctx: click.Context, models_dir: Path | None) -> None:
    """List model versions (the active one is marked with *); subcommands migrate, export, import.

    Example: legal-tagger models
    """
    ctx.obj = models_dir or get_settings().models_dir
    if ctx.invoked_subcommand is not None:
        return
    active = artifacts.read_active(ctx.obj)["active"]
    skipped = artifacts.skipped_versions(ctx.obj)
    for version in artifacts.list_versions(ctx.obj):
        if version in skipped:
            continue
        meta = artifacts.read_meta(ctx.obj, version)
        metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        cv = (metrics.get("cv") or {}).get("macro_f1") if isinstance(metrics.get("cv"), dict) else None
        rows = meta["training"].get("rows") if isinstance(meta.get("training"), dict) else None
        click.echo(f"{'*' if version == active else ' '} {version}  format={meta.get('format', 1)}  rows={rows}  cv_macro_f1={cv}")
    for name, reason in skipped.items():
        click.echo(f"! {name}  unusable: {reason}")


def _models_dir_option(func):
    """--models-dir after the subcommand too: `legal-tagger models migrate --models-dir D`."""
    return click.option("--models-dir", "sub_models_dir", type=click.Path(file_okay=False, path_type=Path), help="Models directory.")(func)


@models.command("migrate")
@_models_dir_option
@click.option("--remove-old", is_flag=True, help="Delete each old pickle version once its format-2 copy is written.")
@click.pass_obj
@translated
def models_migrate(models_dir: Path, sub_models_dir: Path | None, remove_old: bool) -> None:
    """Convert old joblib (pickle) versions to format 2; only pickles whose sha256 verifies are read.

    Example: legal-tagger models migrate --models-dir models/
    """
    from .model.migrate import migrate

    models_dir = sub_models_dir or models_dir
    outcomes = migrate(models_dir, remove_old=remove_old)
    for outcome in outcomes:
        click.echo(outcome.line())
    if not outcomes:
        click.echo(f"{models_dir}: no old pickle versions; nothing to migrate")
    if any(o.status == "failed" for o in outcomes):
        raise click.ClickException("some versions could not be migrated (see above)")


@models.command("export")
@click.argument("version")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_models_dir_option
@click.pass_obj
@translated
def models_export(models_dir: Path, version: str, out: Path, sub_models_dir: Path | None) -> None:
    """Write VERSION (verified first) into one .tgz file to copy to another server.

    Example: legal-tagger models export 20260101-000000-abc123 model.tgz
    """
    from .model.bundle import export_version

    click.echo(f"exported {version} to {export_version(sub_models_dir or models_dir, version, out)}")


@models.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_models_dir_option
@click.pass_obj
@translated
def models_import(models_dir: Path, source: Path, sub_models_dir: Path | None) -> None:
    """Add the version in an exported .tgz (format and every checksum verified; not activated).

    Example: legal-tagger models import model.tgz && legal-tagger activate VERSION
    """
    from .model.bundle import import_version

    models_dir = sub_models_dir or models_dir
    version = import_version(models_dir, source)
    click.echo(f"imported {version} into {models_dir}; activate it with `legal-tagger activate {version}`")


@main.command()
@click.argument("version")
@translated
def activate(version: str) -> None:
    """Make VERSION the active model (format and checksums are verified first).

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
