"""The HTML evaluation report: numbers, plots beside the page, and the worst mistakes with evidence."""

from __future__ import annotations

import re

import pytest

from training.evaluate import score
from training.report import calibration, gold_vs_predicted, render_report_html, worst_mistakes, write_report
from training.tagger import Result, Tagger

NAMES = {"policing": "公安", "courts": "法院", "procuratorate": "检察", "legal_publicity": "普法"}

# Invented articles; the last gold set is deliberately wrong (a police story labelled courts), so
# the tiny model makes at least one false positive and one false negative.
ITEMS = [
    ("派出所民警连夜出警，抓获两名盗窃电动车的嫌疑人。", {"policing"}, set()),
    ("区人民法院公开开庭审理一起合同诈骗案，当庭宣判被告人有期徒刑五年。", {"courts"}, set()),
    ("县人民检察院对涉嫌诈骗的李某依法批准逮捕，并提前介入引导侦查。", {"procuratorate"}, set()),
    ("司法所普法志愿者走进社区，以案说法讲解民法典婚姻家庭编。", {"legal_publicity"}, set()),
    ("今年小麦喜获丰收，农户忙着晾晒新粮。", set(), set()),
    ("法官走进校园上法治课，结合案例讲解未成年人保护法。", {"legal_publicity"}, {"courts"}),
    ("交警大队民警在路口查处酒驾，扣留驾驶证三本。", {"courts"}, set()),
]


@pytest.fixture(scope="module")
def tagged(tiny_model):
    pipe, info = tiny_model
    tagger = Tagger(pipe, {"version": "tiny-1", "thresholds": info["thresholds"]})
    texts = [t for t, _, _ in ITEMS]
    results = tagger.classify(texts, explain=8)
    return tagger, texts, results


def test_write_report_writes_a_page_with_plots_and_mistakes(tmp_path, tagged, labels):
    tagger, texts, results = tagged
    gold = [g for _, g, _ in ITEMS]
    optional = [o for _, _, o in ITEMS]
    report = score(gold, [set(r.labels) for r in results], labels, optional)
    report["model"] = tagger.version
    assert "policing" in results[-1].labels and "courts" not in results[-1].labels  # the planted mistake

    index = write_report(tmp_path / "report", texts, gold, optional, results, labels, report, NAMES,
                         title="小样本评估", thresholds=tagger.thresholds)
    assert index == tmp_path / "report" / "index.html"
    page = index.read_text(encoding="utf-8")
    for label in labels:
        assert label in page and NAMES[label] in page
    assert "小样本评估" in page and "tiny-1" in page and f"{report['macro_f1']:.3f}" in page

    # Plots beside the page, referenced by relative paths; nothing external, no scripts.
    for name in ("prf.png", "calibration.png"):
        png = tmp_path / "report" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
        assert f'src="{name}"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "<script" not in page

    # The per-label table has TP/FP/FN as the score report says.
    m = report["per_label"]["policing"]
    assert m["fp"] >= 1 and report["per_label"]["courts"]["fn"] >= 1

    # The mistakes section lists the planted mistake with its evidence and an excerpt.
    mistakes = page.split('id="mistakes"', 1)[1]
    fp_part, fn_part = mistakes.split("漏标：", 1)
    plain = [re.sub(r"<[^>]+>", "", part) for part in (fp_part, fn_part)]
    assert "交警大队民警在路口查处酒驾" in plain[0] and "误标（FP） 公安" in plain[0]
    assert "交警大队民警在路口查处酒驾" in plain[1] and "漏标（FN） 法院" in plain[1]
    evidence = results[-1].explain["policing"]
    assert evidence and all(f">{e['term']}</code>" in fp_part for e in evidence)
    assert "<mark>" in fp_part


def test_mistakes_rank_false_positives_high_first_and_false_negatives_low_first():
    labels = ["a", "b"]
    texts = [f"文本{i}，证据词{i}在这里。" for i in range(5)]
    gold = [set(), set(), {"a"}, {"a"}, {"b"}]
    optional = [set(), {"a"}, set(), set(), set()]
    results = [
        Result(["a"], {"a": 0.7, "b": 0.1}, {"a": [{"term": "证据词0", "kind": "words", "weight": 0.3}]}),
        Result(["a"], {"a": 0.99, "b": 0.1}, {"a": []}),  # optional: not a false positive
        Result([], {"a": 0.2, "b": 0.1}, {}),
        Result(["b"], {"a": 0.05, "b": 0.9}, {"b": [{"term": "证据词3", "kind": "words", "weight": 0.2}]}),
        Result(["a", "b"], {"a": 0.95, "b": 0.8}, {"a": [], "b": []}),
    ]
    found = worst_mistakes(texts, gold, results, labels, optional)
    assert [(m.index, m.label) for m in found["false_positives"]] == [(4, "a"), (3, "b"), (0, "a")]
    assert [(m.index, m.label) for m in found["false_negatives"]] == [(3, "a"), (2, "a")]
    fn = found["false_negatives"][0]
    assert fn.evidence == {"b": results[3].explain["b"]} and "证据词3" in fn.excerpt
    assert worst_mistakes(texts, gold, results, labels, optional, limit=1)["false_positives"][0].index == 4


def test_gold_vs_predicted_and_calibration_numbers():
    labels = ["a", "b"]
    gold = [{"a", "b"}, set(), {"b"}]
    predicted = [{"a"}, {"b"}, set()]
    counts = gold_vs_predicted(gold, predicted, labels)
    assert counts["a"]["a"] == 1 and counts["b"]["a"] == 1 and counts["—"]["b"] == 1 and counts["b"]["—"] == 1
    assert sum(v for row in counts.values() for v in row.values()) == 4

    results = [Result([], {"a": 0.95, "b": 0.05}), Result([], {"a": 0.05, "b": 0.95})]
    calib = calibration([{"a"}, {"a"}], results, labels)
    assert calib["n"] == 4
    top = calib["bins"][-1]
    assert top["n"] == 2 and top["mean_score"] == 0.95 and top["positive_rate"] == 0.5
    assert calib["brier"] == pytest.approx((2 * 0.05**2 + 2 * 0.95**2) / 4, abs=1e-4)
    assert 0 < calib["ece"] < 1


def test_render_report_html_is_one_self_contained_page_and_escapes_text():
    labels = ["a", "b"]
    texts = ['<script>alert("x")</script>证据词出现']
    results = [Result(["a"], {"a": 0.9, "b": 0.1}, {"a": [{"term": "证据词", "kind": "words", "weight": 0.5}]})]
    gold = [set()]
    report = score(gold, [set(r.labels) for r in results], labels)
    page = render_report_html(texts, gold, None, results, labels, report, {"a": "甲", "b": "乙"})
    assert page.count("data:image/png;base64,") == 2
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<mark>证据词</mark>" in page
    with pytest.raises(ValueError):
        render_report_html(texts * 2, gold, None, results, labels, report)


HOSTILE = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "' onmouseover='alert(3)", "</textarea><b>粗</b>&amp;"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_anywhere_in_the_report_is_escaped(hostile):
    """Article text, evidence terms, label names, the title and the model id all reach the page as text."""
    labels = ["a", "b"]
    texts = [f"开头{hostile}证据词{hostile}结尾", f"{hostile}第二篇"]
    evidence = [{"term": hostile, "kind": hostile, "weight": 0.5}, {"term": "证据词", "kind": "words", "weight": 0.4}]
    results = [Result(["a"], {"a": 0.9, "b": 0.1}, {"a": evidence}), Result(["b"], {"a": 0.2, "b": 0.8}, {"b": evidence})]
    gold = [set(), {"a"}]
    report = score(gold, [set(r.labels) for r in results], labels)
    report["model"] = hostile
    page = render_report_html(texts, gold, None, results, labels, report, {"a": hostile, "b": "乙"},
                              title=hostile, thresholds={"a": 0.5, "b": 0.5}, images={})
    assert hostile not in page
    # Parsed as a browser would: only the report's own elements, no event handler, no script.
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, [name for name, _ in attrs]))

    parser = Tags()
    parser.found = []
    parser.feed(page)
    tags = {tag for tag, _ in parser.found}
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div", "span", "b", "table",
                    "tr", "th", "td", "figure", "img", "figcaption", "mark", "code"}, tags
    assert "img" not in tags  # no plots were given, so any <img> would be the article's
    assert not [attrs for _, attrs in parser.found if any(a.startswith("on") for a in attrs)]
    # What a person reads is the original text, unescaped once by the browser.
    import html as html_lib

    plain = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    assert hostile in plain
    assert hostile in [html_lib.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", page)]  # highlighted, as text


def test_plot_text_is_chinese_with_a_cjk_font_and_english_without(monkeypatch):
    import matplotlib.axes

    from training import report as report_module

    labels = ["a", "b"]
    results = [Result(["a"], {"a": 0.9, "b": 0.2}), Result([], {"a": 0.3, "b": 0.1})]
    gold = [{"a"}, {"b"}]
    scored = score(gold, [set(r.labels) for r in results], labels)
    calib = calibration(gold, results, labels)
    titles: list[str] = []
    original = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, label, *a, **k: (titles.append(label), original(self, label, *a, **k))[1])
    cases = [(None, "reliability")] + ([(report_module._cjk_font(), "可靠性")] if report_module._cjk_font() else [])
    for font, word in cases:
        monkeypatch.setattr(report_module, "_cjk_font", lambda font=font: font)
        titles.clear()
        plots = report_module.render_plots(scored, calib, labels, {"a": "甲", "b": "乙"})
        assert set(plots) == {"prf", "calibration"} and any(word in t for t in titles), titles
        assert all(not re.search(r"[\u4e00-\u9fff]", t) for t in titles) if font is None else True


def test_a_cjk_font_installed_after_matplotlibs_cache_is_found():
    from matplotlib import font_manager

    from training.report import CJK_FONTS, _cjk_font

    files = [p for p in font_manager.findSystemFonts() if "cjk" in p.lower() or "wqy" in p.lower()]
    if not files:
        pytest.skip("no CJK font on this machine (Debian: apt-get install fonts-noto-cjk)")
    _cjk_font.cache_clear()
    assert _cjk_font() in CJK_FONTS
