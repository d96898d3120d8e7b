"""Our CSVs: formula-safe exports that read back exactly, no field-size trap, clear data errors."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from training import pipeline
from training.cli import main
from training.data import FORMULA_START, escape_cell, parse_csv, read_csv, unescape_cell, write_csv
from training.errors import DataError
from training.jobs import FEEDBACK_SOURCE, rows_to_csv, run_job
from training.store import Store

from test_lifecycle import AUTH, admin_client, admin_settings, store_dir, tiny_rows, wait_job  # noqa: F401

LABELS = ["policing", "courts", "procuratorate", "legal_publicity"]
# Text drawn to hit the escape's edge cases: formula starters, runs of quotes, CSV specials.
TRICKY = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n'\",; 法院a1")) | st.characters(exclude_categories=("Cs",)), max_size=30)
CELL = st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "''-", "'a"]), TRICKY)


def spreadsheet_would_run(cell: str) -> bool:
    return bool(cell) and cell[0] in FORMULA_START


@given(CELL)
def test_escape_is_formula_safe_and_reversible(cell):
    escaped = escape_cell(cell)
    assert not spreadsheet_would_run(escaped)
    assert unescape_cell(escaped) == cell


@given(st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=6))
def test_write_csv_then_parse_csv_restores_every_cell(rows):
    text = write_csv(["id", "text", "labels"], rows)
    for row in csv.reader(io.StringIO(text, newline="")):  # what a spreadsheet sees
        assert not any(spreadsheet_would_run(cell) for cell in row)
    header, parsed = parse_csv(text)
    assert header == ["id", "text", "labels"] and parsed == rows


@hsettings(max_examples=50)
@given(st.lists(CELL.map(str.strip).filter(bool), min_size=1, max_size=8, unique_by=lambda t: " ".join(t.split())))
def test_training_rows_read_back_exactly(texts):
    texts = [t for t in texts if t.strip() == t and t]
    rows = [{"text": t, "labels": ["courts"]} for t in texts]
    assert read_csv(rows_to_csv(rows), LABELS, min_per_label=0).texts == texts


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2 法院", "@SUM(A1)", "'=已转义", "''+两次", "'普通引号"])
def test_feedback_export_is_formula_safe_and_reads_back_exactly(admin_client, text):
    admin_client.post("/feedback", json={"text": text, "labels": ["courts"]}, headers=AUTH)
    exported = admin_client.get("/feedback/export", headers=AUTH).get_data(as_text=True)
    cells = [row[1] for row in csv.reader(io.StringIO(exported, newline=""))][1:]
    assert cells and not spreadsheet_would_run(cells[0])
    assert read_csv(exported.encode(), LABELS, min_per_label=0).texts == [text]


def test_a_versions_training_csv_is_formula_safe(admin_client, store_dir):
    rows = tiny_rows() + [{"text": "=cmd|' /C calc'!A0 派出所民警", "labels": ["policing"]}, {"text": "-1 法院判决", "labels": ["courts"]}]
    job = wait_job(admin_client, admin_client.post("/train", json={"rows": rows, "activate": "never"}, headers=AUTH).get_json()["id"])
    assert job["state"] == "done", job
    raw = (store_dir / job["version"] / "training.csv").read_text(encoding="utf-8")
    for row in csv.reader(io.StringIO(raw, newline="")):
        assert not any(spreadsheet_would_run(cell) for cell in row), row
    texts = read_csv(raw.encode(), LABELS, min_per_label=0).texts
    assert "=cmd|' /C calc'!A0 派出所民警" in texts and "-1 法院判决" in texts


# --- the csv field-size trap -------------------------------------------------------------
def test_a_field_of_millions_of_characters_is_read():
    long_text = "法院审理案件。" * 350_000  # 2.45 million characters, past csv's 131,072 default
    data = read_csv(write_csv(["text", "labels"], [[long_text, "courts"]]).encode(), LABELS, min_per_label=0)
    assert data.texts == [long_text]


@pytest.mark.parametrize("which", ["upload", "feedback"])
def test_job_errors_name_the_file_and_the_row(admin_settings, which):
    good = rows_to_csv(tiny_rows())
    bad = write_csv(["id", "text", "labels"], [["fb1", "法院宣判。", "courts"], ["fb2", "检察院起诉。", "prosecutors"]]).encode()
    upload, feedback = (bad, good) if which == "upload" else (good, bad)
    store = Store(admin_settings.data_dir / "tagger.sqlite3")
    job_id = store.create_job({})
    run_job(store, job_id, admin_settings, upload, {"base": "upload", "activate": "never", "params": None}, feedback)
    job = store.get_job(job_id)
    assert job["state"] == "failed"
    assert job["message"].startswith("upload:" if which == "upload" else FEEDBACK_SOURCE), job["message"]
    assert "row 3: unknown label(s) 'prosecutors'" in job["message"]


# --- duplicated headers and "no terms remain" ---------------------------------------------
@pytest.mark.parametrize("header,column", [("text,text,labels", "text"), ("id,text,labels,Labels", "labels"), ("id, ID ,text,labels", "id")])
def test_a_duplicated_header_names_the_column(header, column):
    with pytest.raises(DataError, match=rf"column '{column}' appears 2 times in the header; rename or delete"):
        read_csv(f"{header}\n1,法院宣判,courts,x\n".encode(), LABELS, min_per_label=0)


def punctuation_csv(n: int = 20) -> str:
    return write_csv(["text", "labels"], [["！" * (i + 1) + "？", LABELS[i % 4]] for i in range(n)])


def repetitive_csv(n: int = 20) -> str:
    return write_csv(["text", "labels"], [[f"法院审理{i}号案件", LABELS[i % 4]] for i in range(n)])


NO_TERMS = [
    pytest.param(punctuation_csv, [], "have no letters or digits", id="punctuation-only"),
    pytest.param(repetitive_csv, ["--param", "word_min_df=20", "--param", "char_min_df=20"], "word_min_df=20", id="min-df-too-high"),
]


@pytest.mark.parametrize("make,params,expected", NO_TERMS)
def test_no_terms_left_is_one_cli_line_naming_rows_and_params(runner, tmp_path, make, params, expected):
    path = tmp_path / "rows.csv"
    path.write_text(make(), encoding="utf-8")
    result = runner.invoke(main, ["train", str(path), "--out", str(tmp_path / "models"), *params])
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: no words or characters left to train on") and expected in line
    assert "set params word_min_df and char_min_df to 1" in line


@pytest.mark.parametrize("make,params,expected", NO_TERMS)
def test_no_terms_left_fails_a_job_with_the_same_message(admin_client, make, params, expected):
    rows = [{"text": r["text"], "labels": [r["labels"]]} for r in csv.DictReader(io.StringIO(make(), newline=""))]
    rows = [{"text": unescape_cell(r["text"]), "labels": r["labels"]} for r in rows]
    overrides = dict(p.split("=") for p in params[1::2])
    job = wait_job(admin_client, admin_client.post("/train", json={"rows": rows, "params": overrides or None}, headers=AUTH).get_json()["id"])
    assert job["state"] == "failed" and expected in job["message"], job
    assert "no words or characters left to train on" in job["message"] and "internal error" not in job["message"]


def test_rows_named_in_the_no_terms_message_are_the_bad_ones():
    from training.data import Dataset

    texts = [f"法院审理{i}号案件" for i in range(8)] + ["……", "！？"]
    data = Dataset(texts, [{"courts"}] * 10, [f"r{i}" for i in range(10)])
    with pytest.raises(DataError) as caught:
        pipeline.fit(data, LABELS, {"word_min_df": 20, "char_min_df": 20, "cv": 2})
    assert re.search(r"2 of 10 row\(s\) have no letters or digits.*\(rows r8, r9\)", str(caught.value))
