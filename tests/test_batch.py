"""`legal-tagger batch` with the local engine: equality with /classify, resume, bad records, --split."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench.archive import articles, pages, write_jsonl
from training.batch.readers import input_files, iter_records
from training.config import Settings
from training.pages.segment import segment

LABELS_N = 4


def read_output(out: Path) -> dict[str, dict]:
    """Rows of a batch output by id (Parquet or JSONL parts), scores as a dict; fails on duplicate ids."""
    rows: dict[str, dict] = {}
    for path in sorted(out.glob("part-*")):
        if path.suffix == ".parquet":
            records = pq.read_table(path).to_pylist()
            for r in records:
                r["scores"] = {k[6:]: r.pop(k) for k in list(r) if k.startswith("score_")}
        else:
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for r in records:
            assert r["id"] not in rows, f"duplicate id {r['id']}"
            rows[r["id"]] = r
    return rows


def read_errors(out: Path) -> list[dict]:
    return sorted((json.loads(line) for p in (out / "_errors").glob("part-*.jsonl") for line in p.read_text(encoding="utf-8").splitlines()),
                  key=lambda e: e["position"])


def batch(runner, *args: str):
    from training.cli import main

    result = runner.invoke(main, ["batch", *map(str, args), "--quiet"])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """2,000 articles recombined from paragraphs of labels/corpus.csv (seeded), half without an id."""
    records = articles(2000, seed=11)
    for i, record in enumerate(records):
        if i % 2:
            del record["id"]
    return write_jsonl(tmp_path_factory.mktemp("archive") / "archive.jsonl", records)


def api_tags(models_dir: Path, tmp_path: Path, texts: list[str]) -> list[dict]:
    from service import create_app

    settings = Settings(models_dir=models_dir, data_dir=tmp_path / "var", max_batch=256)
    client = create_app({"TESTING": True, "TAGGER": settings}).test_client()
    out = []
    for start in range(0, len(texts), 256):
        response = client.post("/classify", json={"texts": texts[start:start + 256]})
        assert response.status_code == 200, response.get_json()
        out += response.get_json()["results"]
    return out


def assert_same(expected: list[dict], rows: dict[str, dict], ids: list[str]) -> None:
    assert sorted(rows) == sorted(ids)
    for want, key in zip(expected, ids):
        got = rows[key]
        assert got["labels"] == want["labels"], key
        assert set(got["scores"]) == set(want["scores"])
        for label, score in want["scores"].items():
            assert abs(got["scores"][label] - score) <= 1e-9, (key, label)


def archive_texts(archive: Path) -> tuple[list[str], list[str]]:
    from training.data import compose

    records = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
    return [compose(r["title"], r["text"]) for r in records], [r.get("id", str(i)) for i, r in enumerate(records)]


def test_local_engine_equals_the_api(runner, models_dir, archive, tmp_path):
    texts, ids = archive_texts(archive)
    expected = api_tags(models_dir, tmp_path, texts)
    batch(runner, archive, tmp_path / "out", "--workers", 2, "--part-rows", 700)
    rows = read_output(tmp_path / "out")
    assert_same(expected, rows, ids)
    assert sorted(p.name for p in (tmp_path / "out").glob("part-*")) == [f"part-0000{i}.parquet" for i in range(3)]
    first = rows[ids[0]]
    assert first["model"] == "tiny-1" and first["position"] == 0 and json.loads(first["extra"]) == {"source": "synthetic"}
    assert rows["1"]["position"] == 1  # no id: its 0-based position
    summary = json.loads((tmp_path / "out" / "_SUCCESS").read_text())
    assert (summary["rows_read"], summary["tagged"], summary["rejected"]) == (2000, 2000, 0)
    assert summary["per_label"] == {label: sum(label in r["labels"] for r in expected) for label in summary["per_label"]}


def test_jsonl_output_has_a_scores_object_and_equals_parquet(runner, archive, tmp_path):
    batch(runner, archive, tmp_path / "pq", "--workers", 1)
    batch(runner, archive, tmp_path / "js", "--workers", 1, "--format", "jsonl")
    line = json.loads(next(iter((tmp_path / "js").glob("part-*.jsonl"))).read_text(encoding="utf-8").splitlines()[0])
    assert set(line["scores"]) == set(line["scores"]) and len(line["scores"]) == LABELS_N
    assert read_output(tmp_path / "pq") == read_output(tmp_path / "js")


def test_resume_after_a_kill_equals_an_uninterrupted_run(runner, models_dir, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", articles(4000, seed=3))
    batch(runner, archive, tmp_path / "whole", "--workers", 1, "--part-rows", 100)
    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "training.cli", "batch", str(archive), str(out), "--workers", "1", "--part-rows", "100", "--quiet"]
    proc = subprocess.Popen(argv, env={**os.environ, "TAGGER_MODELS_DIR": str(models_dir)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(out.glob("part-*.parquet"))) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("part-*.parquet")))
    assert 20 <= finished < 40 and not (out / "_SUCCESS").exists(), f"killed with {finished} of 40 parts"
    (out / ".part-00039.parquet.999.tmp").write_bytes(b"half a file")  # what a crash mid-write leaves
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    result = batch(runner, archive, out, "--workers", 2, "--part-rows", 100, "--resume")
    assert f"{finished} finished part(s) skipped" in result.output
    assert all(out.joinpath(name).stat().st_mtime_ns == stamp for name, stamp in stamps.items())  # kept, not redone
    assert not list(out.glob(".*.tmp"))
    whole, resumed = read_output(tmp_path / "whole"), read_output(out)
    assert len(resumed) == 4000 and resumed == whole
    again = batch(runner, archive, out, "--part-rows", 100, "--resume")  # finished: nothing to do
    assert "rows read 0" in again.output


def test_output_dir_in_use_needs_resume_and_the_same_settings(runner, archive, tmp_path):
    from training.cli import main

    batch(runner, archive, tmp_path / "out", "--workers", 1)
    result = runner.invoke(main, ["batch", str(archive), str(tmp_path / "out")])
    assert result.exit_code == 1 and "pass --resume" in result.output
    result = runner.invoke(main, ["batch", str(archive), str(tmp_path / "out"), "--resume", "--format", "jsonl"])
    assert result.exit_code == 1 and "format='parquet', now 'jsonl'" in result.output


BAD = [
    ("not json", "not JSON"),
    ('["a list"]', "not a JSON object"),
    ('{"id": "x1", "title": "no body"}', "no text"),
    ('{"id": "x2", "text": "   "}', "no text"),
    ('{"id": "x3", "text": "派出所\\ud800民警"}', "lone UTF-16 surrogate \\ud800 at character 3"),
    ('{"id": {"a": 1}, "text": "派出所"}', "id must be a string or an integer"),
    ('{"id": "x5", "text": "' + "法" * 301 + '"}', "301 characters; the limit is 300"),
]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_bad_records_go_to_errors_and_never_stop_the_run(runner, tmp_path, monkeypatch, fmt):
    monkeypatch.setenv("TAGGER_MAX_TEXT_CHARS", "300")
    good = json.dumps({"id": "ok", "text": "法院依法公开审理一起盗窃案。"}, ensure_ascii=False)
    lines = [good] + [line for line, _ in BAD] + ["", good.replace('"ok"', '"ok2"')]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = batch(runner, tmp_path / "in.jsonl", tmp_path / "out", "--format", fmt, "--workers", 2)
    assert "rejected 7" in result.output
    assert sorted(read_output(tmp_path / "out")) == ["ok", "ok2"]
    errors = read_errors(tmp_path / "out")
    assert [e["position"] for e in errors] == list(range(1, 8))
    for error, (_, reason) in zip(errors, BAD):
        assert reason in error["reason"]
    assert [e.get("id") for e in errors] == [None, None, "x1", "x2", "x3", None, "x5"]


def test_csv_and_parquet_inputs_give_the_same_rows(runner, tmp_path):
    import csv

    import pyarrow as pa

    records = articles(60, seed=5)
    with open(tmp_path / "in.csv", "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "title", "text", "source"])
        writer.writeheader()
        writer.writerows(records)
    (tmp_path / "pq").mkdir()
    pq.write_table(pa.Table.from_pylist(records[:25]), tmp_path / "pq" / "a.parquet")
    pq.write_table(pa.Table.from_pylist(records[25:]), tmp_path / "pq" / "b.parquet")
    jsonl = write_jsonl(tmp_path / "in.jsonl", records)
    outs = {}
    for name, source in (("csv", tmp_path / "in.csv"), ("parquet", tmp_path / "pq"), ("jsonl", jsonl)):
        batch(runner, source, tmp_path / f"out-{name}", "--workers", 1)
        outs[name] = read_output(tmp_path / f"out-{name}")
    assert len(outs["jsonl"]) == 60 and outs["csv"] == outs["jsonl"] == outs["parquet"]
    assert [p for p, _ in iter_records(*input_files(tmp_path / "pq"))] == list(range(60))


def test_split_gives_one_row_per_article_with_page_offsets(runner, models_dir, tmp_path):
    from training.batch.model import load_tagger

    page_records = pages(6, seed=2)
    source = write_jsonl(tmp_path / "pages.jsonl", page_records)
    batch(runner, source, tmp_path / "out", "--split", "--format", "jsonl", "--workers", 1)
    rows = read_output(tmp_path / "out")
    tagger = load_tagger(models_dir)
    expected = 0
    for record in page_records:
        arts = segment(record["text"])
        assert len(arts) >= 2
        results = tagger.classify([a.classify_text for a in arts])
        for k, (art, result) in enumerate(zip(arts, results)):
            row = rows[f"{record['id']}#{k}"]
            assert (row["page_id"], row["article_index"], row["start"], row["end"]) == (record["id"], k, art.start, art.end)
            assert row["title"] == (art.title or None) and row["labels"] == result.labels and row["scores"] == result.scores
            expected += 1
    assert len(rows) == expected


def test_batch_never_imports_pyspark(runner, archive, tmp_path):
    code = ("import sys; from click.testing import CliRunner; from training.cli import main; "
            f"r = CliRunner().invoke(main, ['batch', {str(archive)!r}, {str(tmp_path / 'o')!r}, '--workers', '1', '--quiet']); "
            "assert r.exit_code == 0, r.output; assert 'pyspark' not in sys.modules; print('ok')")
    env = {**os.environ, "TAGGER_MODELS_DIR": os.environ.get("TAGGER_MODELS_DIR", "")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("files, message", [
    ({}, "no such file or directory"),
    ({"a.jsonl": "{}\n", "b.csv": "text\nx\n"}, "mixes csv, jsonl files"),
    ({"a.txt": "x"}, "unknown input type .txt"),
    ({"a.csv": "title,body\nx,y\n"}, "no 'text' column"),
])
def test_unusable_input_is_one_line_naming_the_fix(runner, tmp_path, files, message):
    from training.cli import main

    source = tmp_path / "in"
    for name, text in files.items():
        source.mkdir(exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    result = runner.invoke(main, ["batch", str(source), str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_progress_goes_to_stderr_unless_quiet(runner, archive, tmp_path):
    from training.cli import main

    loud = runner.invoke(main, ["batch", str(archive), str(tmp_path / "a"), "--workers", "1"])
    quiet = runner.invoke(main, ["batch", str(archive), str(tmp_path / "b"), "--workers", "1", "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "batch rows 2000 tagged 2000 rejected 0" in loud.stderr and "articles/s" in loud.stderr
    assert quiet.stderr == "" and "rows read 2000" in quiet.stdout


def test_pool_workers_leave_when_the_driver_is_killed(models_dir, tmp_path):
    archive = write_jsonl(tmp_path / "a.jsonl", articles(20000, seed=4))
    argv = [sys.executable, "-m", "training.cli", "batch", str(archive), str(tmp_path / "out"), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(argv, env={**os.environ, "TAGGER_MODELS_DIR": str(models_dir)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def descendants() -> set[int]:
        """The driver's fork server and pool workers (children and grandchildren)."""
        parents = {}
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit():
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        found = {pid for pid, parent in parents.items() if parent == proc.pid}
        return found | {pid for pid, parent in parents.items() if parent in found}

    def alive(pids: set[int]) -> set[int]:
        out = set()
        for pid in pids:
            try:
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    out.add(pid)
            except OSError:
                continue
        return out

    deadline = time.monotonic() + 60
    while len(descendants()) < 3 and time.monotonic() < deadline:  # the fork server and two workers
        time.sleep(0.1)
    pool = descendants()
    assert len(pool) >= 3
    time.sleep(1)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while alive(pool) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(pool) == set()
