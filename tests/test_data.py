import pytest

from training.data import read_csv, read_jsonl
from training.errors import DataError

LABELS = ["policing", "courts", "procuratorate", "legal_publicity"]
GOOD = [
    ("派出所民警抓获盗窃嫌疑人。", "policing"),
    ("法院公开宣判一起诈骗案。", "courts"),
    ("检察院批准逮捕两名嫌疑人。", "procuratorate"),
    ("司法局开展普法宣传。", "legal_publicity"),
    ("社区开展垃圾分类宣传。", ""),
]


def make_csv(rows, header="id,text,labels") -> str:
    lines = [header]
    for i, (text, labels) in enumerate(rows, start=1):
        lines.append(f'r{i},"{text}",{labels}')
    return "\n".join(lines) + "\n"


def load(content, min_per_label=1):
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return read_csv(raw, LABELS, min_per_label=min_per_label)


def test_good_csv_loads_with_label_sets():
    data = load(make_csv(GOOD))
    assert len(data) == 5
    assert data.labels[0] == {"policing"} and data.labels[4] == set()


def test_title_column_is_prepended_as_headline():
    data = load('title,text,labels\n检察院批捕,"嫌疑人被批准逮捕。",procuratorate\n法院宣判,"判处有期徒刑。",courts\n', min_per_label=0)
    assert data.texts[0] == "检察院批捕\n嫌疑人被批准逮捕。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_encodings_excel_exports_use(encoding):
    data = read_csv(make_csv(GOOD).encode(encoding), LABELS, min_per_label=1)
    assert data.texts[1] == "法院公开宣判一起诈骗案。"


def test_undecodable_bytes_are_rejected_with_fix():
    with pytest.raises(DataError, match="UTF-8"):
        load(b"text,labels\n\xff\xff\xff,courts\n")


def test_missing_column_is_named():
    with pytest.raises(DataError, match="missing column.*labels"):
        load("id,text\n1,法院宣判\n")


def test_empty_text_names_the_row():
    rows = GOOD + [("  ", "courts")]
    with pytest.raises(DataError, match=r"row 7: empty text"):
        load(make_csv(rows))


def test_unknown_label_names_the_row_and_the_allowed_labels():
    rows = GOOD[:2] + [("公安破案。", "police")] + GOOD[2:]
    with pytest.raises(DataError, match=r"row 4: unknown label\(s\) 'police'; use only policing"):
        load(make_csv(rows))


def test_conflicting_duplicate_names_both_rows():
    rows = GOOD + [("法院公开宣判一起诈骗案。", "procuratorate")]
    with pytest.raises(DataError, match=r"row 7: same text as row 3"):
        load(make_csv(rows))


def test_identical_duplicate_is_a_warning_not_an_error():
    data = load(make_csv(GOOD + [GOOD[0]]))
    assert len(data) == 5
    assert data.warnings == ["row 7: duplicate of row 2; ignored"]


def test_too_few_examples_per_label_names_the_label():
    with pytest.raises(DataError, match=r"label 'courts': 1 example\(s\); need at least 5"):
        load(make_csv(GOOD), min_per_label=5)


def test_extra_cells_name_the_row():
    with pytest.raises(DataError, match=r"row 3: more cells than header"):
        load(make_csv(GOOD[:1]) + "r2,法院,宣判,courts\n" + make_csv(GOOD[1:]).split("\n", 1)[1])


def test_jsonl_gold_with_optional(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(
        '{"id": "a", "text": "法院以案说法", "labels": ["courts"], "optional": ["legal_publicity"]}\n'
        '{"id": "b", "title": "检察院批捕", "text": "检察院批捕嫌疑人", "labels": ["procuratorate"]}\n',
        encoding="utf-8",
    )
    data = read_jsonl(path, LABELS)
    assert data.optional == [{"legal_publicity"}, set()]
    assert data.texts[1] == "检察院批捕嫌疑人"  # title already leads the text: not repeated


def test_jsonl_bad_line_is_numbered(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"text": "法院", "labels": []}\n{"labels": ["courts"]}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2: needs a non-empty string field 'text'"):
        read_jsonl(path, LABELS)
