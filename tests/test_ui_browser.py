"""End to end: the page at / in headless Chromium (Playwright for Python) against a live server.

Needs Debian's chromium at /usr/bin/chromium (or TAGGER_CHROMIUM) and the `playwright` package;
Playwright's own browser download is never used. Without either the tests fail, naming the fix.

Also a script: `python tests/test_ui_browser.py [--models DIR] [--out docs/screenshots]` saves
screenshots of the page classifying PAGE (with models/ when it has an active model, else a tiny
model fitted on tests/data/tiny.csv), of /docs, and of an evaluation report on our own corpus.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TAGGER_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
INSTALL = "apt-get install -y chromium && .venv/bin/pip install playwright  (never `playwright install`)"
ADMIN_TOKEN = "ui-test-token"

# An invented 法治 page: four articles of different organs and a photo caption, blank lines between.
PAGE = """城关派出所破获系列盗窃电动车案

本报讯（记者 林晓雨）近日，江川县公安局城关派出所民警在夜间巡逻中发现一名形迹可疑的男子，经盘查，当场抓获涉嫌盗窃电动车的嫌疑人王某。经审讯，王某对其近两个月在城区连续盗窃电动车6辆的事实供认不讳。目前，王某已被依法刑事拘留，案件正在进一步侦办中。

河阳区法院公开宣判一起合同诈骗案

本报讯（通讯员 周明）日前，河阳区人民法院公开开庭审理并当庭宣判一起合同诈骗案。被告人陈某以虚构工程项目为由，骗取多名供货商货款共计86万元。法院经审理认为，被告人陈某以非法占有为目的骗取他人财物，数额特别巨大，其行为已构成合同诈骗罪，依法判处有期徒刑十年，并处罚金二十万元。

县检察院召开不起诉公开听证会

本报讯（通讯员 刘佳）为提升司法办案透明度，青石县人民检察院近日就一起轻伤害案件召开拟不起诉公开听证会，邀请人大代表、人民监督员担任听证员。听证员一致认为，犯罪嫌疑人认罪认罚并已赔偿被害人损失，取得谅解。检察院依法对其作出不起诉决定。

普法志愿者走进社区讲解民法典

本报讯（记者 王悦）为增强群众的法治意识，连日来，南湖街道司法所组织普法志愿者走进社区，围绕婚姻家庭、邻里纠纷等群众关心的问题开展民法典宣传活动，以案说法，现场解答法律咨询40余人次，发放法治宣传资料500余份。

图为民警在集市上向群众发放防范电信网络诈骗宣传资料。（通讯员 赵磊 摄）
"""

# card index -> (expected label's Chinese name, a word of its title)
EXPECTED = {0: ("公安", "城关派出所"), 1: ("法院", "河阳区法院"), 2: ("检察", "县检察院"), 3: ("普法", "普法志愿者")}


# ------------------------------------------------------------------------------------------------
# Server and browser


@contextmanager
def serve(app):
    """The app on 127.0.0.1 (an ephemeral port) in a werkzeug thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def missing() -> str | None:
    """Why the browser tests cannot run, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright for Python is not installed; install it with: {INSTALL}"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}; install it with: {INSTALL}"
    return None


@contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """The browser, or the reason there is none: each test then fails (never skips) with it."""
    problem = missing()
    if problem:
        yield problem
        return
    with chromium() as b:
        yield b


@pytest.fixture()
def live_url(settings):
    from service import create_app

    app = create_app({"TESTING": True, "TAGGER": dataclasses.replace(settings, admin_token=ADMIN_TOKEN)})
    with serve(app) as url:
        yield url


class Watched:
    """A page plus everything it requested and every script error it raised."""

    def __init__(self, browser, base: str, width: int, height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def open(self, model: bool = True):
        self.page.goto(self.base + "/")
        self.page.wait_for_selector("#legend .chip")  # /labels answered
        # /models and /models/<active> answered (or /models said there is none)
        self.page.wait_for_selector("#model-info .model-date" if model else "#no-model:not([hidden])")
        return self.page

    def classify(self, text: str, cards: int | None = None):
        page = self.page
        page.fill("#page-text", text)
        page.click("#classify-btn")
        page.wait_for_selector("#status.done, #status.error")
        if cards is not None:
            assert page.locator(".card").count() == cards, page.inner_text("#status")
        return page

    def close(self):
        self.page.close()


def open_page(browser, base: str, width: int = 1280, height: int = 900) -> Watched:
    if isinstance(browser, str):
        pytest.fail(browser, pytrace=False)
    return Watched(browser, base, width, height)


def post_json(url: str, payload: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urlopen(Request(url, data=json.dumps(payload).encode(), headers=headers)) as response:
        return json.load(response)


# ------------------------------------------------------------------------------------------------
# Tests


def test_page_splits_tags_and_highlights_a_newspaper_page(browser, live_url, tmp_path):
    w = open_page(browser, live_url)
    page = w.open()
    assert "tiny-1" in page.get_attribute("#model-info .model-date", "title")
    assert [c.strip() for c in page.locator("#legend .chip").all_text_contents()] == ["公安", "法院", "检察", "普法"]

    page.fill("#page-text", PAGE)
    assert page.is_checked("#opt-split"), "a page with several blank-line separated blocks splits by default"
    w.classify(PAGE, cards=5)
    api = post_json(live_url + "/classify", {"text": PAGE, "split": True, "explain": True, "entities": True})
    assert len(api["articles"]) == 5

    cards = page.locator(".card")
    for i, (name, title_word) in EXPECTED.items():
        card = cards.nth(i)
        assert title_word in card.locator(".card-title").inner_text()
        chips = card.locator(".chips .chip").all_text_contents()
        assert any(c.startswith(name + " ") and c.split()[-1].replace(".", "").isdigit() for c in chips), chips
        # The text is shown exactly as the API returned it; highlights only wrap parts of it.
        article = api["articles"][i]
        assert card.locator(".card-text").text_content() == article["text"]
        marks = card.locator("mark.hl")
        assert marks.count() > 0, f"card {i} has no highlighted evidence"
        returned = set(article["labels"])
        for k in range(marks.count()):
            mark = marks.nth(k)
            assert mark.get_attribute("data-label") in returned
            assert mark.text_content() in article["title"] + "\n" + article["text"]
        evidence_terms = {e["term"] for label in returned for e in article["explain"][label]}
        highlighted = "".join(marks.all_text_contents())
        assert any(term in highlighted for term in evidence_terms)

    caption = cards.nth(4)
    assert caption.get_attribute("data-kind") == "caption"
    assert "（图片说明）" in caption.locator(".card-title").inner_text()
    assert "赵磊" in caption.locator(".byline").inner_text()
    assert "江川县公安局城关派出所" in cards.nth(0).locator(".entities").inner_text()
    assert "5 篇" in page.inner_text("#status") and "图片说明 1" in page.inner_text("#status")

    # 显示全部分数: every label's score against the model's threshold.
    assert not cards.nth(0).locator(".scores").is_visible()
    page.check("#opt-all-scores")
    scores = cards.nth(0).locator(".scores")
    assert scores.is_visible()
    assert scores.locator(".score-row").count() == 4
    assert scores.locator(".bar-threshold").count() == 4
    assert "≥" in scores.locator(".score-row.over").first.inner_text()

    page.screenshot(path=str(tmp_path / "ui-1280.png"), full_page=True)
    assert (tmp_path / "ui-1280.png").stat().st_size > 10_000
    assert all(u.startswith(live_url + "/") for u in w.requests), [u for u in w.requests if not u.startswith(live_url)]
    assert any("/static/app.js" in u for u in w.requests) and any("/static/app.css" in u for u in w.requests)
    assert not w.errors, w.errors
    w.close()


def test_phone_width_has_no_horizontal_scroll(browser, live_url, tmp_path):
    w = open_page(browser, live_url, width=375, height=800)
    page = w.open()
    header = page.evaluate(
        "() => { const kids = [...document.querySelectorAll('.top-inner > *')].filter(e => e.offsetParent !== null);"
        " const r = kids.map(e => e.getBoundingClientRect());"
        " return {tops: r.map(b => Math.round(b.top + b.height / 2)), height: document.querySelector('.top').offsetHeight,"
        " line: parseFloat(getComputedStyle(document.querySelector('.top h1')).lineHeight)}; }")
    assert len(header["tops"]) >= 3 and max(header["tops"]) - min(header["tops"]) <= 6, header  # one line
    assert header["height"] < 2 * header["line"] + 20, header
    w.classify(PAGE, cards=5)
    # The results are scrolled into view after 标注.
    page.wait_for_function("() => { const r = document.getElementById('status').getBoundingClientRect();"
                           " return window.scrollY > 100 && r.top >= -1 && r.top < window.innerHeight / 2; }", timeout=5000)
    assert page.locator(".card").first.bounding_box()["y"] < 800
    page.check("#opt-all-scores")
    page.locator(".card").nth(0).locator(".evidence summary").click()
    page.click("#token-box summary")
    overflow = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth,"
        " widest: Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))})"
    )
    assert overflow["doc"] <= overflow["view"] and overflow["body"] <= overflow["view"], overflow
    assert overflow["widest"] <= overflow["view"] + 0.5, overflow
    page.screenshot(path=str(tmp_path / "ui-375.png"), full_page=True)
    assert not w.errors, w.errors
    w.close()


def test_correcting_tags_posts_feedback_with_the_session_token(browser, live_url):
    from playwright.sync_api import expect

    w = open_page(browser, live_url)
    page = w.open()
    w.classify(PAGE, cards=5)
    card = page.locator(".card").nth(3)
    boxes = card.locator(".correct input[type=checkbox]")
    assert boxes.count() == 4
    assert card.locator(".correct input[value=legal_publicity]").is_checked()

    # Without a token: told to type one, nothing is sent.
    card.locator(".fb-submit").click()
    assert "管理令牌" in card.locator(".fb-result").inner_text()

    # A wrong token: the server's JSON error message is shown.
    assert page.is_visible("#admin-token"), "the token field is opened for the person"
    page.fill("#admin-token", "wrong")
    card.locator(".fb-submit").click()
    expect(card.locator(".fb-result")).to_contain_text("401")
    assert "the admin token is wrong" in card.locator(".fb-result").inner_text()
    assert "401" in card.locator(".fb-result").inner_text()

    page.fill("#admin-token", ADMIN_TOKEN)
    assert page.evaluate("sessionStorage.getItem('legalTagger.adminToken')") == ADMIN_TOKEN
    assert page.evaluate("localStorage.length") == 0
    card.locator(".correct input[value=courts]").check()
    card.locator(".fb-submit").click()
    expect(card.locator(".fb-result.ok")).to_contain_text("已保存更正")
    assert "已保存更正" in card.locator(".fb-result").inner_text()

    export = urlopen(Request(live_url + "/feedback/export", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).read().decode()
    assert "普法志愿者走进社区讲解民法典" in export
    rows = list(csv.DictReader(io.StringIO(export)))
    assert len(rows) == 1 and rows[0]["text"].startswith("普法志愿者走进社区讲解民法典\n为增强群众的法治意识")  # title + body: what the model saw
    assert set(rows[0]["labels"].split("|")) == {"courts", "legal_publicity"}

    # The same correction again is a duplicate (200): said so, not an error.
    card.locator(".fb-submit").click()
    expect(card.locator(".fb-result")).to_contain_text("此前")
    assert not w.errors or all("401" in e for e in w.errors), w.errors  # the wrong-token 401 is logged by Chromium
    w.close()


def test_pasted_markup_is_shown_as_text_never_run(browser, live_url):
    w = open_page(browser, live_url)
    page = w.open()
    text = '某县人民法院公开宣判一起盗窃案<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    page.fill("#page-text", text)
    assert not page.is_checked("#opt-split"), "one short block is classified as one article by default"
    w.classify(text, cards=1)
    card = page.locator(".card")
    assert "全文" in card.locator(".card-title").inner_text()
    assert "<img src=x" in card.locator(".card-text").text_content()
    assert card.locator(".card-text img, .card-text script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert "法院" in card.locator(".chips").inner_text()
    w.close()


def test_errors_from_the_api_are_shown(browser, live_url):
    w = open_page(browser, live_url)
    page = w.open()
    page.click("#classify-btn")
    assert "请先粘贴" in page.inner_text("#status")
    w.classify("法" * 6000)  # over the test settings' max_text_chars (5000): a 413 with a message
    status = page.inner_text("#status")
    assert "413" in status and "5000" in status
    w.close()


GOLD_METRICS = {"gold": {"pages": {"n": 30, "exact_set_accuracy": 1.0, "macro_f1": 1.0},
                         "wire": {"n": 120, "exact_set_accuracy": 0.9, "macro_f1": 0.95}},
                "cv": {"n": 40, "exact_set_accuracy": 0.875, "macro_f1": 0.9}}


@pytest.fixture()
def custom_url(tmp_path, tiny_model, labels, settings):
    """A server whose model records gold-set scores and whose taxonomy renames 普法 and defines it anew."""
    from service import create_app
    from training import artifacts

    root = tmp_path / "models"
    pipe, info = tiny_model
    # 普法's threshold 0.05 above the highest 普法 score of a non-普法 article of PAGE: shown as 接近 there.
    from training.pages.segment import segment
    from training.tagger import Tagger

    texts = [a.classify_text for a in segment(PAGE)]
    results = Tagger(pipe, {"version": "probe", "thresholds": info["thresholds"]}).classify(texts)
    score = max(r.scores["legal_publicity"] for k, r in enumerate(results) if k != 3)
    thresholds = {**info["thresholds"], "legal_publicity": round(score + 0.05, 4)}
    meta = {"labels": labels, "thresholds": thresholds, "params": info["params"], "metrics": GOLD_METRICS,
            "training": {"rows": 40, "file": "tiny.csv"}}
    artifacts.set_active(root, artifacts.save_model(pipe, meta, root, "gold-1").name)
    # A copy of labels/ whose taxonomy calls legal_publicity 法治宣传 with a new definition.
    labels_dir = tmp_path / "labels"
    shutil.copytree(settings.labels_dir, labels_dir)
    taxonomy = labels_dir / "taxonomy.toml"
    text = taxonomy.read_text(encoding="utf-8")
    block = text.index('id = "legal_publicity"')
    head, tail = text[:block], text[block:]
    tail = tail.replace('name = "普法"', 'name = "法治宣传"', 1)
    tail = re.sub(r'definition = "[^"]*"', 'definition = "向公众讲解法律的活动（测试定义）。"', tail, count=1)
    taxonomy.write_text(head + tail, encoding="utf-8")
    app = create_app({"TESTING": True, "TAGGER": dataclasses.replace(settings, models_dir=root, labels_dir=labels_dir)})
    with serve(app) as url:
        yield url


def test_header_says_how_good_the_model_is_and_the_numbers_are_in_the_about_panel(browser, custom_url):
    w = open_page(browser, custom_url)
    page = w.open()
    info = page.inner_text("#model-info")
    # 30 articles all right and 120 at 90%: 138 of 150 = 92%, pooled over the gold sets.
    assert "在人工标注的真实新闻上，92% 的文章标签完全正确" in info, info
    assert "macro" not in info.lower() and "gold-1" not in info
    assert page.locator("#model-info time").inner_text() == page.locator("#model-info time").get_attribute("datetime")[:10]
    assert not page.is_visible("#about")
    page.click("#about-btn")
    about = page.inner_text("#about")
    assert not w.errors, w.errors
    assert "关于模型" in about and "gold-1" in about and "150 篇" in about and "0.950" in about and "87.5%" in about
    assert "法治宣传 0." in about
    page.click("#about-btn")
    assert not page.is_visible("#about")
    assert not w.errors, w.errors
    w.close()


def test_chips_explain_their_label_and_show_scores_close_to_the_threshold(browser, custom_url):
    w = open_page(browser, custom_url)
    page = w.open()
    # Names come from GET /labels (here a renamed label), never from the page itself.
    assert [c.strip() for c in page.locator("#legend .chip").all_text_contents()] == ["公安", "法院", "检察", "法治宣传"]
    assert "向公众讲解法律的活动（测试定义）" in page.get_attribute("#legend .chip[data-label=legal_publicity]", "title")
    w.classify(PAGE, cards=5)
    api = post_json(custom_url + "/classify", {"text": PAGE, "split": True})
    cut = json.load(urlopen(custom_url + "/models/gold-1"))["thresholds"]["legal_publicity"]
    near = [(i, a["scores"]["legal_publicity"]) for i, a in enumerate(api["articles"])
            if "legal_publicity" not in a["labels"] and cut - 0.1 <= a["scores"]["legal_publicity"] < cut]
    far = [i for i, a in enumerate(api["articles"]) if a["scores"]["legal_publicity"] < cut - 0.1]
    assert near and far, [a["scores"] for a in api["articles"]]
    cards = page.locator(".card")
    for i, s in near:
        chip = cards.nth(i).locator(".chip.near[data-label=legal_publicity]")
        assert chip.count() == 1 and "接近" in chip.inner_text() and f"{s:.2f}" in chip.inner_text()
    for i in far:
        assert cards.nth(i).locator(".chip[data-label=legal_publicity]").count() == 0

    # A tap on a chip opens its definition and threshold in the card; a second tap closes it.
    first = cards.nth(0).locator(".chips .chip:not(.near)").first
    label = first.get_attribute("data-label")
    title = first.get_attribute("title")
    assert "阈值" in title
    first.click()
    tip = cards.nth(0).locator(".chip-tip")
    assert tip.is_visible() and "阈值" in tip.inner_text() and "本文分数" in tip.inner_text()
    definition = next(l["definition"] for l in json.load(urlopen(custom_url + "/labels"))["labels"] if l["id"] == label)
    assert definition in tip.inner_text() and definition in title
    first.click()
    assert not tip.is_visible()
    i, _ = near[0]
    cards.nth(i).locator(".chip.near").first.click()
    assert "法治宣传" in cards.nth(i).locator(".chip-tip").inner_text() and "未给出" in cards.nth(i).locator(".chip-tip").inner_text()
    assert not w.errors, w.errors
    w.close()


def test_without_a_model_the_page_says_so_and_what_to_do(browser, settings, tmp_path):
    from service import create_app

    app = create_app({"TESTING": True, "TAGGER": dataclasses.replace(settings, models_dir=tmp_path / "empty")})
    with serve(app) as url:
        w = open_page(browser, url)
        page = w.open(model=False)
        notice = page.inner_text("#no-model")
        assert "没有可用的模型" in notice and "POST /train" in notice and "activate" in notice
        assert page.inner_text("#model-info") == "没有加载模型"
        assert not page.is_visible("#about-btn") and "macro" not in page.inner_text("body").lower()
        assert page.locator("#model-info code, #model-info time, #model-info .quality").count() == 0
        w.classify("某县人民法院公开宣判一起盗窃案。")
        assert "503" in page.inner_text("#status")
        w.close()


def test_api_page_is_readable_and_loads_nothing_from_outside(browser, live_url, tmp_path):
    w = open_page(browser, live_url)
    page = w.page
    page.goto(live_url + "/docs")
    page.wait_for_selector(".menu-content li")
    page.wait_for_selector("h2:has-text('Tag one article, a batch or a whole page')")
    menu = page.locator(".menu-content").first.inner_text()
    groups = [menu.find(name) for name in ("Tagging", "Pages", "Model lifecycle", "Operations")]
    assert all(g >= 0 for g in groups) and groups == sorted(groups), menu
    assert "青石县人民检察院" in page.inner_text("body")  # the Chinese request example
    page.screenshot(path=str(tmp_path / "docs.png"))
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    assert all(u.startswith(live_url + "/") or u.startswith("data:") or u.startswith("blob:") for u in w.requests), w.requests
    assert not [e for e in w.errors if "Content Security Policy" in e or "Refused" in e], w.errors
    w.close()


def test_index_sets_a_same_origin_content_security_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    for asset in ("/static/app.js", "/static/app.css"):
        assert client.get(asset).status_code == 200


# ------------------------------------------------------------------------------------------------
# Screenshots for docs/


def _models_dir(explicit: str | None) -> Path:
    from training import artifacts, pipeline
    from training.config import REPO_ROOT, Settings
    from training.data import read_csv
    from training.taxonomy import label_ids

    if explicit:
        return Path(explicit)
    if (REPO_ROOT / "models" / "active.json").exists():
        return REPO_ROOT / "models"
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="tagger-ui-"))
    labels = label_ids(Settings().taxonomy_path)
    dataset = read_csv(Path(__file__).parent / "data" / "tiny.csv", labels)
    pipe, info = pipeline.fit(dataset, labels, {"cv": 3, "word_min_df": 1, "char_min_df": 1})
    meta = {"labels": labels, "thresholds": info["thresholds"], "params": info["params"], "metrics": {}}
    artifacts.set_active(root, artifacts.save_model(pipe, meta, root, "tiny-1").name)
    return root


def report_page(out_dir: Path) -> Path:
    """The evaluation report of a model fitted on every third row of labels/corpus.csv, scored on the rest
    (our own corpus: no third-party text in the screenshot)."""
    from training import pipeline
    from training.config import Settings
    from training.data import Dataset, read_csv
    from training.evaluate import score
    from training.report import write_report
    from training.taxonomy import label_ids
    from training.tagger import Tagger

    settings = Settings()
    labels = label_ids(settings.taxonomy_path)
    corpus = read_csv(settings.corpus_path, labels)
    pick = lambda keep: Dataset([t for i, t in enumerate(corpus.texts) if keep(i)], [l for i, l in enumerate(corpus.labels) if keep(i)],
                                [x for i, x in enumerate(corpus.ids) if keep(i)])  # noqa: E731
    train, held = pick(lambda i: i % 3 == 0), pick(lambda i: i % 3 != 0)
    pipe, info = pipeline.fit(train, labels)
    tagger = Tagger(pipe, {"version": "corpus-1of3", "thresholds": info["thresholds"]})
    results = tagger.classify(held.texts, explain=8)
    report = score(held.labels, [set(r.labels) for r in results], labels)
    report["model"] = f"语料每 3 行取 1 行训练（{len(train)} 篇）"
    return write_report(out_dir, held.texts, held.labels, [set() for _ in held.texts], results, labels, report,
                        title=f"评估报告 · labels/corpus.csv 留出集（{len(held)} 篇）", thresholds=tagger.thresholds)


def main(argv: list[str]) -> None:
    import argparse
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from service import create_app
    from training.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="models directory with an active model (default: models/, else a tiny model)")
    parser.add_argument("--out", default="docs/screenshots", help="where ui.png, ui-375.png, docs.png and report.png go")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(models_dir=_models_dir(args.models), data_dir=Path(tempfile.mkdtemp(prefix="tagger-ui-var-")))
    app = create_app({"TAGGER": settings})

    if missing():
        raise SystemExit(missing())
    with serve(app) as url, chromium() as b:
        for width, name in ((1280, "ui.png"), (375, "ui-375.png")):
            w = open_page(b, url, width=width, height=900)
            page = w.open()
            w.classify(PAGE)
            page.locator("#page-text").evaluate("t => { t.scrollTop = 0; }")
            page.check("#opt-all-scores")
            if width > 400:
                page.locator(".card").nth(2).locator(".evidence summary").click()
                page.click("#about-btn")
                page.locator(".card").nth(0).locator(".chips .chip").first.click()
            page.screenshot(path=str(out / name), full_page=True)
            print(f"wrote {out / name}: {page.inner_text('#status')}")
            w.close()
        w = open_page(b, url, width=1280, height=900)
        w.page.goto(url + "/docs")
        w.page.wait_for_selector(".menu-content li")
        w.page.wait_for_selector("h2:has-text('Tag one article, a batch or a whole page')")
        w.page.wait_for_timeout(500)
        w.page.locator("h2:has-text('Tag one article, a batch or a whole page')").first.evaluate("h => window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 20)")
        w.page.wait_for_timeout(300)
        w.page.screenshot(path=str(out / "docs.png"))
        print(f"wrote {out / 'docs.png'}")
        w.close()
        index = report_page(Path(tempfile.mkdtemp(prefix="tagger-report-")))
        w = open_page(b, url, width=1100, height=900)
        w.page.goto(index.as_uri())
        w.page.screenshot(path=str(out / "report.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1100, "height": 3600})
        print(f"wrote {out / 'report.png'}")
        w.close()


if __name__ == "__main__":
    main(sys.argv[1:])
