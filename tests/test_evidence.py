"""Evidence as word spans (issue 17 §1): offsets, hidden words, the API shape, linear time.

The corpus-and-gold property test (terms are consecutive whole words; they explain at least half
of each label's positive evidence) runs on the shipped model in tests/test_default_model.py.
"""

from __future__ import annotations

import pytest

from training.config import get_settings
from training.model.evidence import NAME_LIKE, _dictionary_words, _stoplist, align, hidden_reason
from training.normalize import normalize_text

from test_linear_time import assert_linear, cut


@pytest.fixture(scope="module")
def tiny_tagger(models_dir):
    from training import artifacts
    from training.tagger import Tagger

    return Tagger(*artifacts.load_model(models_dir, "tiny-1"))


@pytest.mark.parametrize("term,reason", [("王某", "name"), ("李某某", "name"), ("张某甲", "name"), ("可以", "stop"),
                                         ("目前", "stop"), ("一起", "stop"), ("男子", "stop"), ("向", "stop"), ("老", "single"),
                                         ("派出所", None), ("人民检察院", None), ("某某县人民检察院", None)])
def test_names_function_words_and_lone_characters_are_hidden(term, reason):
    settings = get_settings()
    stop = _stoplist(str(settings.evidence_stoplist_path))
    dictionary = _dictionary_words(str(settings.legal_dict_path))
    assert hidden_reason(term, stop, dictionary) == reason


def test_name_pattern_does_not_swallow_institutions():
    assert NAME_LIKE.match("刘某") and not NAME_LIKE.match("某某县人民检察院") and not NAME_LIKE.match("某地")


@pytest.mark.parametrize("original", [
    "**县人民检察院**依法批准逮捕嫌疑人",  # markup stripped
    "ＡＢＣ公司\r\n员工向派出所\n报警，民警到场。",  # full-width letters, CRLF, a hard wrap inside a sentence
    "  法院  公开宣判\u3000一起盗窃案。\n\n\n派出所民警抓获嫌疑人。  ",  # runs of spaces and blank lines
])
def test_offsets_point_into_the_text_as_submitted(tiny_tagger, original):
    result = tiny_tagger.classify([original], threshold=0.0, explain=8)[0]
    assert result.explain and set(result.explained) == set(result.labels)
    for terms in result.explain.values():
        for term in terms:
            assert 0 <= term["start"] < term["end"] <= len(original)
            assert normalize_text(original[term["start"]:term["end"]]).lower() == term["term"]


def test_align_maps_every_normalized_character_to_its_source():
    original = "ａ**b**\r\n c\u3000d"
    normalized = normalize_text(original)
    source = align(original, normalized)
    assert len(source) == len(normalized) and source == sorted(source)
    for ch, i in zip(normalized, source):
        assert ch.isspace() and original[i].isspace() or normalize_text(original[i]) == ch


def test_api_returns_offsets_and_the_explained_share(client):
    text = "城关派出所民警连夜追踪，抓获盗窃电动车的嫌疑人两名。"
    body = client.post("/classify", json={"text": text, "explain": True}).get_json()
    assert body["labels"] and set(body["explained"]) == set(body["labels"])
    for label in body["labels"]:
        assert 0 < body["explained"][label] <= 1
        for term in body["explain"][label]:
            assert set(term) == {"term", "kind", "weight", "start", "end"}
            assert text[term["start"]:term["end"]] == term["term"]
    assert "explained" not in client.post("/classify", json={"text": text}).get_json()


@pytest.mark.parametrize("make", [
    lambda n: cut("县人民检察院", n),  # one cue match after another, each inside an institution name
    lambda n: cut("王某", n),  # name stand-ins
    lambda n: cut("派出所民警，", n),  # words and punctuation
    lambda n: cut("，", n),  # punctuation only
    lambda n: cut("abc1 ", n),  # Latin and digits
    lambda n: cut("\n", n, head="法院", tail="检察院"),  # whitespace that normalization removes
], ids=["institutions", "names", "words", "punctuation", "latin", "whitespace"])
def test_evidence_is_linear_in_the_text_length(tiny_tagger, make):
    assert_linear(lambda text: tiny_tagger.classify([text], threshold=0.0, explain=8), make,
                  sizes=(2_000, 20_000), what="evidence")
