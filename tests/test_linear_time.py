"""Every regex and loop over pasted text runs in time linear in its length (issue 12).

Inputs are not a list of examples: a generator builds them from each pattern itself (its
literals, the characters of its classes, its separators: repeated one at a time and in turn,
after the pattern's opening, with and without a character that breaks the match at the end),
at 1k, 10k and 100k characters. What is asserted is the ratio of CPU times between sizes (x10
in length must stay well under x100, what a quadratic loop costs; catastrophic backtracking is
far worse), never an absolute time. Hypothesis adds arbitrary text: no exception, valid offsets,
and the same answers as Python's re on short texts.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from training.normalize import normalize_text, reflow, reflow_text, strip_markup
from training.normalize import _MARKUP, _SPACES, _WS_RUN  # their own alphabets
from training.pages.entities import INSTITUTION_TAILS, LEVELS, extract_entities
from training.pages.patterns import _UNANCHORED, PatternTableError, load_patterns
from training.pages.segment import segment
from training.tokenize import _ASCII_PIECE, _KEEP, tokenize

SIZES = (1_000, 10_000, 100_000)
RATIO = 30  # x10 in length: linear ~10, quadratic ~100
FLOOR = 0.002  # seconds: times below this are noise, compared as this
TABLE = load_patterns()


def cpu_time(fn, text: str, runs: int = 3) -> float:
    """Median CPU time of fn(text): CPU, not wall time, so other processes on the machine do not count."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        fn(text)
        times.append(time.process_time() - t0)
    return statistics.median(times)


def assert_linear(fn, make, sizes=SIZES, ratio=RATIO, floor=FLOOR, what: str = "") -> None:
    """fn(make(n)) takes time proportional to n: each x10 step costs less than `ratio` times more."""
    fn(make(sizes[0]))  # warm caches (dictionaries, compiled programs) before timing
    times = [cpu_time(fn, make(n)) for n in sizes]
    for (n1, t1), (n2, t2) in itertools.pairwise(zip(sizes, times)):
        grew = max(t2, floor) / max(t1, floor)
        assert grew < ratio * (n2 / n1) / 10, (
            f"{what}: {n1:,} chars {t1 * 1e3:.1f} ms -> {n2:,} chars {t2 * 1e3:.1f} ms (x{grew:.0f})"
        )


def cut(unit: str, n: int, head: str = "", tail: str = "") -> str:
    """head + unit repeated + tail, n characters in all."""
    body = n - len(head) - len(tail)
    return head + (unit * (body // len(unit) + 1))[:body] + tail


# --------------------------------------------------------------------------------------------
# What a pattern is made of, read from the pattern itself


def _parse(source: str):
    from re import _parser  # type: ignore[attr-defined]

    return _parser, _parser.parse(source)


def _walk(parser, parsed):
    for op, arg in parsed:
        yield op, arg
        stack = [arg]
        while stack:
            item = stack.pop()
            if isinstance(item, parser.SubPattern):
                yield from _walk(parser, item)
            elif isinstance(item, (list, tuple)):
                stack.extend(item)


def _chars_of(parser, op, arg) -> list[str]:
    """Characters one parsed item can match (a few per class range)."""
    if op is parser.LITERAL:
        return [chr(arg)]
    if op is parser.NOT_LITERAL or op is parser.ANY:
        return ["x"]
    if op is parser.IN:
        out = []
        for item_op, item in arg:
            if item_op is parser.LITERAL:
                out.append(chr(item))
            elif item_op is parser.RANGE:
                lo, hi = item
                out += [chr(lo), chr((lo + hi) // 2), chr(hi)]
            elif item_op is parser.CATEGORY:
                out += ["7", "３"]
            elif item_op is parser.NEGATE:
                out.append("x")
        return out
    return []


def alphabet(source: str) -> list[str]:
    """Every literal and class character of a pattern, in pattern order."""
    parser, parsed = _parse(source)
    chars: list[str] = []
    for op, arg in _walk(parser, parsed):
        chars += _chars_of(parser, op, arg)
    return list(dict.fromkeys(chars))


def opening(source: str) -> list[str]:
    """The characters a match can start with (the first item after ^)."""
    parser, parsed = _parse(source)
    for op, arg in parsed:
        if op is parser.AT:
            continue
        chars = _chars_of(parser, op, arg)
        if chars:
            return chars[:2]
        return [c for o, a in list(_walk(parser, [(op, arg)]))[:4] for c in _chars_of(parser, o, a)][:2]
    return []


def adversarial(source: str) -> list[tuple[str, object]]:
    """(name, make(n)) input families for one pattern: repetitions of its own pieces."""
    chars = alphabet(source)
    units = chars[:8] + ["".join(chars)]
    families = []
    for head in ["", *opening(source)]:
        for unit in units:
            for tail in ("", "x", "）"):
                families.append(
                    (f"{head!r}+{unit[:6]!r}*+{tail!r}", lambda n, h=head, u=unit, t=tail: cut(u, n, h, t))
                )
    return families


# --------------------------------------------------------------------------------------------
# The pattern table


@pytest.mark.parametrize("pattern", TABLE.patterns(), ids=lambda p: p.key)
def test_every_table_pattern_is_linear(pattern):
    def run(text: str) -> None:
        pattern.search(text)
        pattern.fullmatch(text)
        pattern._match(_UNANCHORED, text)  # the engine on all of it, no head/tail window

    families = adversarial(pattern.source)
    assert len(families) >= 10
    # One input made of every family of a size: a slow family cannot hide among fast ones, its
    # share only grows with n.
    assert_linear(lambda texts: [run(t) for t in texts], lambda n: [make(n) for _, make in families],
                  what=pattern.key)


def test_the_table_covers_every_pattern_key():
    keys = {p.key for p in TABLE.patterns()}
    assert {"signoff.standalone", "signoff.inline", "byline.standalone[0]", "byline.prefix[1]",
            "caption.credit[0]", "caption.lead", "columns.patterns[0]", "case.marker"} <= keys


def test_the_issue_12_lines_are_linear():
    """The reported inputs: '（' + '字'*48 + 'x' took minutes, a 59-character news line 35 s."""
    assert_linear(segment, lambda n: cut("字", n, "（", "x"), what="（字…x")
    # A news line of that shape (our own words, 59 characters, cut by a hard wrap before its "）"):
    # before the fix its first 40 characters alone took 10 s.
    news = "（记者从市公安局获悉今年以来全市公安机关共破获电信网络诈骗案件一百二十余起为群众挽回经济损失三千余万元抓获犯罪嫌疑人一"
    assert len(news) == 59
    assert_linear(segment, lambda n: cut(news[1:], n, "（", "x"), what="（记者从市公安局获悉…")
    assert_linear(segment, lambda n: cut(news + "\n", n), what="the line, repeated")
    assert_linear(lambda lines: [segment(line) for line in lines],
                  lambda n: [news] * (n // len(news)), what="the line, one page each")


def test_the_ratio_check_catches_backtracking_and_quadratic_loops():
    """The check is not toothless: Python's re on the old sign-off pattern and a quadratic loop fail it."""
    old = re.compile(r"^[（(](?:(?:记者|通讯员|实习生|本报记者)?[\u4e00-\u9fff·]{2,5}[、，]?)+[）)]$")
    with pytest.raises(AssertionError):
        assert_linear(old.search, lambda n: cut("字", n, "（", "x"), sizes=(14, 24), ratio=30, floor=1e-4)

    def quadratic(text: str) -> None:
        for i in range(0, len(text), 10):
            text[:i].count("x")

    with pytest.raises(AssertionError):
        assert_linear(quadratic, lambda n: "a" * n, sizes=(2_000, 20_000), floor=1e-4)


@pytest.mark.parametrize("source, key", [
    (r"(\d)\1", "backreference"),
    (r"(?<=[区县])法院", "look-behind"),
    (r"公安(?!局)", "look-ahead"),
    (r"\w+报", "\\w"),
    (r"^第{,3}版$", "{,n}"),
])
def test_an_unsafe_pattern_is_refused_naming_its_key(tmp_path: Path, source: str, key: str):
    table = (Path(__file__).parents[1] / "training" / "pages" / "patterns.toml").read_text(encoding="utf-8")
    bad = tmp_path / "patterns.toml"
    bad.write_text(table.replace("standalone = [\n", f"standalone = [\n  '{source}',\n", 1), encoding="utf-8")
    with pytest.raises(PatternTableError, match=r"byline\.standalone\[0\]") as info:
        load_patterns(bad)
    assert "invalid page pattern table" in str(info.value) and str(bad) in str(info.value)


@pytest.mark.parametrize("line", [
    "interleave_max_paras = 1000000000",  # would make every far-link search quadratic again
    "cohesion_paras = -1",
    "resume_margin = nan",
    "fragmented_share = inf",
    'junction_chars = "4"',
    "wrap_width_tolerance = true",
])
def test_an_unbounded_or_mistyped_limit_is_refused_naming_its_key(tmp_path: Path, line: str):
    table = (Path(__file__).parents[1] / "training" / "pages" / "patterns.toml").read_text(encoding="utf-8")
    key = line.split(" = ")[0]
    lines = [ln for ln in table.splitlines() if not ln.startswith(f"{key} = ")]
    at = lines.index("[limits]") + 1
    bad = tmp_path / "patterns.toml"
    bad.write_text("\n".join(lines[:at] + [line] + lines[at:]) + "\n", encoding="utf-8")
    with pytest.raises(PatternTableError, match=rf"\[limits\] {key} = .*expected") as info:
        load_patterns(bad)
    assert str(bad) in str(info.value)


def test_the_shipped_table_is_bounded_where_it_says():
    """Sign-offs and bylines are short: a long line costs them a constant, not its length."""
    assert TABLE.signoff.scope == "whole" and TABLE.signoff.width < 100
    assert TABLE.signoff_inline.scope == "tail" and TABLE.byline_prefix[0].scope == "head"


# --------------------------------------------------------------------------------------------
# The whole splitter

PARAGRAPHS = {
    "headline": "派出所开展普法宣传",
    "open body": "民警走进社区开展安全隐患排查工作并向居民讲解防范电信网络诈骗的知识和方法以及相关法律",
    "closed body": "民警走进社区开展安全隐患排查工作，向居民讲解防范电信网络诈骗的知识和方法。",
    "court body": "法院依法公开开庭审理了这起案件，法官当庭宣判，被告人当庭表示服判不上诉。",
    "byline": "□本报记者 王芳 通讯员 李明",
    "prefix byline": "本报讯（记者 王芳 通讯员 李明）民警走进社区开展安全隐患排查工作。",
    "signoff": "（记者 王芳 通讯员 李明）",
    "caption": "图为民警在巡逻。（记者 张三 摄）",
    "credit": "通讯员 钱亮 摄",
    "column": "法治聚焦",
    "marker": "【案情】",
    "markdown headline": "## 数字赋能 办案跑出加速度",
    "wrapped": "民警走进社区开展安全隐患排\n查工作并向居民讲解防范电\n信网络诈骗的知识和方法以\n及相关法律",
}


def _pages() -> list[tuple[str, object]]:
    """Pages of one paragraph kind, of all kinds in turn (blank lines, single line breaks or one
    line of 100k characters), of a few telling sequences, and of numbered paragraphs."""
    kinds = list(PARAGRAPHS)
    cycles = [([k], "\n\n") for k in kinds if k not in ("closed body", "court body", "wrapped")]
    cycles += [(kinds, "\n\n"), (kinds, "\n"), (kinds, "")]
    cycles += [(["open body", "headline"], "\n"), (["closed body", "court body"], "\n"),
               (["headline", "byline", "headline", "open body", "headline", "court body"], "\n\n")]  # orphans
    out = []
    for cycle, sep in cycles:
        unit = sep.join(PARAGRAPHS[k] for k in cycle) + sep
        out.append((f"{'+'.join(cycle)} {sep!r}", lambda n, u=unit: cut(u, n)))
    # Repeated paragraphs are dropped as reprints, which would spare the later passes: these
    # pages number every paragraph, so thousands of distinct ones reach the wrap linking,
    # headline placement and article splitting.
    for cycle in (["open body"], ["open body", "headline"], ["headline", "closed body", "court body"],
                  ["headline", "byline", "closed body", "headline", "byline", "court body"],
                  ["closed body", "headline", "byline", "court body", "headline", "byline"],
                  # a headline between two bodies: each one is a boundary-model decision
                  ["closed body", "headline", "court body", "markdown headline", "closed body"]):
        out.append((f"numbered {'+'.join(cycle)}", lambda n, c=cycle: numbered(c, n)))
    return out


def numbered(cycle: list[str], n: int) -> str:
    """Paragraphs of the cycle's kinds in turn, each made distinct by a number in its middle."""
    out, size, i = [], 0, 0
    while size < n:
        text = PARAGRAPHS[cycle[i % len(cycle)]]
        half = len(text) // 2
        out.append(f"{text[:half]}{i}{text[half:]}\n\n")
        size += len(out[-1])
        i += 1
    return "".join(out)[:n]


LAYOUT_PAGES = _pages()
# The pattern generators, as whole pages (a sample of each pattern's families).
PATTERN_PAGES = [family for source in sorted({p.source for p in TABLE.patterns()})
                 for family in adversarial(source)[::20]]


def generated_pages(n: int, style: str | None = None) -> str:
    """Pages of training/pages/synth.py (one style or all) laid end to end, n characters."""
    from training.pages.synth import generate

    out, size = [], 0
    for page in generate(seed=12, count=10**6, styles=[style] if style else None):
        out.append(page.text + "\n\n")
        size += len(out[-1])
        if size >= n:
            break
    return "".join(out)[:n]


def test_segment_is_linear_on_generated_pages():
    """Every layout style of the generator at once: wraps, interleaved columns, repeats, markup."""
    assert_linear(segment, generated_pages, what="generated pages")


@pytest.mark.parametrize("name, make", LAYOUT_PAGES, ids=[n for n, _ in LAYOUT_PAGES])
def test_segment_is_linear_on_layout_pages(name, make):
    assert_linear(segment, make, what=name)


def test_segment_is_linear_on_pattern_pages():
    families = PATTERN_PAGES
    assert len(families) >= 30
    assert_linear(lambda pages: [segment(p) for p in pages], lambda n: [m(n) for _, m in families],
                  what="pattern-built pages")


# --------------------------------------------------------------------------------------------
# The splitter's loops, one adversarial page family each (issue 14's rewrite)
#
# Each family is built to make one loop do the most work per character: every paragraph is
# distinct (numbered, so none is dropped as a reprint) and of the kind that loop looks at.

OPEN = PARAGRAPHS["open body"]  # a body paragraph that ends mid-sentence: a wrap continues it
CLOSED = PARAGRAPHS["court body"]
HEAD = PARAGRAPHS["headline"]


def repeated(unit) -> object:
    """make(n): unit(0) + unit(1) + ... cut to n characters."""
    def make(n: int) -> str:
        out, size, i = [], 0, 0
        while size < n:
            out.append(unit(i))
            size += len(out[-1])
            i += 1
        return "".join(out)[:n]
    return make


def grown(k: int, unit) -> object:
    """make(n): k pieces of n/k characters each, so the paragraphs themselves grow with n."""
    return lambda n: "".join(unit(i, n // k) for i in range(k))[:n]


def wrapped(text: str, width: int) -> str:
    """text hard-wrapped every `width` characters."""
    return "\n".join(text[k:k + width] for k in range(0, len(text), width))


def closed(i: int, k: int = 0) -> str:
    """A distinct two-sentence body paragraph (three lines when wrapped at 30 or less)."""
    return f"{CLOSED[:9]}{i}-{k}{CLOSED[9:]}{CLOSED}"


def filled(text: str, n: int) -> str:
    return (text * (n // len(text) + 1))[:n]


def distinct_chars(start: int, m: int) -> str:
    """m CJK characters that make m distinct bigrams."""
    return "".join(chr(0x4E00 + (start + k) % 20000) for k in range(m))


def cut_column(paragraph, count: int):
    """Pages of an open wrapped paragraph, a headline, then `count` paragraphs paragraph(i, k) after it."""
    return repeated(lambda i: f"{wrapped(OPEN + str(i), 20)}\n\n{HEAD}\n\n" + "".join(f"{paragraph(i, k)}\n\n" for k in range(count)))


# (name, make(n), a method the family must call: it proves the family reaches its loop)
LOOP_PAGES = [
    # _Splitter.pieces(): the short-line / sentence-end / headline-under-a-sentence rules on every line
    ("pieces: alternating widths", repeated(lambda i: f"{OPEN[:20]}{i}\n{OPEN[:31]}\n"), None),
    ("pieces: sentence lines, then headline-like lines", repeated(lambda i: f"民警走进社区{i}。\n{HEAD}\n"), None),
    ("pieces: widest wraps, then a short line",
     repeated(lambda i: f"{filled(OPEN, 47)}\n{filled(OPEN, 49)}{i}\n{OPEN[:5]}\n"), "breaks"),
    # _Splitter.joined_pieces(): a paragraph wrapped with blank lines inside words, thousands of
    # two-line pieces joined into one ("…隐患排" + "查工作…" at every blank line)
    ("joined pieces: blank lines inside words",
     repeated(lambda i: f"查工作{i}民警走进社区开展隐患排\n查工作民警走进社区开展隐患排\n\n"), "_word_across_blank"),
    # link_wraps step 2: a word formed across a far junction ("…隐患排" + "查等…")
    ("links 2: far word junctions", repeated(lambda i: f"{OPEN[:30]}{i}隐患排\n\n{HEAD}{i}\n\n查等方面{CLOSED}\n\n"),
     "word_across"),
    # the most junctions per character: 5-character open paragraphs (an unclosed quote keeps them
    # body text) of distinct characters, so no junction is a cached one
    ("links 2: short open paragraphs, every junction new", repeated(lambda i: f"“{distinct_chars(7919 * i, 4)}\n\n"),
     "word_across"),
    # link_wraps step 4 + flows/resume_point: a '，…' paragraph continues the nearest open one
    ("links 4: comma continuations across markers",
     repeated(lambda i: f"{OPEN}{i}\n\n【案情】\n\n，{closed(i)}\n\n"), "resume_point"),
    ("links 4: one chain of comma continuations", repeated(lambda i: f"，{OPEN}{i}\n\n【案情】\n\n"), "resume_point"),
    ("links 4: only comma paragraphs", repeated(lambda i: f"，{CLOSED[:10]}{i}{CLOSED[10:]}\n\n"), None),
    # link_wraps step 5: an open paragraph, a headline, then long runs of paragraphs after it
    ("links 5: runs of another width", cut_column(lambda i, k: wrapped(closed(i, k), 30), 70), "word_across"),
    ("links 5: runs of the same width", cut_column(lambda i, k: wrapped(closed(i, k), 20), 70), "word_across"),
    ("links 5: runs of one-line paragraphs", cut_column(closed, 70), "leaning"),
    ("links 5: markers and one-line paragraphs", cut_column(lambda i, k: f"【案情】\n\n{CLOSED}{i}{k}", 40), "leaning"),
    ("links 5: alternating widths around headlines",
     repeated(lambda i: f"{wrapped(OPEN + str(i), 20)}\n\n{HEAD}{i}\n\n{wrapped(closed(i), 30)}\n\n"), "resume_point"),
    # flows + resume_point: far links, each followed by a long run of units to vote on
    ("flows: tails followed by long runs",
     repeated(lambda i: f"{OPEN}{i}\n\n【案情】\n\n，{closed(i)}\n\n" + "".join(f"{closed(i, k)}\n\n" for k in range(1, 70))),
     "resume_point"),
    # _Builder.walk: photo news, a headline across a column label, stacked headlines, markers
    ("walk: photo news", repeated(lambda i: f"{HEAD}{i}\n\n□本报记者 王芳\n\n图为民警在巡逻{i}。（记者 张三 摄）\n\n"), None),
    ("walk: headlines across column labels",
     repeated(lambda i: f"{HEAD}{i}\n\n法治聚焦\n\n{CLOSED[:9]}{i}{CLOSED[9:]}\n\n"), None),
    ("walk: headline, byline, many markers, caption",
     repeated(lambda i: f"{HEAD}{i}\n\n□本报记者 王芳\n\n" + "【案情】\n\n" * 30 + f"图为民警在巡逻{i}。（记者 张三 摄）\n\n"), None),
    ("walk: stacked headlines", repeated(lambda i: f"{HEAD}{i}\n\n"), None),
    # boundary decisions (breaks, recent_body, cohesion features) in one long article
    ("decisions: sections of one article", repeated(lambda i: f"{CLOSED[:9]}{i}{CLOSED[9:]}\n\n## 一、{HEAD}{i}\n\n"),
     "breaks"),
    ("decisions: sections under a title padded with spaces",
     lambda n: f"## {HEAD[:4]}{' ' * (n // 2)}{HEAD[4:]}\n\n"
               + repeated(lambda i: f"{CLOSED[:9]}{i}{CLOSED[9:]}\n\n## 一、{HEAD}{i}\n\n")(n // 2), "breaks"),
    # grams / cosine / share over paragraphs that grow with the page
    ("cohesion: huge paragraphs of distinct bigrams",
     grown(20, lambda i, m: f"{HEAD}{i}\n\n{distinct_chars(i * m, m)}\n\n"), "breaks"),
    ("cohesion: huge paragraphs of repeated bigrams", grown(20, lambda i, m: f"## {HEAD}{i}\n\n{filled(CLOSED, m)}{i}\n\n"),
     "breaks"),
    # drop_repeats: a byline and first paragraph printed again and again
    ("repeats: byline and first paragraph",
     repeated(lambda i: f"□本报记者 王芳\n\n本报讯（记者 王芳）{CLOSED}\n\n{HEAD}{i}\n\n"), "orphan_target"),
]


@pytest.mark.parametrize("name, make, method", LOOP_PAGES, ids=[n for n, _, _ in LOOP_PAGES])
def test_segment_is_linear_on_each_loop(name, make, method):
    assert_linear(segment, make, what=name)


@pytest.mark.parametrize("name, make, method", [p for p in LOOP_PAGES if p[2]], ids=[n for n, _, m in LOOP_PAGES if m])
def test_each_loop_page_reaches_its_loop(monkeypatch, name, make, method):
    """A family that no longer reaches the loop it attacks would test nothing: it calls that loop's method."""
    from training.pages import segment as module

    owner = module._Splitter if hasattr(module._Splitter, method) else module._Builder
    real, calls = getattr(owner, method), []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, method, counted)
    segment(make(20_000))
    assert len(calls) >= 3, f"{name}: {method} called {len(calls)} times"


# _Builder.articles_out: thousands of reprints, each credited to the article of its original (a
# caption's text, which owns no span; a paragraph printed first, before thousands of spans). The
# cost per reprint is small, so a quadratic walk over the spans shows only from 100k characters
# on: these run at 20k and 200k.
REPRINT_PAGES = [
    ("reprints of a caption", lambda n: ("图为民警在路口疏导交通。\n\n清河派出所夜巡护航\n\n"
     + repeated(lambda i: f"民警走访居民{i}户。\n\n图为民警在路口疏导交通。\n\n")(n))[:n]),
    ("reprints of a first paragraph", lambda n: (f"{HEAD}\n\n{CLOSED}\n\n"
     + repeated(lambda i: f"{CLOSED[:9]}{i}{CLOSED[9:]}\n\n{CLOSED}\n\n")(n))[:n]),
]


@pytest.mark.parametrize("name, make", REPRINT_PAGES, ids=[n for n, _ in REPRINT_PAGES])
def test_reprints_are_credited_in_linear_time(name, make):
    assert_linear(segment, make, sizes=(20_000, 200_000), what=name)


def test_cohesion_features_are_linear():
    """boundary.grams/cosine/share on passages of distinct and of repeated bigrams."""
    from training.pages.boundary import cosine, grams, share

    def run(texts):
        for a, b in texts:
            ga, gb = grams(a), grams(b)
            cosine(ga, gb), share(ga, gb), share(gb, ga)

    families = [
        lambda n: (distinct_chars(0, n), distinct_chars(n // 2, n)),
        lambda n: (filled(CLOSED, n), filled(OPEN, n)),
        lambda n: (distinct_chars(0, n), filled("公安", n)),
        lambda n: (filled("字x", n), filled("字字", n)),
    ]
    assert_linear(run, lambda n: [f(n) for f in families], what="grams/cosine/share")


page_text = st.text(
    alphabet=st.sampled_from(sorted({c for p in TABLE.patterns() for c in alphabet(p.source)}
                                    | set("\n\n \u3000。，x\ud800"))),
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(page_text)
def test_segment_never_fails_and_offsets_hold(page: str):
    for art in segment(page):
        assert 0 <= art.start <= art.end <= len(page)
        for s, e in art.spans:
            assert art.start <= s <= e <= art.end
        for s, e in art.repeats:
            assert 0 <= s <= e <= len(page)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_table_patterns_answer_like_python_re(data):
    """RE2 (with the windows) finds what Python's re finds: the translation keeps the meaning."""
    pattern = data.draw(st.sampled_from(TABLE.patterns()))
    chars = alphabet(pattern.source) + ["x", "\ud800", "３"]
    text = data.draw(st.text(alphabet=st.sampled_from(chars), max_size=18))
    text = data.draw(st.sampled_from(["", *opening(pattern.source)])) + text
    reference = re.compile(pattern.source)
    m = reference.search(text)
    assert pattern.search(text) == (m.span() if m else None)
    assert pattern.fullmatch(text) == bool(reference.fullmatch(text))


# --------------------------------------------------------------------------------------------
# Normalizer, tokenizer, entity extractor


def _own_families(*sources: str, extra: str = "") -> list[tuple[str, object]]:
    chars = list(dict.fromkeys(c for s in sources for c in alphabet(s))) + list(extra)
    units = chars[:10] + ["".join(chars), "".join(chars[::-1])]
    return [(repr(u[:8]), lambda n, u=u: cut(u, n)) for u in units]


NORMALIZE = _own_families(_MARKUP.pattern, _SPACES.pattern, _WS_RUN.pattern, extra="字a。\n\r#>*<")
TOKENIZE = _own_families(_KEEP.pattern, _ASCII_PIECE.pattern, extra="字。 \n-.\x00\ud800")
ENTITIES = [(t, lambda n, t=t: cut(t, n)) for t in ("派出所",)] + [
    ("chained tails", lambda n: cut("".join(INSTITUTION_TAILS), n)),
    ("names and tails", lambda n: cut("青州市公安局清河分局东关派出所民警", n)),
    ("levels", lambda n: cut(LEVELS + "公安局", n)),
    ("gaps", lambda n: cut("公安局乌斯太第一派出所", n)),
    ("distinct names", lambda n: "".join(f"{chr(0x4e00 + i % 20000)}{chr(0x4e00 + i // 7 % 20000)}县派出所" for i in range(n // 6 + 1))[:n]),
]


@pytest.mark.parametrize("fn", [normalize_text, reflow, reflow_text, strip_markup], ids=lambda f: f.__name__)
def test_normalizer_is_linear(fn):
    assert_linear(lambda texts: [fn(t) for t in texts], lambda n: [m(n) for _, m in NORMALIZE], what=fn.__name__)


def test_cue_features_are_linear():
    """The taxonomy's cue terms and institution patterns (literal alternations behind a one-character
    look-behind, run by Python's re) on texts made of their own pieces."""
    from training.features import LegalCueFeatures

    cues = LegalCueFeatures().fit(["公安"])
    sources = [s for s in cues.term_patterns_ + cues.institution_patterns_ if s != "(?!)"]
    families = _own_families(*sources, extra="字。\n")[-2:]  # every piece in turn, both ways
    families += [(s[:12], lambda n, s=s: cut("".join(alphabet(s)), n)) for s in cues.institution_patterns_]
    assert_linear(lambda texts: [cues.transform(texts)], lambda n: [m(n) for _, m in families], what="cue features")


def test_tokenizer_is_linear():
    assert_linear(lambda texts: [tokenize(t) for t in texts], lambda n: [m(n) for _, m in TOKENIZE], what="tokenize")


def test_entity_extractor_is_linear():
    assert_linear(lambda texts: [extract_entities(t) for t in texts], lambda n: [m(n) for _, m in ENTITIES],
                  what="extract_entities")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"".join(INSTITUTION_TAILS[:8]), *LEVELS, *"在与的，。 \n", "\ud800", "x"]),
               max_size=200))
def test_text_processing_never_fails(text: str):
    normalized = normalize_text(text)
    assert isinstance(normalized, str) and all(isinstance(t, str) and t for t in tokenize(text))
    flowed = reflow(text)
    assert len(flowed.offsets) == len(flowed.text)
    assert all(0 <= o < len(text) for o in flowed.offsets)
    found = extract_entities(text)
    flat = reflow_text(text)
    assert all(name in flat for name in found["institutions"] + found["places"])

