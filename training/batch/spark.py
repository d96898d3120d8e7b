"""The Spark engine: Spark's own text/Parquet sources in, `mapInPandas` tagging, Parquet/JSON out.

Each Python worker loads the model (and builds the rjieba dictionary) once, through
`model.cached_tagger`; tasks only carry a small ModelRef. Records are numbered exactly like the
local engine (0-based over files in path order) from Spark's per-file, per-partition row counts,
so ids, errors and results match `--engine local` row for row. File operations go through
Hadoop's FileSystem API, so OUTPUT may be on HDFS or any store the cluster can write.
pyspark is imported here only: the rest of the CLI never needs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from training.config import get_settings
from training.errors import DataError

from . import output
from .job import Job, Progress, Summary
from .model import ModelRef, cached_tagger, model_labels, model_ref
from .readers import FORMATS
from .records import Options, process

ROWS_DIR, ERRORS_TMP = "_tmp_rows", "_tmp_errors"
ARROW_BATCH_BYTES = 8 << 20  # about this much text per Arrow batch sent to Python
PARTITION_BYTES = 64 << 20  # at most this much input per task, and at least 3 tasks per core


class HadoopFS:
    """The few file operations the engine needs, on whatever file system a URI names."""

    def __init__(self, spark: Any, uri: str):
        sc = spark.sparkContext
        self._Path = sc._jvm.org.apache.hadoop.fs.Path
        self._io = sc._jvm.org.apache.commons.io.IOUtils
        self.fs = self._Path(uri).getFileSystem(sc._jsc.hadoopConfiguration())

    def exists(self, uri: str) -> bool:
        return self.fs.exists(self._Path(uri))

    def files(self, uri: str) -> list[tuple[str, int]]:
        """(uri, size) of the files under uri (or uri itself), hidden ones (. or _) skipped, sorted."""
        root = self.fs.makeQualified(self._Path(uri)).toString().rstrip("/")
        out, it = [], self.fs.listFiles(self._Path(uri), True)
        while it.hasNext():
            status = it.next()
            path = status.getPath().toString()
            relative = path[len(root):].strip("/").split("/") if path != root else []
            if not any(part[:1] in "._" for part in relative):
                out.append((path, int(status.getLen())))
        return sorted(out, key=lambda f: unquote(f[0]))

    def children(self, uri: str) -> list[str]:
        if not self.exists(uri):
            return []
        return [s.getPath().toString() for s in self.fs.listStatus(self._Path(uri))]

    def rename(self, src: str, dst: str) -> None:
        if not self.fs.rename(self._Path(src), self._Path(dst)):
            raise DataError(f"could not move {src} to {dst}; check that OUTPUT is writable")

    def delete(self, uri: str) -> None:
        self.fs.delete(self._Path(uri), True)

    def mkdirs(self, uri: str) -> None:
        self.fs.mkdirs(self._Path(uri))

    def write_text(self, uri: str, text: str) -> None:
        """Write through a hidden temp name, then rename (atomic on HDFS and local disks)."""
        parent, name = uri.rsplit("/", 1)
        tmp = f"{parent}/.{name}.tmp"
        stream = self.fs.create(self._Path(tmp), True)
        stream.write(bytearray(text.encode("utf-8")))
        stream.hsync()
        stream.close()
        self.fs.delete(self._Path(uri), False)
        self.rename(tmp, uri)

    def read_text(self, uri: str) -> str:
        stream = self.fs.open(self._Path(uri))
        try:
            return bytes(self._io.toByteArray(stream)).decode("utf-8")
        finally:
            stream.close()


def session(job: Job, quiet: bool) -> tuple[Any, bool]:
    """The active SparkSession (spark-submit, tests) or a new one: (session, created here)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if not os.environ.get("JAVA_HOME"):  # Spark 4 needs Java 17 or 21; prefer Debian's 17 over another default java
        found = sorted(Path("/usr/lib/jvm").glob("java-17-openjdk-*/bin/java"))
        if found:
            os.environ["JAVA_HOME"] = str(found[0].parents[1])
    builder = SparkSession.builder.appName("legal-tagger batch")
    # Under spark-submit the launcher chose the master; otherwise local[*] unless --master says.
    master = job.master or (None if os.environ.get("PYSPARK_GATEWAY_PORT") else "local[*]")
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use this interpreter's packages
        builder = builder.config("spark.ui.enabled", "false").config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
    builder = (builder
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.showConsoleProgress", "false")  # our own line: rows and articles/s
               .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
               .config("spark.sql.session.timeZone", "UTC"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR" if quiet else "WARN")
    return spark, True


def _resources() -> dict[str, bytes]:
    """The tokenizer dictionary and taxonomy, shipped to executors that lack this checkout's labels/."""
    settings = get_settings()
    out = {}
    for path in (settings.legal_dict_path, settings.taxonomy_path):
        if path.is_file():
            out[path.name] = path.read_bytes()
    return out


def _use_resources(resources: dict[str, bytes]) -> None:
    """On an executor: point TAGGER_LABELS_DIR at files equal to the driver's (before any tokenizing)."""
    labels_dir = get_settings().labels_dir
    if all((labels_dir / name).is_file() and (labels_dir / name).read_bytes() == data for name, data in resources.items()):
        return
    digest = hashlib.sha256(b"".join(resources.values())).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"legal-tagger-labels-{digest}"
    target.mkdir(exist_ok=True)
    for name, data in resources.items():
        if not (target / name).is_file() or (target / name).read_bytes() != data:
            tmp = target / f".{name}.{os.getpid()}"
            tmp.write_bytes(data)
            os.replace(tmp, target / name)
    os.environ["TAGGER_LABELS_DIR"] = str(target)


def spark_schema(labels: list[str], split: bool):
    """The mapInPandas output: the output columns plus `_reason` (set on rejected records)."""
    from pyspark.sql import types as T

    kinds = {"string": T.StringType(), "long": T.LongType(), "int": T.IntegerType(), "double": T.DoubleType(),
             "strings": T.ArrayType(T.StringType())}
    fields = [T.StructField(name, kinds[kind]) for name, kind in output.columns(labels, split)]
    return T.StructType(fields + [T.StructField("_reason", T.StringType())])


def make_tagger_fn(ref: ModelRef, options: Options, labels: list[str], chunks: dict, fmt_in: str, resources: dict[str, bytes],
                   counters: tuple = ()):
    """The function mapInPandas runs per task: Arrow batches in, tagged rows and errors out."""
    names = [name for name, _ in output.columns(labels, options.split)]

    def tag_batches(batches):
        import pandas as pd

        _use_resources(resources)
        tagger = cached_tagger(ref)  # once per Python worker, reused by every later task
        from .output import flat

        for pdf in batches:
            raws = []
            for file, pid, mid, payload in zip(pdf["_file"], pdf["_pid"], pdf["_mid"], _payloads(pdf, fmt_in)):
                base, first = chunks[(file, int(pid))]
                raws.append((base + int(mid) - first, payload))
            rows, errors = process(raws, tagger, options)
            for counter, value in zip(counters, (len(raws), len(rows), len(errors))):
                counter.add(value)  # seen by the driver's progress line as tasks finish
            records = [flat(r, labels) for r in rows]
            records += [{"position": e["position"], "id": e.get("id"), "_reason": e["reason"]} for e in errors]
            # object columns keep None as None (a float NaN would not convert to an array or a long)
            yield pd.DataFrame({n: pd.Series([r.get(n) for r in records], dtype=object) for n in [*names, "_reason"]})

    return tag_batches


def _payloads(pdf, fmt_in: str) -> list:
    """The raw payloads of a pandas batch: JSONL lines, or dicts of Parquet fields."""
    if fmt_in == "jsonl":
        return list(pdf["value"])
    extras = list(pdf["_extra"]) if "_extra" in pdf else None
    records = pdf.drop(columns=["_file", "_pid", "_mid", "_extra"], errors="ignore").to_dict("records")
    for item, extra in zip(records, extras or []):
        if isinstance(extra, str):
            item.update(json.loads(extra))
    return records


def run_spark(job: Job) -> tuple[Summary, list[str], str]:
    """Tag job.input into job.output on Spark; returns (summary, labels, model)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise DataError("--engine spark needs pyspark: pip install 'legal-news-tagger[spark]' (and Java 17)") from None
    from pyspark.sql import functions as F

    ref = model_ref(job.models_dir, job.version)
    labels = model_labels(ref)
    options = Options(split=job.split, max_chars=job.max_chars)
    summary = Summary()
    spark, created = session(job, job.quiet)
    try:
        fs = HadoopFS(spark, str(job.input))
        files = fs.files(str(job.input)) if fs.exists(str(job.input)) else []
        if not files:
            raise DataError(f"{job.input}: no input files; give .jsonl or .parquet files")
        kinds = {FORMATS.get(os.path.splitext(uri)[1].lower()) for uri, _ in files}
        if len(kinds) != 1 or None in kinds:
            raise DataError(f"{job.input}: give files of one type, .jsonl or .parquet (found {', '.join(sorted(str(k) for k in kinds))})")
        fmt_in = kinds.pop()
        if fmt_in == "csv":
            raise DataError(f"{job.input}: the Spark engine reads JSONL and Parquet; use --engine local for CSV, or convert it")
        out = HadoopFS(spark, str(job.output))
        root = out.fs.makeQualified(out._Path(str(job.output))).toString().rstrip("/")
        manifest = {"engine": "spark", "format": job.fmt, "split": job.split, "max_chars": job.max_chars, "model": ref.version,
                    "model_sha256": ref.sha256, "input_format": fmt_in, "input": [list(f) for f in files]}
        if _prepare(out, root, manifest, job.resume):
            return summary.finish(), labels, ref.version

        total_bytes = sum(size for _, size in files)
        parallelism = spark.sparkContext.defaultParallelism
        tasks = max(3 * parallelism, -(-total_bytes // PARTITION_BYTES))
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(max(1 << 20, -(-total_bytes // tasks))))
        spark.conf.set("spark.sql.files.openCostInBytes", str(1 << 20))
        paths = [uri for uri, _ in files]
        if fmt_in == "jsonl":
            df = spark.read.option("lineSep", "\n").text(paths)
            payload = [F.col("value")]
        else:
            df = spark.read.parquet(*paths)
            payload = _parquet_payload(df)
        df = df.select(*payload, F.col("_metadata.file_path").alias("_file"), F.spark_partition_id().alias("_pid"),
                       F.monotonically_increasing_id().alias("_mid"))
        counts = df.groupBy("_file", "_pid").agg(F.count(F.lit(1)).alias("n"), F.min("_mid").alias("first")).collect()
        chunks, base = {}, 0
        for row in sorted(counts, key=lambda r: (unquote(r["_file"]), r["_pid"])):
            chunks[(row["_file"], int(row["_pid"]))] = (base, int(row["first"]))
            base += int(row["n"])
        summary.read = base
        per_record = total_bytes / max(base, 1) * (4 if job.split else 1)
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(int(min(10_000, max(64, ARROW_BATCH_BYTES / per_record)))))

        sc = spark.sparkContext
        counters = (sc.accumulator(0), sc.accumulator(0), sc.accumulator(0))
        fn = make_tagger_fn(ref, options, labels, chunks, fmt_in, _resources(), counters)
        watcher = _ProgressThread(job.quiet, counters)
        result = df.mapInPandas(fn, spark_schema(labels, job.split)).persist()
        good = result.where(F.col("_reason").isNull()).drop("_reason")
        watcher.start()
        if job.fmt == "parquet":
            good.write.mode("overwrite").option("compression", "zstd").parquet(f"{root}/{ROWS_DIR}")
        else:
            names = [n for n, _ in output.columns(labels, job.split) if not n.startswith("score_") and n not in ("model", "extra")]
            scores = F.struct(*[F.col(f"score_{label}").alias(label) for label in labels]).alias("scores")
            (good.select(*names, scores, "model", "extra").write.mode("overwrite")
             .option("ignoreNullFields", "false").json(f"{root}/{ROWS_DIR}"))
        bad = result.where(F.col("_reason").isNotNull()).select("position", "id", F.col("_reason").alias("reason"))
        bad.orderBy("position").coalesce(1).write.mode("overwrite").json(f"{root}/{ERRORS_TMP}")
        summary.rejected = bad.count()
        for row in good.select(F.explode("labels").alias("label")).groupBy("label").count().collect():
            summary.per_label[row["label"]] = int(row["count"])
        summary.tagged = good.count()
        watcher.stop()
        result.unpersist()
        _publish(out, root, job.fmt)
        summary.finish()
        out.write_text(f"{root}/{output.SUCCESS}", json.dumps(summary.to_dict(labels, ref.version, "spark"), ensure_ascii=False, indent=1))
        return summary, labels, ref.version
    finally:
        if created:
            spark.stop()


class _ProgressThread(threading.Thread):
    """Prints rows and articles/s from the tasks' accumulators while Spark jobs run."""

    def __init__(self, quiet: bool, counters: tuple):
        super().__init__(daemon=True)
        self.progress, self.counters, self.done = Progress(quiet), counters, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.progress.update(self._summary())

    def _summary(self) -> Summary:
        read, tagged, rejected = (c.value for c in self.counters)
        return Summary(read=read, tagged=tagged, rejected=rejected)

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join()
        self.progress.update(self._summary(), force=True)
        self.progress.close()


def _parquet_payload(df) -> list:
    """text, title, id (integers as strings, like the local reader), the other columns as one JSON."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cols, others = [], []
    for field in df.schema.fields:
        if field.name == "id" and isinstance(field.dataType, (T.IntegerType, T.LongType, T.ShortType, T.ByteType)):
            cols.append(F.col("id").cast("string").alias("id"))
        elif field.name in ("text", "title", "id"):
            cols.append(F.col(field.name))
        else:
            others.append(field.name)
    if others:
        cols.append(F.to_json(F.struct(*[F.col(n) for n in others])).alias("_extra"))
    return cols


def _prepare(out: HadoopFS, root: str, manifest: dict, resume: bool) -> bool:
    """Like output.prepare_output, through Hadoop's FS: True when the run already finished."""
    existing = out.children(root)
    if existing:
        if not resume:
            raise DataError(f"{root}: not empty; pass --resume to continue that run, or give a new directory")
        try:
            previous = json.loads(out.read_text(f"{root}/{output.MANIFEST}"))
        except Exception:
            raise DataError(f"{root}: has no readable {output.MANIFEST}, so it is not a batch output to resume; give a new directory") from None
        for key, value in manifest.items():
            if previous.get(key) != value:
                raise DataError(f"{root}: was started with {key}={previous.get(key)!r}, now {value!r}; rerun with the same settings or a new directory")
        if out.exists(f"{root}/{output.SUCCESS}"):
            return True
        # Spark commits a job's files all at once, so an unfinished Spark run has nothing to keep: redo it.
        for uri in existing:
            if not uri.endswith("/" + output.MANIFEST):
                out.delete(uri)
        return False
    out.mkdirs(root)
    out.write_text(f"{root}/{output.MANIFEST}", json.dumps(manifest, ensure_ascii=False, indent=1))
    return False


def _publish(out: HadoopFS, root: str, fmt: str) -> None:
    """Move Spark's committed part files into OUTPUT (JSON parts renamed .jsonl) and errors into _errors/."""
    for uri in out.children(f"{root}/{ROWS_DIR}"):
        name = uri.rsplit("/", 1)[1]
        if name.startswith("part-"):
            out.rename(uri, f"{root}/{name[:-5] + '.jsonl' if name.endswith('.json') else name}")
    out.mkdirs(f"{root}/{output.ERRORS}")
    for uri in out.children(f"{root}/{ERRORS_TMP}"):
        name = uri.rsplit("/", 1)[1]
        if name.startswith("part-") and out.fs.getFileStatus(out._Path(uri)).getLen() > 0:
            out.rename(uri, f"{root}/{output.ERRORS}/{name[:-5] + '.jsonl' if name.endswith('.json') else name}")
    out.delete(f"{root}/{ROWS_DIR}")
    out.delete(f"{root}/{ERRORS_TMP}")

