from hypothesis import given, settings, strategies as st

from training.normalize import fold_width, normalize_text, reflow, reflow_text, strip_markup


def test_hard_wrap_inside_a_sentence_joins_without_space():
    assert normalize_text("呼和浩特市公安局新城区分局丁香派\n出所民警入户走访。") == "呼和浩特市公安局新城区分局丁香派出所民警入户走访。"


def test_line_break_after_sentence_end_is_kept_as_paragraph():
    assert normalize_text("法院依法宣判。\n检察院提起公诉。") == "法院依法宣判。\n检察院提起公诉。"


def test_blank_lines_collapse_to_one_paragraph_break():
    assert normalize_text("第一段\n\n\n\n第二段") == "第一段\n第二段"


def test_english_wrap_becomes_a_space():
    assert normalize_text("rule of\nlaw") == "rule of law"


def test_full_width_letters_and_digits_fold_but_chinese_punctuation_stays():
    assert fold_width("ＡＰＰ下载量达１２０万次，") == "APP下载量达120万次，"
    assert normalize_text("共计\u3000１２\u3000人。") == "共计 12 人。"


def test_markup_is_stripped():
    assert strip_markup("## 法治聚焦\n**普法**宣传") == "法治聚焦\n普法宣传"
    assert normalize_text("**检察**听证") == "检察听证"


def test_carriage_returns_are_line_breaks():
    assert normalize_text("派出\r\n所民警。\r\n\r\n完") == "派出所民警。\n完"


page_text = st.lists(st.sampled_from(list("法院检察公安普法。，！？ab1 \n\n\t\u3000") + ["\r\n", "\r"]), max_size=300).map("".join)


@given(page_text)
@settings(max_examples=300, deadline=None)
def test_reflow_keeps_every_visible_character_and_maps_offsets_back(text):
    flowed = reflow(text)
    assert len(flowed.text) == len(flowed.offsets)
    # Every non-whitespace character survives, in order.
    assert [c for c in flowed.text if not c.isspace()] == [c for c in text if not c.isspace()]
    for char, offset in zip(flowed.text, flowed.offsets):
        assert 0 <= offset < len(text)
        # A kept character maps to itself; an inserted separator maps to whitespace.
        assert text[offset] == char or (char in " \n" and text[offset].isspace())
    assert flowed.offsets == sorted(flowed.offsets)


@given(page_text)
@settings(max_examples=300, deadline=None)
def test_fast_reflow_matches_the_offset_keeping_one(text):
    assert reflow_text(text) == reflow(text).text
