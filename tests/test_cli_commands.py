"""The CLI's whole product (issue 17 §4): segment, jobs, rollback, delete, feedback export, and the
classify / validate / train options. Each test runs the real command on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from training import artifacts
from training.cli import main
from training.config import REPO_ROOT
from training.data import read_csv
from training.store import Store

from conftest import DATA

PAGE = ("县法院公开宣判一起盗窃案\n\n本报讯（记者 李明）近日，县人民法院公开宣判一起盗窃案，被告人被判处有期徒刑两年。\n\n"
        "派出所民警抓获嫌疑人\n\n本报讯（通讯员 王芳）日前，城关派出所民警连夜追踪，抓获盗窃电动车的嫌疑人两名。\n")


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


# --- classify options ---------------------------------------------------------------------------

def test_classify_threshold_explain_keywords_entities(runner, tmp_path):
    src = tmp_path / "a.txt"
    text = "城关县公安局城关派出所民警连夜追踪，抓获盗窃电动车的嫌疑人两名。"
    src.write_text(text, encoding="utf-8")
    everything = json.loads(runner.invoke(main, ["classify", "--threshold", "0", str(src)]).stdout)
    assert len(everything["labels"]) == 4 and everything["model"] == "tiny-1"
    assert json.loads(runner.invoke(main, ["classify", "--threshold", "1", str(src)]).stdout)["labels"] == []
    result = runner.invoke(main, ["classify", "--explain", "--keywords", "3", "--entities", str(src)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["labels"][0] == "policing" and set(out["explained"]) == set(out["labels"])
    for term in out["explain"]["policing"]:
        assert text[term["start"]:term["end"]] == term["term"]
    assert 0 < len(out["keywords"]) <= 3
    assert "城关县公安局城关派出所" in out["entities"]["institutions"]
    assert runner.invoke(main, ["classify", "--threshold", "2", str(src)]).exit_code == 2  # out of [0, 1]


def test_models_dir_option_on_every_command_that_reads_models(runner, models_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(tmp_path / "nowhere"))
    src = tmp_path / "a.txt"
    src.write_text("派出所民警抓获盗窃嫌疑人", encoding="utf-8")
    assert runner.invoke(main, ["classify", str(src)]).exit_code == 1  # nothing in TAGGER_MODELS_DIR
    result = runner.invoke(main, ["classify", "--models-dir", str(models_dir), str(src)])
    assert result.exit_code == 0 and json.loads(result.stdout)["model"] == "tiny-1"
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "派出所民警抓获盗窃嫌疑人", "labels": ["policing"]}\n', encoding="utf-8")
    result = runner.invoke(main, ["evaluate", "--models-dir", str(models_dir), "--json", str(gold)])
    assert result.exit_code == 0 and json.loads(result.stdout)["model"] == "tiny-1"
    result = runner.invoke(main, ["activate", "--models-dir", str(models_dir), "tiny-1"])
    assert result.exit_code == 0 and "active: tiny-1" in result.output


def test_jsonl_every_line_has_the_model_and_bad_lines_are_named_and_skipped(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes('{"id": 1, "text": "法院公开宣判一起盗窃案"}\n{"id": 2, "txt": "x"}\nnot json\n'
                    '{"id": 4, "text": "派出所民警抓获嫌疑人"}\n'.encode() + b'\xff\xfe\n{"id": 6, "text": "\xe6\xa3\x80\xe5\xaf\x9f\xe9\x99\xa2"}\n')
    result = runner.invoke(main, ["classify", "--jsonl", "--skip-bad", str(src)])
    assert result.exit_code == 0, result.output
    out = _lines(result.stdout)
    assert [o["id"] for o in out] == [1, 4, 6] and all(o["model"] == "tiny-1" for o in out)
    assert "line 2: needs a string field 'text' (one JSON object per line); skipped" in result.stderr
    assert "line 3: invalid JSON" in result.stderr and "line 5: not UTF-8" in result.stderr
    # Without --skip-bad the run stops at the first bad line, with the lines before it written.
    result = runner.invoke(main, ["classify", "--jsonl", str(src)])
    assert result.exit_code == 1 and "line 2: needs a string field 'text'" in result.stderr
    assert [o["id"] for o in _lines(result.stdout)] == [1]


def test_jsonl_input_is_streamed(models_dir, tmp_path):
    """The first result comes out while the input is still open: nothing waits for the whole input."""
    env = {**os.environ, "TAGGER_MODELS_DIR": str(models_dir), "TAGGER_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "training.cli", "classify", "--jsonl", "--batch", "1", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
    timer = threading.Timer(120, proc.kill)  # a CLI that reads everything first would block here forever
    timer.start()
    try:
        proc.stdin.write('{"id": 1, "text": "派出所民警抓获嫌疑人"}\n'.encode())
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        assert first["id"] == 1 and first["model"] == "tiny-1"
        proc.stdin.write('{"id": 2, "text": "法院宣判"}\n'.encode())
        proc.stdin.close()
        rest = [json.loads(line) for line in proc.stdout.read().splitlines()]
        assert [r["id"] for r in rest] == [2] and proc.wait() == 0
    finally:
        timer.cancel()
        proc.kill()


# --- validate and train -------------------------------------------------------------------------

def test_validate_prints_every_problem_one_per_line_with_a_count(runner, tmp_path):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("id,text,labels\n1,派出所民警抓获嫌疑人,policing\n2,,courts\n3,法院宣判,nope\n"
                        "4,检察院批捕,procuratorate\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(csv_path)])
    assert result.exit_code == 1
    lines = [l for l in result.stdout.splitlines() if l]
    assert any("row 3: empty text" in l for l in lines) and any("row 4: unknown label(s) 'nope'" in l for l in lines)
    assert sum("label 'courts'" in l for l in lines) == 1 and sum("label 'legal_publicity'" in l for l in lines) == 1
    assert len(lines) == 6  # two row problems, four label counts: one per line
    assert "6 problem(s)" in result.stderr


def test_train_defaults_to_the_models_dir_and_warns_about_few_positives(runner, tmp_path, monkeypatch):
    models = tmp_path / "store"
    monkeypatch.setenv("TAGGER_MODELS_DIR", str(models))
    monkeypatch.chdir(tmp_path)  # a relative default would land here
    result = runner.invoke(main, ["train", str(DATA / "tiny.csv"), "--version", "t-1", "--param", "cv=3",
                                  "--param", "word_min_df=1", "--param", "char_min_df=1"])
    assert result.exit_code == 0, result.output
    assert (models / "t-1").is_dir() and not (tmp_path / "models").exists()
    assert "label 'policing': only" in result.stderr and "fewer than 30" in result.stderr
    other = tmp_path / "other"
    result = runner.invoke(main, ["train", str(DATA / "tiny.csv"), "--models-dir", str(other), "--version", "t-2",
                                  "--param", "cv=3", "--param", "word_min_df=1", "--param", "char_min_df=1"])
    assert result.exit_code == 0 and (other / "t-2").is_dir()


# --- segment ------------------------------------------------------------------------------------

def test_segment_prints_one_json_line_per_article(runner, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    result = runner.invoke(main, ["segment", str(page)])
    assert result.exit_code == 0, result.output
    articles = _lines(result.stdout)
    assert [a["title"] for a in articles] == ["县法院公开宣判一起盗窃案", "派出所民警抓获嫌疑人"]
    assert all(PAGE[a["start"]:a["end"]].startswith(a["title"]) for a in articles)
    assert all("text" not in a for a in _lines(runner.invoke(main, ["segment", "--no-text", str(page)]).stdout))
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = runner.invoke(main, ["segment", str(empty)])
    assert result.exit_code == 1 and "input is empty" in result.output


# --- jobs ---------------------------------------------------------------------------------------

@pytest.fixture()
def data_dir(tmp_path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


def test_jobs_list_and_show(runner, data_dir):
    store = Store(data_dir / "tagger.sqlite3")
    job_id = store.create_job({"activate": "never"})
    store.update_job(job_id, state="done", progress=1.0, version="v-9", message="trained")
    result = runner.invoke(main, ["jobs", "--data-dir", str(data_dir)])
    assert result.exit_code == 0 and job_id in result.output and "done" in result.output and "100%" in result.output
    result = runner.invoke(main, ["jobs", "show", job_id, "--data-dir", str(data_dir)])
    job = json.loads(result.stdout)
    assert job["id"] == job_id and job["version"] == "v-9"
    assert job["created"].endswith("Z") and job["finished"].endswith("Z") and "T" in job["created"]
    result = runner.invoke(main, ["jobs", "show", "nope", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "no job 'nope'" in result.output


def test_jobs_without_a_database_names_the_setting(runner, tmp_path):
    result = runner.invoke(main, ["jobs", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "TAGGER_DATA_DIR" in result.output
    assert not (tmp_path / "tagger.sqlite3").exists()  # reading never creates a database


def test_jobs_follow_waits_for_the_end(runner, data_dir):
    store = Store(data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    store.update_job(job_id, state="training", progress=0.2, message="training on 40 rows")

    def finish():
        time.sleep(0.5)
        store.update_job(job_id, state="done", progress=1.0, version="v-2", message="activated")

    worker = threading.Thread(target=finish)
    worker.start()
    result = runner.invoke(main, ["jobs", "follow", job_id, "--data-dir", str(data_dir), "--interval", "0.1", "--timeout", "60"])
    worker.join()
    assert result.exit_code == 0, result.output
    assert f"job {job_id} done: activated (version v-2)" in result.stdout


def test_jobs_follow_a_failed_job_exits_1_with_its_errors(runner, data_dir):
    store = Store(data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    store.update_job(job_id, state="failed", message="the CSV has problems", errors=["row 3: empty text"])
    result = runner.invoke(main, ["jobs", "follow", job_id, "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "error: row 3: empty text" in result.stderr and "failed" in result.stderr


def test_jobs_follow_gives_up_after_its_timeout(runner, data_dir):
    store = Store(data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    result = runner.invoke(main, ["jobs", "follow", job_id, "--data-dir", str(data_dir), "--interval", "0.05", "--timeout", "0.2"])
    assert result.exit_code == 1 and "still queued" in result.output


# --- rollback, delete, feedback export ----------------------------------------------------------

@pytest.fixture()
def three_versions(tmp_path, tiny_model, labels) -> Path:
    root = tmp_path / "models"
    pipe, info = tiny_model
    for version in ("v1", "v2", "v3"):
        artifacts.save_model(pipe, {"labels": labels, "thresholds": info["thresholds"], "params": info["params"]}, root, version)
        artifacts.set_active(root, version)
    return root


def test_rollback_and_delete(runner, three_versions):
    root = str(three_versions)
    result = runner.invoke(main, ["delete", "v3", "--models-dir", root, "--yes"])
    assert result.exit_code == 1 and "active or the rollback target" in result.output
    assert runner.invoke(main, ["delete", "v1", "--models-dir", root], input="n\n").exit_code == 1  # declined
    assert (three_versions / "v1").is_dir()
    result = runner.invoke(main, ["delete", "v1", "--models-dir", root, "--yes"])
    assert result.exit_code == 0 and not (three_versions / "v1").exists()
    result = runner.invoke(main, ["rollback", "--models-dir", root])
    assert result.exit_code == 0 and "active: v2" in result.output
    assert artifacts.read_active(three_versions)["active"] == "v2"
    result = runner.invoke(main, ["rollback", "--models-dir", root])
    assert result.exit_code == 1 and "no previous version" in result.output


def test_feedback_export_writes_a_training_csv(runner, data_dir, labels, tmp_path):
    store = Store(data_dir / "tagger.sqlite3")
    store.add_feedback("=派出所民警抓获嫌疑人", ["policing"])
    store.add_feedback("法院宣判, 一起盗窃案", ["courts"])
    result = runner.invoke(main, ["feedback", "export", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    dataset = read_csv(result.stdout.encode(), labels, min_per_label=0)
    assert dataset.texts == ["=派出所民警抓获嫌疑人", "法院宣判, 一起盗窃案"]  # formula cell escaped and restored
    out = tmp_path / "fb.csv"
    result = runner.invoke(main, ["feedback", "export", "--data-dir", str(data_dir), "-o", str(out)])
    assert result.exit_code == 0 and "2 correction(s)" in result.stderr
    assert read_csv(out, labels, min_per_label=0).labels == [{"policing"}, {"courts"}]


# --- help ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["segment"], ["jobs"], ["jobs", "show"], ["jobs", "follow"], ["rollback"], ["delete"],
                                     ["feedback", "export"], ["classify"], ["validate"], ["train"]])
def test_help_keeps_each_example_on_its_own_line(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output
    examples = [line for line in result.output.splitlines() if line.strip().startswith(("legal-tagger", "cat "))]
    assert examples and all(line.strip().count("legal-tagger ") == 1 for line in examples)
