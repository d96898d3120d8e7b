"""The shipped default model: the one test that reads models/."""

from __future__ import annotations

import pytest

from training import artifacts
from training.config import REPO_ROOT
from training.evaluate import score
from training.tagger import Tagger

MODELS = REPO_ROOT / "models"

# Our own sentences, one clear case per label and a few combinations.
CASES = [
    ("乌兰察布市集宁区公安分局刑警大队连夜追踪，成功抓获盗窃电动车的犯罪嫌疑人两名。", {"policing"}),
    ("阿荣旗人民法院公开开庭审理一起民间借贷纠纷案，当庭判决被告归还借款八万元。", {"courts"}),
    ("包头市昆都仑区人民检察院依法对涉嫌诈骗的王某批准逮捕，并向有关单位发出检察建议。", {"procuratorate"}),
    ("宪法宣传周期间，司法局工作人员走进嘎查，向牧民发放普法宣传册，讲解民法典中的婚姻家庭规定。", {"legal_publicity"}),
    ("社区网格员入户走访，收集居民对老旧小区改造的意见建议。", set()),
    ("派出所民警走进中学课堂，以真实案例讲解电信网络诈骗的常见手法，提醒学生守住钱袋子、学法懂法。", {"policing", "legal_publicity"}),
]


@pytest.fixture(scope="module")
def default_tagger() -> Tagger:
    version = artifacts.read_active(MODELS)["active"]
    assert version, "models/active.json must name the shipped default model"
    model, meta = artifacts.load_model(MODELS, version)  # verifies the format and every checksum
    return Tagger(model, meta)


def test_default_model_metadata_is_complete(default_tagger):
    meta = default_tagger.meta
    assert meta["labels"] == ["policing", "courts", "procuratorate", "legal_publicity"]
    assert set(meta["thresholds"]) == set(meta["labels"])
    assert meta["training"]["rows"] >= 800
    assert meta["metrics"]["cv"]["macro_f1"] > 0.9
    for name in ("seeds", "lawcrime"):  # measured on the real gold sets by bench.record_gold
        assert meta["metrics"]["gold"][name]["macro_f1"] > meta["metrics"]["keyword_baseline"][name]["macro_f1"]


@pytest.mark.parametrize("text,expected", CASES)
def test_default_model_tags_our_sentences(default_tagger, text, expected):
    assert set(default_tagger.classify([text])[0].labels) == expected


# --- evidence as word spans (issue 17 §1) -------------------------------------------------------

def _evidence_texts(tmp_path_factory) -> list[tuple[str, list[str]]]:
    """(source, texts): our corpus, and the gold texts when ../shared is beside the checkout."""
    import csv

    from training.config import Settings
    from training.data import read_jsonl
    from training.taxonomy import label_ids

    with (REPO_ROOT / "labels" / "corpus.csv").open(encoding="utf-8", newline="") as f:
        sets = [("corpus", [row["text"] for row in csv.DictReader(f)])]
    shared = REPO_ROOT.parent / "shared"
    if (shared / "seeds" / "gold.jsonl").exists() and (shared / "data" / "lawcrime_dev_labels.jsonl").exists():
        from bench.gold_sets import write_gold_sets

        for name, path in write_gold_sets(tmp_path_factory.mktemp("gold"), shared).items():
            sets.append((name, read_jsonl(path, label_ids(Settings().taxonomy_path)).texts))
    return sets


def _token_bounds(text: str) -> tuple[set[int], set[int], str]:
    """Word starts and ends of a text as the model cuts it (normalized, lowercased), and that text."""
    from training.normalize import normalize_text
    from training.tokenize import _KEEP, get_cutter

    analysed = normalize_text(text).lower()
    starts, ends, position = set(), set(), 0
    for word in get_cutter()(analysed):
        if _KEEP.search(word):  # a word, not punctuation or space
            starts.add(position)
            ends.add(position + len(word))
        position += len(word)
    return starts, ends, analysed


def test_evidence_terms_are_whole_words_of_the_text_and_explain_half_the_score(default_tagger, tmp_path_factory):
    from training.config import get_settings
    from training.model.evidence import NAME_LIKE, _dictionary_words, _stoplist
    from training.normalize import normalize_text
    from training.tokenize import _KEEP

    settings = get_settings()
    stop = _stoplist(str(settings.evidence_stoplist_path))
    dictionary = _dictionary_words(str(settings.legal_dict_path))
    assert {"可以", "目前", "一起", "男子"} <= stop
    sets = _evidence_texts(tmp_path_factory)
    checked = 0
    for source, texts in sets:
        for start in range(0, len(texts), 100):
            batch = texts[start:start + 100]
            for text, result in zip(batch, default_tagger.classify(batch, explain=8)):
                starts, ends, analysed = _token_bounds(text)
                assert set(result.explain) == set(result.labels) == set(result.explained)
                for label, terms in result.explain.items():
                    where = f"{source} text {start}: {label}"
                    assert result.explained[label] >= 0.5, (where, result.explained[label], terms)
                    for term in terms:
                        word = term["term"]
                        # The offsets point into the text as given; normalized there, it reads as the term.
                        assert normalize_text(text[term["start"]:term["end"]]).lower() == word, (where, term)
                        # A run of consecutive whole words: starts at a word start, ends at a word end,
                        # and every cut inside it is between two words (no punctuation, no fragment).
                        a = analysed.find(word)
                        spans = [(i, i + len(word)) for i in range(len(analysed)) if analysed.startswith(word, i)]
                        assert a >= 0 and any(s in starts and e in ends for s, e in spans), (where, word)
                        assert not NAME_LIKE.match(word) and word not in stop, (where, word)
                        assert len(word) > 1 or word in dictionary, (where, word)
                        assert all(map(_KEEP.match, word)), (where, word)  # no punctuation, no space
                        assert term["kind"] in ("words", "cues") and term["weight"] > 0
                    checked += 1
    assert checked > 1000, checked
    if len(sets) == 1:
        pytest.skip("../shared (third-party gold data) is absent: checked labels/corpus.csv only")
