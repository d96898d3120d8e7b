import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.config import Settings
from training.tokenize import clean_tokens, get_cutter, read_user_dict, tokenize

CORPUS = Settings().corpus_path


def test_legal_dictionary_terms_stay_whole():
    tokens = tokenize("该县坚持枫桥经验，法律明白人参与诉前调解，检察院召开检察听证会。")
    for term in ("枫桥经验", "法律明白人", "诉前调解", "检察听证"):
        assert term in tokens, (term, tokens)


def test_every_dictionary_entry_is_one_token():
    entries = read_user_dict(Settings().legal_dict_path)
    assert len(entries) >= 300
    cut = get_cutter()
    split = [w for w, _, _ in entries if cut(w) != [w]]
    assert split == []


def test_punctuation_dropped_and_numbers_folded():
    assert clean_tokens(["2024", "年", "，", " ", "ABC", "-", "3.5"]) == ["<num>", "年", "abc", "<num>", "<num>"]


def _sample_texts() -> list[str]:
    texts = [row["text"] for row in csv.DictReader(open(Path(__file__).parent / "data" / "tiny.csv", encoding="utf-8"))]
    if CORPUS.exists():
        rows = list(csv.DictReader(open(CORPUS, encoding="utf-8")))
        texts += [r["title"] + "\n" + r["text"] for r in rows]  # the whole corpus
    texts += ["English only text, 2024-03-15 v1.2", "😀🎉 emoji", "ＡＢＣ全角１２３", "混合 mixed 文本 with 数字 42"]
    return texts


@pytest.mark.parametrize("backend", ["jieba"])
def test_rjieba_and_jieba_give_identical_tokens(backend):
    reference = get_cutter(backend)
    fast = get_cutter("rjieba")
    for text in _sample_texts():
        assert clean_tokens(fast(text)) == clean_tokens(reference(text)), text[:40]


TRICKY = st.sampled_from(["\x00", " ", "\u3000", "\x1f", "Σ", "ΑΣ", "\u212a", "İ", "Ａ", "ß", "3G", "a-b", "法院", "٣", "\t法\t"])


@settings(max_examples=300, deadline=None)
@given(words=st.lists(TRICKY | st.text(max_size=6), max_size=12))
def test_clean_tokens_fast_path_equals_token_by_token(words):
    from training.tokenize import _clean_tokens_one_by_one

    assert clean_tokens(words) == _clean_tokens_one_by_one(words)
