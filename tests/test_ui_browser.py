"""End to end: the page at / in headless Chromium (Playwright for Python) against a live server.

Needs Debian's chromium at /usr/bin/chromium (or TAGGER_CHROMIUM) and the `playwright` package;
Playwright's own browser download is never used. Without either the tests fail, naming the fix.

Also a script: `python tests/test_ui_browser.py [--models DIR] [--out docs/screenshots]` saves
screenshots of the page classifying PAGE (with models/ when it has an active model, else a tiny
model fitted on tests/data/tiny.csv).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
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

    def open(self):
        self.page.goto(self.base + "/")
        self.page.wait_for_selector("#legend .chip")  # /labels answered
        self.page.wait_for_selector("#model-info code")  # /models and /models/<active> answered
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
    assert "tiny-1" in page.inner_text("#model-info")
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
    w.classify(PAGE, cards=5)
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


def main(argv: list[str]) -> None:
    import argparse
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from service import create_app
    from training.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", help="models directory with an active model (default: models/, else a tiny model)")
    parser.add_argument("--out", default="docs/screenshots", help="where ui.png and ui-375.png go")
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
            page.screenshot(path=str(out / name), full_page=True)
            print(f"wrote {out / name}: {page.inner_text('#status')}")
            w.close()


if __name__ == "__main__":
    main(sys.argv[1:])
