"""`legal-tagger batch --engine spark` on local[2]: the same rows as /classify and the local engine.

pyspark and Java 17 are installed by `make test` (make spark-deps), so these run in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.archive import articles, pages, write_jsonl

from test_batch import BAD, api_tags, archive_texts, assert_same, batch, read_errors, read_output

pytest.importorskip("pyspark", reason="pyspark missing: run `make spark-deps` (make test does)")


@pytest.fixture(scope="module")
def spark():
    """One local[2] session for the module (the engine uses an active session instead of its own)."""
    from training.batch.spark import session
    from training.batch.job import Job

    spark, _ = session(Job(input=Path("."), output=Path("."), models_dir=Path("."), master="local[2]"), quiet=True)
    yield spark
    spark.stop()


def test_spark_equals_local_and_the_api(spark, runner, models_dir, tmp_path):
    records = articles(2000, seed=11)
    for i, record in enumerate(records):
        if i % 2:
            del record["id"]
    source = tmp_path / "in"
    write_jsonl(source / "a.jsonl", records[:1200])
    write_jsonl(source / "b.jsonl", records[1200:])  # two files: positions continue across them
    texts, ids = archive_texts(source / "a.jsonl")
    more, more_ids = archive_texts(source / "b.jsonl")
    ids += [str(1200 + int(i)) if i.isdigit() else i for i in more_ids]
    expected = api_tags(models_dir, tmp_path, texts + more)
    batch(runner, source, tmp_path / "local", "--workers", 2)
    batch(runner, source, tmp_path / "spark", "--engine", "spark")
    local, distributed = read_output(tmp_path / "local"), read_output(tmp_path / "spark")
    assert_same(expected, distributed, ids)
    assert distributed == local  # every column: ids, positions, labels, scores, model, extra
    summary = json.loads((tmp_path / "spark" / "_SUCCESS").read_text())
    assert (summary["engine"], summary["rows_read"], summary["tagged"], summary["rejected"]) == ("spark", 2000, 2000, 0)
    assert list((tmp_path / "spark").glob("part-*.parquet"))


def test_spark_jsonl_split_and_bad_records_match_local(spark, runner, tmp_path):
    lines = [json.dumps(p, ensure_ascii=False) for p in pages(4, seed=2)]
    lines[1:1] = [line for line, _ in BAD[:-1]]  # the length case is tested with the local engine
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for engine in ("local", "spark"):
        batch(runner, tmp_path / "in.jsonl", tmp_path / engine, "--engine", engine, "--split", "--format", "jsonl")
    local, distributed = read_output(tmp_path / "local"), read_output(tmp_path / "spark")
    assert distributed == local and len(local) > 8 and all("#" in key for key in local)
    assert list((tmp_path / "spark").glob("part-*.jsonl")) and (tmp_path / "spark" / "_SUCCESS").exists()
    assert read_errors(tmp_path / "spark") == read_errors(tmp_path / "local")
    assert [e["position"] for e in read_errors(tmp_path / "spark")] == list(range(1, 7))


def test_spark_resume_keeps_a_finished_run_and_redoes_an_unfinished_one(spark, runner, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", articles(50, seed=1))
    batch(runner, source, tmp_path / "out", "--engine", "spark")
    rows = read_output(tmp_path / "out")
    again = batch(runner, source, tmp_path / "out", "--engine", "spark", "--resume")
    assert "rows read 0" in again.output and read_output(tmp_path / "out") == rows
    (tmp_path / "out" / "_SUCCESS").unlink()  # as if killed before the end
    batch(runner, source, tmp_path / "out", "--engine", "spark", "--resume")
    assert read_output(tmp_path / "out") == rows and (tmp_path / "out" / "_SUCCESS").exists()
