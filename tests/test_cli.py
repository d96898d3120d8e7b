import json

import pytest

from training.cli import main

ROWS = "id,text,labels\n" + "\n".join(
    f"r{i},{text}{i}号,{label}" for i, (text, label) in enumerate(
        [("派出所民警抓获嫌疑人", "policing"), ("法院公开宣判案件", "courts"),
         ("检察院批准逮捕嫌疑人", "procuratorate"), ("司法局开展普法宣传", "legal_publicity"),
         ("社区开展文艺活动", "")] * 6)
) + "\n"


def test_train_writes_an_active_version_and_reports_cv(runner, tmp_path):
    csv_path = tmp_path / "train.csv"
    csv_path.write_text(ROWS, encoding="utf-8")
    out = tmp_path / "models"
    result = runner.invoke(main, ["train", str(csv_path), "--out", str(out), "--version", "cli-1", "--param", "cv=3", "--cv"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "cli-1" / "model.json").read_text())
    assert meta["training"]["rows"] == 30
    assert set(meta["thresholds"]) == {"policing", "courts", "procuratorate", "legal_publicity"}
    assert meta["metrics"]["cv"]["n"] == 30
    assert json.loads((out / "active.json").read_text())["active"] == "cli-1"


def test_train_rejects_bad_csv_with_one_line_naming_the_row(runner, tmp_path):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(ROWS + "r99,公安破案,police\n", encoding="utf-8")
    result = runner.invoke(main, ["train", str(csv_path), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "row 32: unknown label(s) 'police'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_train_rejects_unknown_param(runner, tmp_path):
    csv_path = tmp_path / "train.csv"
    csv_path.write_text(ROWS, encoding="utf-8")
    result = runner.invoke(main, ["train", str(csv_path), "--out", str(tmp_path / "m"), "--param", "gamma=2"])
    assert result.exit_code == 1 and "unknown hyper-parameter 'gamma'" in result.output


def test_validate_reports_counts(runner, tmp_path):
    csv_path = tmp_path / "train.csv"
    csv_path.write_text(ROWS, encoding="utf-8")
    result = runner.invoke(main, ["validate", str(csv_path)])
    assert result.exit_code == 0
    assert "30 rows OK" in result.output and "policing=6" in result.output


def test_classify_jsonl_keeps_order_and_fields(runner, tmp_path):
    lines = [{"id": 1, "text": "检察院对嫌疑人批准逮捕"}, {"id": 2, "text": "法院公开宣判一起盗窃案"}, {"id": 3, "text": "no Chinese at all"}]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["classify", "--jsonl", str(src)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3]
    assert "procuratorate" in out[0]["labels"] and "courts" in out[1]["labels"]
    assert set(out[2]["scores"]) == {"policing", "courts", "procuratorate", "legal_publicity"}


def test_classify_jsonl_bad_line_is_named(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "法院"}\n{"txt": "x"}\n', encoding="utf-8")
    result = runner.invoke(main, ["classify", "--jsonl", str(src)])
    assert result.exit_code == 1 and "line 2: needs a string field 'text'" in result.output


def test_classify_plain_file(runner, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("派出所民警连夜抓获盗窃嫌疑人", encoding="utf-8")
    result = runner.invoke(main, ["classify", str(src)])
    assert result.exit_code == 0
    assert json.loads(result.output)["labels"][0] == "policing"


def test_evaluate_with_optional_convention(runner, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"text": "法院公开宣判一起盗窃案", "labels": ["courts"], "optional": ["policing"]}\n'
        '{"text": "派出所民警抓获盗窃嫌疑人", "labels": ["policing"]}\n', encoding="utf-8")
    result = runner.invoke(main, ["evaluate", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 2 and report["model"] == "tiny-1"
    assert report["per_label"]["courts"]["recall"] == 1.0


@pytest.mark.parametrize("command", ["train", "evaluate", "validate", "classify", "serve", "models", "activate"])
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_evaluate_writes_an_html_report(runner, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"text": "法院公开宣判一起盗窃案", "labels": ["courts"]}\n'
        '{"text": "派出所民警抓获盗窃嫌疑人", "labels": ["procuratorate"]}\n', encoding="utf-8")
    result = runner.invoke(main, ["evaluate", str(gold), "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "检察" in page and "盗窃嫌疑人" in page  # the planted mistake (a missed procuratorate) is listed


def test_classify_split_prints_one_line_per_article(runner, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "县法院公开宣判一起盗窃案\n\n本报讯（记者 李明）近日，县人民法院公开宣判一起盗窃案，被告人被判处有期徒刑两年。\n\n"
        "派出所民警抓获嫌疑人\n\n本报讯（通讯员 王芳）日前，城关派出所民警连夜追踪，抓获盗窃电动车的嫌疑人两名。\n",
        encoding="utf-8")
    result = runner.invoke(main, ["classify", "--split", str(page)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [l["title"] for l in lines] == ["县法院公开宣判一起盗窃案", "派出所民警抓获嫌疑人"]
    assert lines[0]["labels"][0] == "courts" and lines[1]["labels"][0] == "policing"
