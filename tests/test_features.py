import pickle

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from training.features import LegalCueFeatures, _lead
from training.vectorize import FastTfidfVectorizer
from training.tokenize import tokenize

TEXTS = [
    "派出所民警抓获盗窃嫌疑人，并移送检察院审查起诉。",
    "法院公开宣判一起诈骗案，被告人获刑三年。法院提醒市民提高警惕。",
    "检察院召开听证会。",
    "English text only, 2024",
    "",
    "普法普法普法宣传进社区，法律明白人讲解民法典。",
]
UNSEEN = ["边境派出所民警骑马巡逻", "完全没见过的词汇组合", "", "法院 法院 法院", "x"]


@pytest.mark.parametrize("kwargs", [
    dict(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2), sublinear_tf=True),
    dict(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, max_features=40),
    dict(analyzer="char", ngram_range=(1, 2), norm=None),
])
def test_fast_tfidf_transform_equals_sklearn(kwargs):
    fast = FastTfidfVectorizer(**kwargs).fit(TEXTS)
    reference = TfidfVectorizer(**kwargs).fit(TEXTS)
    for docs in (TEXTS, UNSEEN, UNSEEN[:1]):
        np.testing.assert_allclose(fast.transform(docs).toarray(), reference.transform(docs).toarray(), rtol=1e-12, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="法院检察公安 \n\tab，。12", max_size=12), low=st.integers(1, 3), extra=st.integers(0, 2))
def test_fast_ngrams_are_the_parents_ngrams(text, low, extra):
    ours = FastTfidfVectorizer(ngram_range=(low, low + extra))
    reference = TfidfVectorizer(ngram_range=(low, low + extra))
    assert sorted(ours._char_ngrams(text)) == sorted(reference._char_ngrams(text))
    tokens = text.split()
    assert sorted(ours._word_ngrams(tokens)) == sorted(reference._word_ngrams(tokens))


CHAR_KWARGS = [dict(analyzer="char", ngram_range=r, sublinear_tf=True) for r in ((1, 1), (1, 3), (2, 3), (3, 3), (2, 4))]
SAMPLES = TEXTS + UNSEEN + ["ＡＢＣ abc  ABC\t\n 法院", "\ud800孤立代理项\udfff", "😀🚓 警察", " ", "法"]


@pytest.mark.parametrize("kwargs", CHAR_KWARGS)
def test_packed_char_lookup_equals_sklearn_on_edge_cases(kwargs):
    fast = FastTfidfVectorizer(**kwargs).fit(SAMPLES)
    reference = TfidfVectorizer(**kwargs).fit(SAMPLES)
    assert fast.vocabulary_ == reference.vocabulary_
    np.testing.assert_allclose(fast.transform(SAMPLES).toarray(), reference.transform(SAMPLES).toarray(), rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(docs=st.lists(st.text(max_size=30), min_size=1, max_size=4), which=st.integers(0, len(CHAR_KWARGS) - 1))
def test_packed_char_lookup_equals_sklearn_on_any_text(docs, which):
    fast = FastTfidfVectorizer(**CHAR_KWARGS[which]).fit(TEXTS)
    reference = TfidfVectorizer(**CHAR_KWARGS[which]).fit(TEXTS)
    np.testing.assert_allclose(fast.transform(docs).toarray(), reference.transform(docs).toarray(), rtol=1e-12, atol=1e-12)


def _bar_split(text: str) -> list[str]:
    """A tokenizer whose tokens may hold spaces or be empty: the packed word path must step aside."""
    return text.split("|")


WORD_KWARGS = [
    dict(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2), sublinear_tf=True, min_df=1),
    dict(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2), max_df=0.5),  # unigrams dropped, bigrams kept
    dict(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(2, 2)),
    dict(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 1)),
    dict(tokenizer=_bar_split, token_pattern=None, lowercase=False, ngram_range=(1, 2)),
    dict(ngram_range=(1, 2)),  # the default regex tokenizer
]


@pytest.mark.parametrize("kwargs", WORD_KWARGS)
def test_packed_word_lookup_equals_sklearn_on_edge_cases(kwargs):
    docs = SAMPLES + ["a b|a|b||a b", "法院 检察院|法院|| |x y z"]
    fast = FastTfidfVectorizer(**kwargs).fit(docs)
    reference = TfidfVectorizer(**kwargs).fit(docs)
    assert fast.vocabulary_ == reference.vocabulary_
    np.testing.assert_allclose(fast.transform(docs + UNSEEN).toarray(), reference.transform(docs + UNSEEN).toarray(), rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(docs=st.lists(st.text(alphabet="法院检察公安派出所民警 |，。ab12", max_size=40), min_size=1, max_size=4), which=st.integers(0, len(WORD_KWARGS) - 1))
def test_packed_word_lookup_equals_sklearn_on_any_text(docs, which):
    fit_docs = TEXTS + ["a b|a|b||a b", "法院|检察院|法院 检察院"]
    fast = FastTfidfVectorizer(**WORD_KWARGS[which]).fit(fit_docs)
    reference = TfidfVectorizer(**WORD_KWARGS[which]).fit(fit_docs)
    np.testing.assert_allclose(fast.transform(docs).toarray(), reference.transform(docs).toarray(), rtol=1e-12, atol=1e-12)


def test_refit_rebuilds_the_packed_tables():
    vectorizer = FastTfidfVectorizer(analyzer="char", ngram_range=(2, 3))
    vectorizer.fit(TEXTS).transform(TEXTS)
    vectorizer.fit(UNSEEN[:2])
    reference = TfidfVectorizer(analyzer="char", ngram_range=(2, 3)).fit(UNSEEN[:2])
    np.testing.assert_allclose(vectorizer.transform(TEXTS).toarray(), reference.transform(TEXTS).toarray())
    words = FastTfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    words.fit(TEXTS).transform(TEXTS)
    words.fit(UNSEEN[:2])
    reference = TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2)).fit(UNSEEN[:2])
    np.testing.assert_allclose(words.transform(TEXTS).toarray(), reference.transform(TEXTS).toarray())


def test_vectorizer_pickles_its_vocabulary_compactly_and_round_trips(tmp_path):
    fitted = FastTfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2)).fit(TEXTS)
    state = fitted.__getstate__()
    assert isinstance(state["vocabulary_"], tuple)  # one string + one array, not a dict of entries
    assert isinstance(fitted.vocabulary_, dict)  # pickling leaves the live object alone
    joblib.dump(fitted, tmp_path / "v.joblib", compress=3)
    for loaded in (joblib.load(tmp_path / "v.joblib"), pickle.loads(pickle.dumps(fitted))):
        assert loaded.vocabulary_ == fitted.vocabulary_
        np.testing.assert_array_equal(loaded.transform(UNSEEN + TEXTS).toarray(), fitted.transform(UNSEEN + TEXTS).toarray())


def test_vectorizer_pickled_before_the_compact_form_still_loads():
    fitted = FastTfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit(TEXTS)
    old_state = {**fitted.__dict__}  # what earlier versions pickled: the plain dict
    restored = FastTfidfVectorizer.__new__(FastTfidfVectorizer)
    restored.__setstate__(old_state)
    assert restored.vocabulary_ == fitted.vocabulary_


def test_lead_is_headline_plus_first_sentence():
    assert _lead("检察院批捕一名嫌疑人\n近日，某县检察院依法批准逮捕。随后法院开庭。") == "检察院批捕一名嫌疑人\n近日，某县检察院依法批准逮捕"


def test_cue_features_see_who_leads():
    cues = LegalCueFeatures().fit(TEXTS)
    names = list(cues.get_feature_names_out())
    row = cues.transform(["某县人民检察院对嫌疑人批准逮捕。此前，公安机关立案侦查。"]).toarray()[0]
    assert row[names.index("procuratorate:lead_institution")] == 1.0
    assert row[names.index("policing:lead_institution")] == 0.0
    assert row[names.index("procuratorate:first_position")] > row[names.index("policing:first_position")]
    assert row[names.index("courts:lead_institution")] == 0.0
    assert not any(n.startswith("legal_publicity:") for n in names)  # purpose, not an organ: no cues


def _stacked_the_old_way(union, docs):
    """What LeanFeatureUnion returned before it stacked arrays itself: weighted blocks, hstacked."""
    from scipy import sparse

    blocks = [trans.transform(docs) * (weight if weight is not None else 1.0) for _, trans, weight in union._iter()]
    return sparse.hstack(blocks, format="csr")


@pytest.mark.parametrize("docs", [TEXTS[:1], TEXTS, UNSEEN, [""], TEXTS + UNSEEN + SAMPLES])
def test_union_stacks_blocks_exactly_as_hstack_did(tiny_model, docs):
    steps = tiny_model[0].named_steps
    union = steps["features"]
    normalized = steps["normalize"].transform(docs)
    ours = union.transform(normalized)
    reference = _stacked_the_old_way(union, normalized)
    assert ours.shape == reference.shape and ours.has_sorted_indices
    np.testing.assert_array_equal(ours.toarray(), reference.toarray())


def test_union_keeps_weights_and_refits_its_widths():
    from training.features import LeanFeatureUnion

    words = FastTfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False)
    union = LeanFeatureUnion([("words", words), ("chars", FastTfidfVectorizer(analyzer="char", ngram_range=(1, 2)))],
                             transformer_weights={"words": 2.5})
    union.fit(TEXTS)
    np.testing.assert_array_equal(union.transform(UNSEEN).toarray(), _stacked_the_old_way(union, UNSEEN).toarray())
    union.fit(UNSEEN[:2])  # a smaller vocabulary: cached widths must not survive a refit
    assert union.transform(TEXTS).shape[1] == len(union.get_feature_names_out())
    restored = pickle.loads(pickle.dumps(union))
    assert "_widths" not in restored.__dict__
    np.testing.assert_array_equal(restored.transform(TEXTS).toarray(), union.transform(TEXTS).toarray())
