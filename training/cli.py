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
    """Check a labeled CSV without training: every problem, one per line, then a count.

    \b
    Example:
      legal-tagger validate labels/corpus.csv
    """
    from .data import read_csv
    from .errors import DataError

    settings = get_settings()
    labels = label_ids(taxonomy_file or settings.taxonomy_path)
    try:
        dataset = read_csv(csv_path, labels, max_problems=10**9)
    except DataError as exc:
        for problem in exc.problems:
            click.echo(f"{csv_path}: {problem}")
        raise click.ClickException(f"{csv_path}: {len(exc.problems)} problem(s)") from None
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = {label: sum(label in s for s in dataset.labels) for label in labels}
    for label, n in counts.items():
        if n < FEW_POSITIVES:
            click.echo(f"warning: label {label!r}: {n} positive rows; fewer than {FEW_POSITIVES} trains a weak model", err=True)
    click.echo(f"{csv_path}: {len(dataset)} rows OK, 0 problems; per label: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@main.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("more_csv", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "--models-dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Models directory (default: TAGGER_MODELS_DIR or the repo's models/, as every command).")
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

    \b
    Examples:
      legal-tagger train labels/corpus.csv
      legal-tagger train my.csv --models-dir /srv/tagger/models --no-activate
      legal-tagger train labels/corpus.csv labels/examples/judicial_admin.csv --taxonomy labels/examples/taxonomy_judicial_admin.toml
    """
    from . import pipeline as model_pipeline
    from .data import read_csv
    from .evaluate import format_report
    from .tokenize import resolve_backend

    settings = get_settings()
    out_dir = out_dir or settings.writable_models_dir()
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

    \b
    Example:
      legal-tagger audit my.csv --json > findings.jsonl
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


def _load_tagger(version: str | None, models_dir: Path | None = None):
    from .tagger import Tagger

    models_dir = models_dir or get_settings().models_dir
    version = version or artifacts.active_version(models_dir)
    pipe, meta = artifacts.load_model(models_dir, version)
    return Tagger(pipe, meta)


def models_dir_option(func):
    """--models-dir on a command that reads models (default: TAGGER_MODELS_DIR or the repo's models/)."""
    return click.option("--models-dir", "models_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Models directory (default: TAGGER_MODELS_DIR or the repo's models/).")(func)


FEW_POSITIVES = 30  # train and validate warn below this many positive rows per label


@main.command()
@click.argument("data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "version", help="Model version (default: the active one).")
@click.option("--record", metavar="NAME", help="Store the scores in the model's model.json under metrics.gold.NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), help="Write an HTML report (bars, confusion, calibration, worst mistakes) into DIR.")
@models_dir_option
@translated
def evaluate(data_path: Path, version: str | None, record: str | None, as_json: bool, report_dir: Path | None, models_dir: Path | None) -> None:
    """Score a model on a labeled CSV or JSONL (text, labels, optional `optional`).

    \b
    Example:
      legal-tagger evaluate gold.jsonl --model 20260101-000000-abc123 --report out/
    """
    from .data import read_dataset
    from .evaluate import format_report, score

    tagger = _load_tagger(version, models_dir)
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
        artifacts.update_meta(models_dir or get_settings().models_dir, tagger.version, metrics={**tagger.meta.get("metrics", {}), "gold": {**tagger.meta.get("metrics", {}).get("gold", {}), record: report}})
    click.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report, f"{data_path.name} · model {tagger.version}"))


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--jsonl", is_flag=True, help="Input: one JSON object with a 'text' field per line (streamed); output: one JSON object per line.")
@click.option("--model", "version", help="Model version (default: the active one).")
@click.option("--batch", default=64, show_default=True, type=click.IntRange(1, 10_000), help="Texts vectorized together.")
@click.option("--split", is_flag=True, help="The file is a whole newspaper page: print one JSON line per article.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="One threshold for every label instead of the tuned ones.")
@click.option("--explain", is_flag=True, help="Add the words each returned label leaned on (with offsets and the share they explain).")
@click.option("--keywords", type=click.IntRange(0, 50), default=0, help="Add the top-K key terms of each text.")
@click.option("--entities", is_flag=True, help="Add the 政法 institutions and places each text names.")
@click.option("--skip-bad", is_flag=True, help="With --jsonl: report a bad line on stderr and go on (default: stop at it).")
@click.option("--debug", is_flag=True, help="With --split: add 'why' to each article (why it starts there, which headlines are section headings).")
@models_dir_option
@translated
def classify(source, jsonl: bool, version: str | None, batch: int, split: bool, threshold: float | None, explain: bool,
             keywords: int, entities: bool, skip_bad: bool, debug: bool, models_dir: Path | None) -> None:
    """Print tags for a text file (one article) or, with --jsonl, for each line.

    Every output line carries "model", the version that tagged it.

    \b
    Examples:
      legal-tagger classify article.txt
      legal-tagger classify --explain --keywords 5 --entities article.txt
      legal-tagger classify --split page.txt
      legal-tagger classify --split --debug page.txt
      cat items.jsonl | legal-tagger classify --jsonl --skip-bad - > tagged.jsonl
    """
    from .data import decode

    if debug and not split:
        raise click.UsageError("--debug explains how a page was split; use it with --split")
    tagger = _load_tagger(version, models_dir)
    options = _ClassifyOptions(tagger, threshold, 8 if explain else 0, keywords, entities)
    if jsonl:
        _classify_jsonl(source, options, batch, skip_bad)
        return
    raw = decode(source.read(), getattr(source, "name", "input"))
    if split:
        from .pages.segment import segment

        articles = segment(raw)
        outputs = options.run([a.classify_text for a in articles])
        for article, output in zip(articles, outputs):
            record = {k: v for k, v in article.to_dict(debug=debug).items() if k != "text"}
            click.echo(json.dumps({**record, **output}, ensure_ascii=False))
        return
    if not raw.strip():
        raise click.ClickException("input is empty; give a file with article text")
    click.echo(json.dumps(options.run([raw])[0], ensure_ascii=False))


# --- classify helpers (issue 17 §4): options shared by every input mode, streamed JSONL -------------

class _ClassifyOptions:
    """What `classify` adds to each result: threshold, evidence, key terms, entities, the model version."""

    def __init__(self, tagger, threshold: float | None, explain: int, keywords: int, entities: bool) -> None:
        self.tagger, self.threshold, self.explain, self.keywords, self.entities = tagger, threshold, explain, keywords, entities

    def run(self, texts: list[str]) -> list[dict]:
        results = self.tagger.classify(texts, threshold=self.threshold, explain=self.explain, keywords=self.keywords)
        outputs = []
        for text, result in zip(texts, results):
            output = result.to_dict()
            if self.entities:
                from .pages.entities import extract_entities

                output["entities"] = extract_entities(text)
            output["model"] = self.tagger.version
            outputs.append(output)
        return outputs


def _jsonl_items(source, skip_bad: bool):
    """(line number, item) of each good input line, read line by line (never the whole input)."""
    for number, line in enumerate(source, start=1):
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            problem = "not UTF-8; save the file as UTF-8"
        else:
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                problem = f"invalid JSON ({exc.msg} at column {exc.colno})"
            else:
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    yield number, item
                    continue
                problem = "needs a string field 'text' (one JSON object per line)"
        if not skip_bad:
            raise click.ClickException(f"line {number}: {problem} (use --skip-bad to skip bad lines and go on)")
        click.echo(f"line {number}: {problem}; skipped", err=True)


def _classify_jsonl(source, options: _ClassifyOptions, batch: int, skip_bad: bool) -> None:
    out = sys.stdout
    chunk: list[dict] = []

    def flush() -> None:
        for item, output in zip(chunk, options.run([i["text"] for i in chunk])):
            record = {k: v for k, v in item.items() if k != "text"}
            record.update(output)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()  # results of a long stream appear as they are made
        chunk.clear()

    try:
        for _, item in _jsonl_items(source, skip_bad):
            chunk.append(item)
            if len(chunk) >= batch:
                flush()
    finally:  # a bad line stops the run, but the lines before it are written
        if chunk:
            flush()


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
@models_dir_option
@translated
def activate(version: str, models_dir: Path | None) -> None:
    """Make VERSION the active model (format and checksums are verified first).

    \b
    Example:
      legal-tagger activate 20260101-000000-abc123
    """
    state = artifacts.set_active(models_dir or get_settings().models_dir, version)
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


# --------------------------------------------------------------------------------------------
# batch: tag a whole archive (training/batch/); pyspark is imported only by --engine spark.


@main.command()
@click.argument("input_path", metavar="INPUT")  # strings: Spark takes URIs (hdfs://…) that Path would mangle
@click.argument("output_path", metavar="OUTPUT")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True, help="local: a process pool on this machine; spark: PySpark (pip install '.[spark]').")
@click.option("--format", "fmt", type=click.Choice(["parquet", "jsonl"]), default="parquet", show_default=True, help="Output part files.")
@click.option("--split", is_flag=True, help="Each record is a whole page: one output row per article.")
@click.option("--resume", is_flag=True, help="Continue a killed run in OUTPUT: finished parts are kept, the rest redone.")
@click.option("--workers", type=click.IntRange(min=1), help="Local engine: worker processes (default: one per CPU core).")
@click.option("--master", help="Spark engine: master URL (default local[*]; under spark-submit, its --master).")
@click.option("--model", "version", help="Model version (default: the active one).")
@click.option("--part-rows", type=click.IntRange(min=1), default=10_000, show_default=True, help="Local engine: input records per part file.")
@click.option("--quiet", is_flag=True, help="No progress line on stderr.")
@models_dir_option
@translated
def batch(input_path: str, output_path: str, engine: str, fmt: str, split: bool, resume: bool, workers: int | None,
          master: str | None, version: str | None, part_rows: int, quiet: bool, models_dir: Path | None) -> None:
    """Tag an archive (JSONL, CSV or Parquet; a file or a directory) into OUTPUT part files.

    Examples: legal-tagger batch archive/ tagged/
              legal-tagger batch pages.jsonl tagged/ --split --format jsonl
              legal-tagger batch archive/ tagged/ --engine spark --master local[4]
    """
    from .batch.job import Job, run

    settings = get_settings()
    job = Job(input=input_path, output=output_path, models_dir=models_dir or settings.models_dir, version=version, engine=engine, fmt=fmt,
              split=split, resume=resume, workers=workers, master=master, max_chars=settings.max_text_chars,
              part_rows=part_rows, quiet=quiet)
    summary, labels, model = run(job)
    for line in summary.lines(labels):
        click.echo(line)
    click.echo(f"model {model}; output {output_path}" + (f"; rejected records in {output_path.rstrip('/')}/_errors/" if summary.rejected else ""))


# --- issue 17 §4: segment, jobs, rollback, delete, feedback export -------------------------------
# Kept together and apart from other commands so parallel additions merge cleanly. `jobs` and
# `feedback` read the service's SQLite store directly (TAGGER_DATA_DIR or --data-dir, on the
# machine that runs the service); `rollback` and `delete` change the models directory, which a
# running service picks up within seconds (it re-reads active.json).

def data_dir_option(func):
    """--data-dir: the service's data directory (default TAGGER_DATA_DIR)."""
    return click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                        help="The service's data directory holding tagger.sqlite3 (default: TAGGER_DATA_DIR).")(func)


def _open_store(data_dir: Path | None):
    """The service's store, read as it is; a missing database is an error naming the setting, not a new file."""
    from .store import Store

    data_dir = data_dir or get_settings().data_dir
    path = data_dir / "tagger.sqlite3"
    if not path.is_file():
        raise click.ClickException(f"{path}: no such database; point --data-dir (or TAGGER_DATA_DIR) at the service's data directory")
    return Store(path)


@main.command("segment")
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--text/--no-text", "with_text", default=True, show_default=True, help="Include each article's text.")
@translated
def segment_command(source, with_text: bool) -> None:
    """Split a whole newspaper page into articles: one JSON line per article (offsets into the page).

    \b
    Examples:
      legal-tagger segment page.txt
      legal-tagger segment --no-text page.txt | jq .title
    """
    from .data import decode
    from .pages.segment import segment

    raw = decode(source.read(), getattr(source, "name", "input"))
    if not raw.strip():
        raise click.ClickException("input is empty; give a file with a page of text")
    for article in segment(raw):
        record = article.to_dict()
        if not with_text:
            record.pop("text")
        click.echo(json.dumps(record, ensure_ascii=False))


@main.group("jobs", invoke_without_command=True)
@data_dir_option
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="How many recent jobs to list.")
@click.pass_context
@translated
def jobs_group(ctx: click.Context, data_dir: Path | None, limit: int) -> None:
    """Training jobs of the service (POST /train): list them, show one, follow one to the end.

    \b
    Examples:
      legal-tagger jobs
      legal-tagger jobs show 3f2a9c1b7d4e
      legal-tagger jobs follow 3f2a9c1b7d4e
    """
    ctx.obj = data_dir
    if ctx.invoked_subcommand is not None:
        return
    from .jsonout import job_json

    found = _open_store(data_dir).list_jobs(limit)
    if not found:
        click.echo("no training jobs yet")
    for job in map(job_json, found):
        version = f"  version={job['version']}" if job.get("version") else ""
        click.echo(f"{job['id']}  {job['state']:<10}  {round(100 * (job.get('progress') or 0)):>3}%  {job['created']}{version}  {job.get('message') or ''}".rstrip())


def _job_or_fail(data_dir: Path | None, job_id: str) -> dict:
    job = _open_store(data_dir).get_job(job_id)
    if not job:
        raise click.ClickException(f"no job {job_id!r}; `legal-tagger jobs` lists them")
    return job


@jobs_group.command("show")
@click.argument("job_id")
@data_dir_option
@click.pass_obj
@translated
def jobs_show(group_data_dir: Path | None, job_id: str, data_dir: Path | None) -> None:
    """Print one job as JSON (as GET /jobs/<id> answers it).

    \b
    Example:
      legal-tagger jobs show 3f2a9c1b7d4e
    """
    from .jsonout import job_json

    click.echo(json.dumps(job_json(_job_or_fail(data_dir or group_data_dir, job_id)), ensure_ascii=False, indent=2))


@jobs_group.command("follow")
@click.argument("job_id")
@data_dir_option
@click.option("--interval", type=click.FloatRange(0.05, 60), default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--timeout", type=click.FloatRange(0), default=0, help="Give up after this many seconds (0: wait until the job ends).")
@click.pass_obj
@translated
def jobs_follow(group_data_dir: Path | None, job_id: str, data_dir: Path | None, interval: float, timeout: float) -> None:
    """Show a job's progress bar until it ends; exit status 1 when it failed.

    \b
    Example:
      legal-tagger jobs follow 3f2a9c1b7d4e
    """
    import time

    from .store import TERMINAL

    data_dir = data_dir or group_data_dir
    deadline = time.monotonic() + timeout if timeout else None
    job = _job_or_fail(data_dir, job_id)
    shown = 0
    with click.progressbar(length=100, label=f"job {job_id}", file=sys.stderr, show_eta=False,
                           item_show_func=lambda _: job.get("message") or job["state"]) as bar:
        while True:
            done = round(100 * (job.get("progress") or 0))
            bar.update(max(done - shown, 0), job)
            shown = max(shown, done)
            if job["state"] in TERMINAL:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise click.ClickException(f"job {job_id} is still {job['state']} after {timeout:g} s; follow it again later")
            time.sleep(interval)
            job = _job_or_fail(data_dir, job_id)
    if job["state"] == "failed":
        errors = job.get("errors") or []
        for error in errors if isinstance(errors, list) else [errors]:
            click.echo(f"error: {error}", err=True)
        raise click.ClickException(f"job {job_id} failed: {job.get('message') or 'see `legal-tagger jobs show`'}")
    click.echo(f"job {job_id} done: {job.get('message') or ''} (version {job.get('version')})".replace(":  (", ": ("))


@main.command("rollback")
@models_dir_option
@translated
def rollback_command(models_dir: Path | None) -> None:
    """Re-activate the version that was active before the current one (verified first).

    \b
    Example:
      legal-tagger rollback
    """
    state = artifacts.rollback(models_dir or get_settings().models_dir)
    click.echo(f"active: {state['active']}")


@main.command("delete")
@click.argument("version")
@models_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@translated
def delete_command(version: str, models_dir: Path | None, yes: bool) -> None:
    """Delete a stored model version (never the active one or the rollback target).

    \b
    Example:
      legal-tagger delete 20260101-000000-abc123 --yes
    """
    models_dir = models_dir or get_settings().models_dir
    if not yes:
        click.confirm(f"delete model {version} from {models_dir}?", abort=True, err=True)
    artifacts.delete_version(models_dir, version)
    click.echo(f"deleted: {version}")


@main.group("feedback")
def feedback_group() -> None:
    """Stored corrections (POST /feedback): export them as a training CSV."""


@feedback_group.command("export")
@data_dir_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write to this file (default: stdout).")
@translated
def feedback_export(data_dir: Path | None, output: Path | None) -> None:
    """Write every correction (latest per text) as a training CSV (id,text,labels), as GET /feedback/export does.

    \b
    Examples:
      legal-tagger feedback export -o feedback.csv
      legal-tagger train feedback.csv --no-activate
    """
    from .data import write_csv

    rows = _open_store(data_dir).feedback_rows()
    body = write_csv(["id", "text", "labels"], ([f"fb{row['id']}", row["text"], row["labels"]] for row in rows))
    if output:
        output.write_text(body, encoding="utf-8")
        click.echo(f"{output}: {len(rows)} correction(s)", err=True)
    else:
        click.echo(body, nl=False)


# --- end of issue 17 §4 block -------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()
