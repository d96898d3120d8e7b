"""The page splitter on invented pages: every layout convention of training/pages/patterns.toml."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from training.pages.patterns import PagePatterns, load_patterns
from training.pages.segment import Article, segment


def wrap(text: str, width: int) -> str:
    """Hard-wrap a paragraph at `width` characters, as a PDF column does."""
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


# A page printing each headline above its byline and body, one line per paragraph: a column
# header, two bylines styles, an article whose tail ("…安全隐患排") continues below the next
# article ("查工作。…"), a section heading, a headline that opens a report of another organ,
# an inline sign-off and a captioned photo under a column header.
PAGE_BEFORE = "\n\n".join([
    "法治聚焦",
    "清河派出所夜巡护航平安街区",
    "□本报记者 张明 通讯员 李华",
    "近日，青州市公安局清河派出所组织民警开展夜间巡逻，重点检查沿街商铺的消防通道和防盗设施，辖区群众纷纷点赞。",
    "巡逻中，民警发现一家超市后门未上锁，立即联系店主加固门锁，并提醒商户配合派出所做好安全隐患排",
    "东山区检察院公益诉讼守护水源地",
    "本报讯（记者 王芳）日前，东山区人民检察院就一起饮用水源保护案件召开公开听证会，检察官邀请人大代表参加听证。",
    "检察官介绍，该院在履职中发现水源地周边存在违规堆放垃圾问题，随即依法制发检察建议，督促相关部门整改。",
    "查工作。民警还将防诈骗宣传单送到每家店铺，提醒店主警惕冒充客服的电信诈骗。",
    "智慧警务提速增效",
    "派出所民警借助移动警务终端，在巡逻现场即可核查可疑人员身份，接处警效率明显提升。",
    "警方表示，将继续加强夜间巡逻，守护群众平安。",
    "普法宣传进校园 法治种子润童心",
    "为深入开展普法宣传，青州市司法局联合多所学校举办法治讲座，普法志愿者用案例向学生讲解宪法和未成年人保护法。",
    "活动还设置了普法知识问答，学生们踊跃学法懂法，法治宣传教育效果良好。（陈晨）",
    "图片新闻",
    "民警向小学生讲解交通安全知识。 本报记者 张明 摄",
]) + "\n"

COURT_1 = "“多亏法官到村里开庭，我们不用跑几十里路进城了。”近日，南湖县人民法院在清水村开展巡回审判，村民们纷纷前来旁听。"
COURT_2A = "庭审结束后，法官结合案情向旁听群众释法说理，讲解相邻关系纠纷中的法律规定，引导村民依法化解矛盾纠"
COURT_2B = "纷。今年以来，该院已开展巡回审判三十余场，审理案件五十余件。"
FRAUD_1 = "张某在网上结识一名自称投资顾问的网友，在对方诱导下向陌生账户转账五万元，察觉被骗后立即报警，民警随即开展调查。"
FRAUD_2 = "经过连日追查，专案民警锁定了嫌疑人的落脚点，将其抓获归案，并追回部分被骗资金，案件正在进一步侦办中。"
CAPTION = "社区民警在广场向过往群众发放反诈宣传资料。 通讯员 钱亮 摄"

# A page printing headlines after their bodies, hard-wrapped in columns of different widths:
# a byline first, a word cut by a wrap across a blank line ("矛盾纠" / "纷。"), a paragraph
# printed twice, a headline closing its body, a headline + byline (and empty 【案情】【说法】
# markers) with no body of their own, a column header and a caption titled after it.
PAGE_AFTER = "\n\n".join([
    "□本报记者 赵雷",
    wrap(COURT_1, 16),
    wrap(COURT_2A, 16),
    wrap(COURT_2B, 16),
    wrap(COURT_2A, 16),
    "巡回法庭开进田间地头",
    wrap(FRAUD_1, 22),
    wrap(FRAUD_2, 22),
    "网络投资需谨慎 莫信高额回报\n□本报记者 孙悦",
    "【案情】",
    "【说法】",
    "以案说法",
    wrap(CAPTION, 22),
    "反诈宣传进社区",
]) + "\n"


def covered(page: str, article: Article) -> str:
    """The page text inside an article's spans, whitespace removed."""
    return "".join("".join(page[a:b].split()) for a, b in article.spans)


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def before() -> list[Article]:
    return segment(PAGE_BEFORE)


@pytest.fixture(scope="module")
def after() -> list[Article]:
    return segment(PAGE_AFTER)


def test_headline_first_page_gives_each_article_its_title_and_byline(before):
    assert [(a.kind, a.title) for a in before] == [
        ("article", "清河派出所夜巡护航平安街区"),
        ("article", "东山区检察院公益诉讼守护水源地"),
        ("article", "普法宣传进校园 法治种子润童心"),
        ("caption", ""),
    ]
    police, procuratorate, publicity, photo = before
    assert police.byline == "□本报记者 张明 通讯员 李华"
    assert procuratorate.byline == "本报讯（记者 王芳）"
    assert procuratorate.text.startswith("日前，东山区人民检察院")
    assert publicity.byline == ""
    assert photo.text == "民警向小学生讲解交通安全知识。"
    assert photo.byline == "本报记者 张明 摄"


def test_interleaved_tail_is_reattached_across_the_next_article(before):
    police, procuratorate = before[0], before[1]
    assert "安全隐患排查工作。民警还将防诈骗宣传单" in police.text
    assert "查工作" not in procuratorate.text
    # Two body spans: the column before the other article and its continuation after it.
    tail = PAGE_BEFORE.index("查工作")
    assert any(a <= tail < b for a, b in police.spans)
    assert procuratorate.start > police.spans[0][0] and procuratorate.end < tail
    assert police.start == min(a for a, _ in police.spans) and police.end == max(b for _, b in police.spans)


def test_section_heading_stays_inside_and_another_organ_starts_an_article(before):
    police, publicity = before[0], before[2]
    assert "智慧警务提速增效" in police.text.split("\n")
    assert police.text.endswith("守护群众平安。")
    assert publicity.text.endswith("（陈晨）")


def test_column_headers_are_dropped(before, after):
    for page, articles in ((PAGE_BEFORE, before), (PAGE_AFTER, after)):
        for header in ("法治聚焦", "图片新闻", "以案说法"):
            if header in page:
                at = page.index(header)
                assert not any(a <= at < b for art in articles for a, b in art.spans), header
    assert all("图片新闻" not in a.text for a in before)


def test_headline_after_its_body_closes_that_body(after):
    assert [(a.kind, a.title) for a in after] == [
        ("article", "巡回法庭开进田间地头"),
        ("article", "网络投资需谨慎 莫信高额回报"),
        ("caption", "反诈宣传进社区"),
    ]
    court, fraud, photo = after
    assert court.byline == "□本报记者 赵雷"
    assert court.text.startswith("“多亏法官到村里开庭")
    # The title printed after the body is the article's first span in reading order.
    assert PAGE_AFTER[slice(*court.spans[0])] == "巡回法庭开进田间地头"
    assert photo.text == "社区民警在广场向过往群众发放反诈宣传资料。"
    assert photo.byline == "通讯员 钱亮 摄"


def test_headline_and_byline_without_body_attach_to_the_untitled_body_before(after):
    fraud = after[1]
    assert fraud.byline == "□本报记者 孙悦"
    assert fraud.text.startswith("张某在网上结识")
    assert fraud.text.split("\n")[-2:] == ["【案情】", "【说法】"]  # case markers stay in the article
    assert "（" not in fraud.title


def test_wrap_inside_a_word_across_a_blank_line_is_joined(after):
    court = after[0]
    assert "引导村民依法化解矛盾纠纷。今年以来" in court.text
    assert "\n" not in court.text.split("”近日，")[1].split("旁听。")[0]  # plain wraps joined too


def test_repeated_paragraph_is_dropped_from_the_second_copy(after):
    court = after[0]
    assert court.text.count("庭审结束后") == 1
    second = PAGE_AFTER.rindex(COURT_2A[:8])
    assert len(court.repeats) == 1 and court.repeats[0][0] == second
    assert not any(a <= second < b for a, b in court.spans)


def test_offsets_map_back_to_the_page(before, after):
    for page, articles in ((PAGE_BEFORE, before), (PAGE_AFTER, after)):
        for art in articles:
            inside = covered(page, art)
            assert squeeze(art.title) in inside and squeeze(art.byline) in inside
            assert Counter(squeeze(art.text)) <= Counter(inside)
            assert squeeze(page[art.start:art.end]).startswith(squeeze(page[slice(*min(art.spans))]))


def test_classify_text_and_to_dict(before):
    art = before[0]
    assert art.classify_text == art.title + "\n" + art.text
    d = art.to_dict()
    assert d["title"] == art.title and d["spans"] == [list(s) for s in art.spans] and d["kind"] == "article"
    assert segment(PAGE_BEFORE)[3].classify_text == before[3].text  # an untitled caption: no blank line


def test_patterns_are_data(tmp_path: Path):
    """A newspaper with another column name or byline style needs a table row, not code."""
    text = (Path(__file__).parents[1] / "training" / "pages" / "patterns.toml").read_text(encoding="utf-8")
    page = "北疆时评\n\n◎特约撰稿 周正\n\n平安建设需要每个人参与。"
    # Unknown to the shipped table: two short lines read as a two-line headline.
    assert [(a.title, a.byline) for a in segment(page)] == [("北疆时评 ◎特约撰稿 周正", "")]
    custom = tmp_path / "patterns.toml"
    custom.write_text(
        text.replace('headers = [\n', 'headers = [\n  "北疆时评",\n', 1)
        .replace("standalone = [\n", "standalone = [\n  '^◎特约撰稿[\\u4e00-\\u9fff]{2,4}$',\n", 1),
        encoding="utf-8",
    )
    patterns = load_patterns(custom)
    assert isinstance(patterns, PagePatterns)
    [art] = segment(page, patterns)
    assert art.title == "" and art.byline == "◎特约撰稿 周正" and art.text == "平安建设需要每个人参与。"


def test_bad_pattern_table_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[limits]\nheadline_max_chars = 30\nno_such_key = 1\n', encoding="utf-8")
    with pytest.raises(ValueError, match="invalid page pattern table"):
        load_patterns(bad)


def test_empty_and_blank_pages():
    assert segment("") == []
    assert segment(" \n\n\t\u3000\n") == []


def test_a_twenty_thousand_character_page_splits_into_every_article():
    # Speed is measured by bench.segment_eval and growth by tests/test_linear_time.py, not by a
    # timed test on a shared machine; here: a long page of pasted pages loses no article.
    page = "\n\n".join([PAGE_BEFORE, PAGE_AFTER] * 24)
    assert len(page) > 19_000
    articles = segment(page)
    assert len(articles) >= 48
    assert max(a.end - a.start for a in articles) < 2 * max(len(PAGE_BEFORE), len(PAGE_AFTER))


pieces = st.sampled_from(
    ["法治聚焦", "□本报记者 张明", "本报讯（记者 王芳）", "【案情】", "（陈晨）", "摄", "通讯员 钱亮 摄",
     "派出所", "人民法院", "检察院", "普法", "安全隐患排", "查工作。", "巡回审判", "。", "，", "“", "”",
     "\n", "\n\n", "\r\n", " ", "\u3000", "a1", "图为"]
)
page_text = st.one_of(
    st.lists(pieces, max_size=60).map("".join),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
)


@given(page_text)
@settings(max_examples=300, deadline=None)
def test_segment_is_total_and_its_spans_map_back(page):
    articles = segment(page)
    taken: list[tuple[int, int]] = []
    for art in articles:
        assert art.kind in ("article", "caption")
        assert art.spans
        for a, b in art.spans + art.repeats:
            assert 0 <= a < b <= len(page)
        assert art.start == min(a for a, _ in art.spans) and art.end == max(b for _, b in art.spans)
        inside = covered(page, art)
        assert Counter(squeeze(art.text + art.title + art.byline)) <= Counter(inside)
        taken.extend(art.spans)
    taken.sort()
    assert all(prev[1] <= nxt[0] for prev, nxt in zip(taken, taken[1:])), "spans of articles overlap"


# ---- conventions added for issue 14 (our own text) ------------------------------------------

_BODY_A = "区人民法院开庭审理一起买卖合同纠纷案件，双方当事人在法官主持下达成调解协议。"
_BODY_B = "市公安局交警支队在城区主要路口开展夜间酒驾专项整治行动，查处违法行为十二起。"


@pytest.mark.parametrize("byline", ["□ 张明", "■ 刘晓峰 王磊", "本报评论员", "本报乌鲁木齐电 "])
def test_more_byline_forms_open_an_article(byline):
    sep = "" if byline.endswith(" ") else "\n\n"
    page = f"法庭开进田间地头\n\n□本报记者 李华\n\n{_BODY_A}\n\n交警夜查酒驾\n\n{byline}{sep}{_BODY_B}"
    arts = segment(page)
    assert [a.title for a in arts] == ["法庭开进田间地头", "交警夜查酒驾"]
    assert arts[1].byline.replace(" ", "").startswith(byline.replace(" ", "")[:3])
    assert _BODY_B[:10] in arts[1].text


def test_lines_wider_than_any_wrap_are_paragraphs_without_blank_lines():
    page = f"法庭开进田间地头\n{_BODY_A * 2}\n交警夜查酒驾\n{_BODY_B * 2}"
    arts = segment(page)
    assert [a.title for a in arts] == ["法庭开进田间地头", "交警夜查酒驾"]


def test_a_tail_opening_with_a_comma_rejoins_its_sentence():
    page = (f"法庭开进田间地头\n\n{_BODY_A}法官随后向旁听村民讲解了合同\n\n交警夜查酒驾\n\n{_BODY_B}\n\n"
            "，签订时要写明质量标准和付款期限。")
    arts = segment(page)
    court = next(a for a in arts if a.title == "法庭开进田间地头")
    assert "合同，签订时" in court.text


# An article cut mid-word ("…安全隐患排") whose tail ("查工作。…") is printed right under the next
# article's byline, before that article's first paragraph.
_CUT_A = ("清河派出所夜巡护航平安街区", "近日，青州市公安局清河派出所组织民警开展夜间巡逻，重点检查沿街商铺的消防通道和防盗设施。",
          "巡逻中，民警发现一家超市后门未上锁，立即联系店主加固门锁，并提醒沿街商户配合派出所做好安全隐患排",
          "查工作。民警还将防诈骗宣传单送到每家店铺，提醒店主警惕冒充客服的电信诈骗，派出所夜巡将常态化开展。")
_CUT_B = ("东山区检察院公益诉讼守护水源地", "□本报记者 王芳",
          "日前，东山区人民检察院就一起饮用水源保护公益诉讼案件召开公开听证会，邀请人大代表参加听证。",
          "检察官介绍，该院在办理公益诉讼案件中发现水源地周边违规堆放垃圾，随即向相关部门制发检察建议。",
          "目前，水源地周边垃圾已全部清运，东山区检察院将持续跟进监督，守护群众饮用水安全。")


def test_a_tail_right_under_the_next_byline_completes_its_word():
    page = "\n\n".join([*_CUT_A[:3], *_CUT_B[:2], _CUT_A[3], *_CUT_B[2:]])
    police, procuratorate = segment(page)
    assert "安全隐患排查工作。民警还将" in police.text
    assert procuratorate.byline == "□本报记者 王芳"
    assert procuratorate.text.startswith("日前，东山区人民检察院")
    assert "查工作" not in procuratorate.text and procuratorate.text.endswith("守护群众饮用水安全。")


def test_a_caption_between_a_tail_and_the_resumed_article_does_not_hide_the_resumption():
    caption = "图为民警在路口疏导交通。 本报记者 赵红 摄"
    page = "\n\n".join([*_CUT_A[:3], *_CUT_B[:3], _CUT_A[3], caption, *_CUT_B[3:]])
    arts = segment(page)
    police, procuratorate = (next(a for a in arts if a.title == t) for t in (_CUT_A[0], _CUT_B[0]))
    assert "安全隐患排查工作。" in police.text and "水源地周边垃圾" not in police.text
    assert procuratorate.text.endswith("守护群众饮用水安全。") and "查工作" not in procuratorate.text
    assert any(a.kind == "caption" for a in arts)


def test_a_blank_line_inside_a_word_is_a_wrap_not_a_paragraph_break():
    # An extraction that prints the line breaks of a wrapped paragraph as blank lines: the piece
    # after "…隐患排" alone would look like a two-line headline.
    page = ("清河派出所夜巡护航平安街区\n\n□本报记者 张明\n\n"
            "近日，青州市公安局清河派出所组织民\n警开展夜间巡逻，重点检查安全隐患排\n\n"
            "查和消防通道畅通情况\n民警还将防诈骗宣传单送到每家店铺\n\n"
            "巡逻中，民警发现一家超市后门未上锁，立即联系店主加固门锁。")
    arts = segment(page)
    assert [a.title for a in arts] == ["清河派出所夜巡护航平安街区"]
    assert "重点检查安全隐患排查和消防通道畅通情况" in arts[0].text.replace("\n", "")


@pytest.mark.parametrize("gap, joined", [
    ("安全隐患排\n\n查和消防通道", True),     # a blank line inside 排查: a wrap
    ("安全隐患排查\n\n工作和消防通道", False),  # between two words: a paragraph break may fall there
    ("安全隐患排查。\n\n查和消防通道", False),  # after a sentence's end
])
def test_a_blank_line_joins_pieces_only_inside_a_word(gap, joined):
    from training.pages.patterns import default_patterns
    from training.pages.segment import _Splitter

    page = f"近日，青州市公安局清河派出所组织民\n警开展夜间巡逻，重点检查{gap}畅通情况\n民警还将宣传单送到每家店铺。"
    pieces = list(_Splitter(page, default_patterns(), None).joined_pieces())
    assert len(pieces) == (1 if joined else 2)
    assert pieces[-1][1] == len(page) and pieces[0][0] == 0


def test_a_reprinted_paragraph_belongs_with_the_article_that_printed_it_first():
    # The reprint of the procuratorate article's first paragraph comes after the police
    # article's interleaved tail, inside the police article's stretch of the page.
    page = "\n\n".join([*_CUT_A[:3], *_CUT_B[:3], _CUT_A[3], _CUT_B[2], *_CUT_B[3:]])
    arts = segment(page)
    police, procuratorate = (next(a for a in arts if a.title == t) for t in (_CUT_A[0], _CUT_B[0]))
    reprint = page.rindex(_CUT_B[2][:10])
    assert [a for a, _ in procuratorate.repeats] == [reprint]
    assert police.repeats == [] and "安全隐患排查工作" in police.text


def test_a_comma_headline_over_a_byline_stays_a_headline_after_a_cut_column():
    # After an unfinished (cut) column a line with a comma would be taken for its next line,
    # but a byline right under it says it is the next article's headline.
    head = "检察官支持起诉，农民工讨回工钱"
    page = "\n\n".join([*_CUT_A[:3], head, "□本报记者 王芳", *_CUT_B[2:4], _CUT_A[3], _CUT_B[4]])
    arts = segment(page)
    assert head in [a.title for a in arts]
    court = next(a for a in arts if a.title == head)
    assert court.byline == "□本报记者 王芳" and court.text.startswith("日前，东山区人民检察院")
    assert head not in next(a for a in arts if a.title == _CUT_A[0]).text


@pytest.mark.parametrize("eol, filler", [("\n", ""), ("\r\n", ""), ("\r", ""), ("\n", "\u200b"), ("\n", "\ufeff"),
                                          ("\r\n", "\u3000")])
def test_a_wrap_across_a_blank_line_is_joined_whatever_the_line_breaks(eol, filler):
    page = ("清河派出所夜巡护航平安街区\n\n□本报记者 张明\n\n近日，青州市公安局清河派出所组织民\n警开展夜间巡逻，重点检查安全隐患排"
            "\nBLANK\n查和消防通道畅通情况\n民警还将防诈骗宣传单送到每家店铺\n\n巡逻中，民警发现一家超市后门未上锁。")
    [police] = segment(page.replace("BLANK", filler).replace("\n", eol))
    assert "重点检查安全隐患排查和消防通道畅通情况民警还将" in police.text


def test_a_reprint_of_part_of_a_reprint_goes_with_the_article_that_printed_it_first():
    # X is printed whole in the police article; the procuratorate article reprints it wrapped
    # across a blank line (one paragraph, a duplicate), then its first part alone.
    p1 = "近日，青州市公安局清河派出所组织民\n警开展夜间巡逻，重点检查沿街商铺的\n消防设施和防盗设施，开展安全隐患排"
    p2 = "查和消防通道畅通情况\n民警还将防诈骗宣传单送到每家店铺"
    x = p1.replace("\n", "") + p2.replace("\n", "")
    page = ("清河派出所夜巡护航平安街区\n\n□本报记者 张明\n\n" + x + "\n\n巡逻中，民警发现一家超市后门未上锁。\n\n"
            "东山区检察院公益诉讼守护水源地\n\n□本报记者 王芳\n\n日前，东山区人民检察院召开公开听证会。\n\n"
            + p1 + "\n\n" + p2 + "\n\n目前，水源地周边垃圾已全部清运。\n\n" + p1 + "\n\n检察官将持续跟进，守护群众饮用水安全。")
    police, procuratorate = segment(page)
    assert page.rindex(p1) in [a for a, _ in police.repeats]
    assert page.index(p1) in [a for a, _ in police.repeats]  # the whole reprint, too
    assert procuratorate.repeats == []


def test_the_interrupted_article_resumes_even_when_the_next_article_is_set_like_the_tail():
    # Columns: the police article (wrapped at 14) is cut, the procuratorate article (at 22)
    # starts, the police tail follows, the procuratorate article resumes, then a traffic article
    # set at 14 like the tail, whose headline has no byline under it.
    police = ["近日，青州市公安局清河派出所组织民警开展夜间巡逻，重点检查沿街商铺的消防通道和防盗设施。",
              "巡逻中，民警发现一家超市后门未上锁，立即联系店主加固门锁，并提醒商户做好安全隐患排",
              "查工作。民警还将防诈骗宣传单送到每家店铺，提醒店主警惕冒充客服的电信诈骗。",
              "派出所负责人表示，夜间巡逻将常态化开展，民警会继续走访沿街商户，守护街区平安。"]
    water = ["日前，东山区人民检察院就一起饮用水源保护公益诉讼案件召开公开听证会，邀请人大代表、政协委员和周边村民代表参加听证。",
             "检察官介绍，该院在办理公益诉讼案件中发现水源地周边违规堆放垃圾，随即向相关部门制发检察建议。",
             "目前，水源地周边垃圾已全部清运，相关部门建立了长效巡查机制，东山区检察院将持续跟进监督，守护群众饮用水安全。"]
    traffic = ["昨晚，西城区交警大队在辖区主要路口开展酒驾醉驾集中整治行动，查处酒后驾驶违法行为多起。",
               "交警提醒广大驾驶人，饮酒后切勿驾驶机动车，醉酒驾驶将被依法追究刑事责任。",
               "据统计，今年以来西城区交警大队已查处酒驾违法行为一百二十余起，其中醉驾二十余起。"]
    page = "\n\n".join([
        "清河派出所夜巡护航平安街区", "□本报记者 张明", wrap(police[0], 14), wrap(police[1], 14),
        "东山区检察院公益诉讼守护水源地", "□本报记者 王芳", wrap(water[0], 22),
        wrap(police[2], 14), wrap(police[3], 14), wrap(water[1], 22), wrap(water[2], 22),
        "交警夜查酒驾 守护出行平安", *(wrap(t, 14) for t in traffic)])
    arts = {a.title: a.text.replace("\n", "") for a in segment(page)}
    assert "安全隐患排查工作" in arts["清河派出所夜巡护航平安街区"]
    assert "违规堆放垃圾" not in arts["清河派出所夜巡护航平安街区"]
    assert arts["东山区检察院公益诉讼守护水源地"].endswith("守护群众饮用水安全。")
