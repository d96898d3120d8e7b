"""Institutions and places named in a text (invented sentences)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from training.pages.entities import extract_entities


def test_full_police_name_and_its_short_form_later():
    text = "近日，青州市公安局清河分局东关派出所民警走访辖区商户。东关派出所所长表示，将持续开展夜巡。"
    assert extract_entities(text) == {"institutions": ["青州市公安局清河分局东关派出所"], "places": ["青州市"]}


def test_court_tribunal_and_procuratorate():
    got = extract_entities("南湖县人民法院清水人民法庭开展巡回审判后，东山区人民检察院也召开了公开听证会。")
    assert got["institutions"] == ["南湖县人民法院清水人民法庭", "东山区人民检察院"]
    assert got["places"] == ["南湖县", "东山区"]


def test_justice_bureaus_and_traffic_brigade():
    got = extract_entities("青州市司法局联合东山区司法所开展普法宣传；锡林郭勒盟正蓝旗公安局交警大队民警在路口执勤。")
    assert got["institutions"] == ["青州市司法局", "东山区司法所", "锡林郭勒盟正蓝旗公安局交警大队"]
    assert got["places"] == ["青州市", "东山区", "锡林郭勒盟", "正蓝旗"]


def test_generic_mentions_are_no_names():
    text = "当事人可向县法院起诉，也可以到辖区派出所咨询；全区公安派出所开展了专项行动，一审法院作出了判决。"
    assert extract_entities(text) == {"institutions": [], "places": []}


def test_demonstrative_is_not_part_of_the_name():
    got = extract_entities("在扎鲁特旗，该旗公安局巴雅尔吐胡硕派出所成立了调解室。")
    assert got["institutions"] == ["巴雅尔吐胡硕派出所"]
    assert got["places"] == ["扎鲁特旗"]


def test_place_split_by_the_dictionary_is_rejoined():
    # The legal dictionary knows 市公安局 as one word; the place before it keeps its 市.
    got = extract_entities("他来到乌兰浩特市公安局报案。")
    assert got == {"institutions": ["乌兰浩特市公安局"], "places": ["乌兰浩特市"]}


def test_hard_wrap_inside_a_name_and_a_news_source_line():
    assert extract_entities("呼和浩特市公安\n局新城区分局民警入户走访。")["institutions"] == ["呼和浩特市公安局新城区分局"]
    assert extract_entities("赔偿十万元中国法院网讯 近日，北林区人民法院审结此案。")["institutions"] == ["北林区人民法院"]


def test_unique_in_order_of_first_appearance():
    text = "东山区人民检察院与青州市司法局座谈。东山区人民检察院检察长介绍了情况，青州市司法局作了发言。"
    assert extract_entities(text)["institutions"] == ["东山区人民检察院", "青州市司法局"]


def test_empty_text():
    assert extract_entities("") == {"institutions": [], "places": []}


@given(st.lists(st.sampled_from(["派出所", "公安局", "人民法院", "市", "旗", "该", "区", "，", "\n", "某", "第二", "网", "东山"]), max_size=40).map("".join))
@settings(max_examples=200, deadline=None)
def test_names_are_substrings_of_the_reflowed_text(text):
    got = extract_entities(text)
    flat = "".join(text.split())
    assert all(name in flat for name in got["institutions"] + got["places"])
    assert len(set(got["institutions"])) == len(got["institutions"])
