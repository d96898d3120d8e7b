"""Named 政法 institutions and 盟市/旗县-level places in a news text.

    extract_entities("…青州市公安局清河分局东关派出所民警…")
    -> {"institutions": ["青州市公安局清河分局东关派出所"], "places": ["青州市"]}

An institution is found by its fixed tail (…公安局, …分局, …派出所, …人民法院, …人民法庭,
…人民检察院, …司法局/司法所, …交警大队 …); its name is grown leftwards over the words before it
(places, proper names, words the dictionary does not know) until a function word, a verb, a
generic word (辖区, 全区 …) or punctuation, and tails that follow each other with only a short
name between them ("…公安局" "清河分局" "东关派出所") form one full name. A bare tail
("派出所") or a generic one ("全区公安派出所") is not a name. A short form that ends a full name
already listed (东关派出所 after 青州市公安局清河分局东关派出所) is not listed again.

Words and part-of-speech tags come from jieba (rjieba) with the legal dictionary: ns = place,
nr/nz/nt = proper names; a word not in the dictionary next to a tail is a proper name too.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from ..normalize import LONE_SURROGATE, reflow_text
from .words import dictionary_jieba

_CJK = "\u4e00-\u9fff"
# Organ-name tails, longest first so that 人民检察院 wins over 检察院.
INSTITUTION_TAILS = (
    "中级人民法院", "高级人民法院", "人民法院", "人民法庭", "法院",
    "人民检察院", "检察分院", "检察院",
    "公安分局", "公安局", "公安厅", "公安处", "分局", "边境派出所", "派出所",
    "交通管理大队", "交通管理支队", "边境管理支队", "边境管理大队",
    "交警大队", "交警支队", "交警中队", "刑警大队", "刑警支队", "经侦大队", "经侦支队",
    "治安大队", "治安支队", "特警大队", "特警支队", "巡特警大队", "巡特警支队",
    "禁毒大队", "禁毒支队", "网安大队", "网安支队", "刑侦大队", "刑侦支队",
    "司法局", "司法所", "司法厅", "政法委",
)
_TAIL = re.compile("|".join(sorted(INSTITUTION_TAILS, key=len, reverse=True)))
# Characters that end a place name at 盟市/旗县 level (and 区 for districts).
LEVELS = "盟市旗县区"
# Words that never belong to a name: function words, demonstratives, verbs that join organs,
# and generic words that make "全区公安派出所" or "辖区派出所" no name at all.
STOP_WORDS = frozenset(
    """在 向 对 与 和 及 或 并 同 跟 由 将 把 被 给 为 是 了 的 地 得 到 至 等 从 经 据 自 于 以 让 使
    该 本 此 其 各 全 我 你 他 她 它 这 那 每 某 诸 各个 我们 他们 以及 还有 其中 相关 有关
    联合 会同 协同 配合 联手 携手 邀请 组织 指导 督促 协助 来到 走进 前往 加入 提起 收到 来自 诉至 移送
    送达 走访 依托 通过 推动 落实 联系 所在 所属 辖区 全区 全市 全盟 全旗 全县 全省 全国 当地 属地
    基层 各地 各级 上级 下级 家门口 公安 社区 小区 民警 干警 法官 检察官 驻地 本地 本辖区 县级 市级
    旗县 盟市 同级 上门 移动 枫桥式 智慧 派驻 常驻 巡回 一站式 一审 二审 再审 原审 终审 该市 该县 该区
    该旗 该盟 我市 我县 我区 本市 本县 本区""".split()
)
# An unknown word (not in the dictionary) starting with one of these is a phrase, not a name.
STOP_CHARS = frozenset("这那该在是与和向对为把被从到将让使给跟同由据经及或并其此各全每")
# Parts of speech that end a name (verbs, prepositions, pronouns, adverbs, numbers …).
STOP_POS = frozenset(
    "v vd vg vn p c u uj ul uz ud ug uv r rr rz d t m q f zg y e o ad i l".split()
)
# Common nouns: inside a name (高新技术产业开发区) but never its first word.
COMMON_POS = frozenset({"n", "vn", "an", "ng"})
# Between two tails of one name ("公安分局|乌斯太|派出所", "库伦第一|派出所") a short name may hold
# words jieba tags as adverbs or numbers.
GAP_STOP_POS = STOP_POS - {"d", "m"}
# Places that are not a 盟市/旗县-level name.
GENERIC_PLACES = frozenset(
    """全区 辖区 社区 小区 城区 市区 景区 园区 地区 该区 我区 本区 各区 自治区 本市 城市 全市 都市 超市
    门市 上市 各市 我市 该市 本县 该县 全县 各县 我县 县城 全旗 该旗 各旗 我旗 本旗 全盟 各盟 该盟
    我盟 本盟 牧区 矿区 片区 街区 新区 开发区 高新区 校区 库区 山区 灾区 服务区 功能区 示范区 试验区
    保护区 风景区 商业区 生活区 工业区 住宅区 居住区 办公区 老城区 主城区 依法治区 依法治市 依法治县
    依法治旗 依法治盟""".split()
)
_ORDINAL = re.compile(r"^第[一二三四五六七八九十百0-9]+$")
_PLACE_PREFIX = re.compile(f"[{_CJK}]{{1,9}}?[{LEVELS}]")
MAX_GAP = 8  # name characters allowed between two tails of one full name
MAX_PREFIX = 18  # name characters allowed before the first tail
Token = tuple[int, int, str, str]  # start, end, word, part of speech


@lru_cache(maxsize=4096)
def _is_word(word: str) -> bool:
    return dictionary_jieba().has_word(word)


def _tokens(text: str) -> list[Token]:
    """(start, end, word, pos) of every word of text."""
    out, pos = [], 0
    for word, tag in dictionary_jieba().tag(text, True):
        out.append((pos, pos + len(word), word, tag))
        pos += len(word)
    return out


def _start(tok: Token) -> int:
    return tok[0]


def _cjk_only(word: str) -> bool:
    return bool(word) and all("\u4e00" <= c <= "\u9fff" for c in word)


def _name_word(tok: Token, nxt: Token | None, stop_pos: frozenset[str] = STOP_POS) -> bool:
    """Whether a word may stand in an institution's name, just before the word `nxt`."""
    word, pos = tok[2], tok[3]
    if not _cjk_only(word) or word in STOP_WORDS or _TAIL.search(word):
        return False  # (an organ of its own that was no name: 该|旗公安局|鲁北第二派出所)
    if "某" in word:
        return False  # 焦某: a person, not a place
    if not _is_word(word):  # a word the dictionary does not know: a proper name, unless a phrase
        return word[0] not in STOP_CHARS and (pos == "r" or pos not in stop_pos)  # 伍什家/r, not 告到/v
    if word[-1] in LEVELS or (len(word) > 1 and any(_is_word(word + c) for c in LEVELS)):
        return True  # a place: 新城区, or 包头 (包头市) when the dictionary took the 市
    if nxt is not None and nxt[2][0] in LEVELS + "镇乡村" and (len(nxt[2]) > 1 or pos not in STOP_POS):
        return True  # 库伦|旗公安局, 经侦|镇 (but not 可向|县)
    if word[-1] in "化性":
        return False  # 专业化, 规范性: a quality, not a name
    if _ORDINAL.match(word):
        return True  # 鲁北第二派出所
    return pos not in stop_pos


def _inner_char(tok: Token) -> bool:
    """A one-character word that may sit inside a name between two name words."""
    word = tok[2]
    return len(word) == 1 and _cjk_only(word) and word not in STOP_CHARS and word not in STOP_WORDS


def _proper(tok: Token) -> bool:
    """A transliterated proper name or a piece of one: tagged as a name, or unknown."""
    return _cjk_only(tok[2]) and tok[2] not in STOP_WORDS and (tok[3] in ("nr", "nrt", "ns") or not _is_word(tok[2]))


def _gap_ok(text: str, tokens: list[Token], a: int, b: int) -> bool:
    """Whether text[a:b], between two tails, is the name of the next unit of the same organ."""
    if b - a > MAX_GAP or (a < b and not _cjk_only(text[a:b])):
        return False
    # Only the words starting in [a, b) can lie inside it (tokens are in text order): found by
    # bisection, so a text with thousands of tails is not rescanned for each of them.
    lo = bisect_left(tokens, a, key=_start)
    hi = bisect_left(tokens, b, key=_start)
    return all(_name_word(t, None, GAP_STOP_POS) for t in tokens[lo:hi] if t[1] <= b)


def institutions(text: str, tokens: list[Token] | None = None) -> list[tuple[int, str]]:
    """(offset, full name) of each institution mention in text, in order."""
    tokens = tokens if tokens is not None else _tokens(text)
    if not tokens:
        return []
    index_at = [0] * (len(text) + 1)  # the word holding each character
    for i, (s, e, _, _) in enumerate(tokens):
        index_at[s:e] = [i] * (e - s)
    found: list[tuple[int, int]] = []  # (start, end) of full names
    chained = False
    for m in _TAIL.finditer(text):
        ts, te = m.start(), m.end()
        if chained and _gap_ok(text, tokens, found[-1][1], ts):
            found[-1] = (found[-1][0], te)  # the next unit of the same organ: 公安局|新城区分局
            continue
        if tokens[index_at[te - 1]][1] > te or text.startswith("网", te):
            chained = False  # the tail goes on into a longer word: 法院网(讯)
            continue
        # Grow the name leftwards from the word that holds the tail's first character.
        i = index_at[ts]
        start = tokens[i][0]
        inside = text[start:ts]
        if inside and (not _cjk_only(inside) or inside in STOP_WORDS):
            start = ts  # 基层|法院 inside one dictionary word: no name
        else:
            while i > 0 and ts - tokens[i - 1][0] <= MAX_PREFIX:
                if _name_word(tokens[i - 1], tokens[i]):
                    i -= 1
                elif i > 1 and _inner_char(tokens[i - 1]) and _proper(tokens[i]) and _proper(tokens[i - 2]):
                    i -= 2  # a transliterated name cut into dictionary pieces: 巴|雅尔|吐|胡硕
                else:
                    break
                start = tokens[i][0]
            while start < ts and tokens[i][3] in COMMON_POS and _is_word(tokens[i][2]) and tokens[i][2][-1] not in LEVELS:
                i += 1  # a common noun does not open a name: 指令|代市派出所
                start = min(tokens[i][0], ts)
        chained = ts - start >= 2  # a bare tail (派出所, 县法院) is no name
        if chained:
            found.append((start, te))
    return [(s, text[s:e]) for s, e in found]


def places(text: str, tokens: list[Token] | None = None,
           names: list[tuple[int, str]] | None = None) -> list[tuple[int, str]]:
    """(offset, name) of each 盟/市/旗/县/区 place mention, in order."""
    tokens = tokens if tokens is not None else _tokens(text)
    out = []
    for s, e, word, pos in tokens:
        if len(word) >= 3 and word[-1] in LEVELS and _cjk_only(word) and word not in GENERIC_PLACES and (
            pos in ("ns", "nr", "nrt", "nz", "j", "x") or not _is_word(word)
        ):
            out.append((s, word))
    # Places at the head of institution names ("包头|市公安局" splits the place in two words).
    for offset, name in names or []:
        pos = 0
        while True:
            m = _PLACE_PREFIX.match(name, pos)
            if not m or _TAIL.match(name, m.start()) or _TAIL.match(name, m.end() - 1):
                break
            if m.group() not in GENERIC_PLACES and len(m.group()) >= 3:
                out.append((offset + m.start(), m.group()))
            pos = m.end()
    out.sort()
    return out


def _unique(items: list[tuple[int, str]], drop_suffixes: bool = False) -> list[str]:
    names = list(dict.fromkeys(name for _, name in sorted(items)))
    if drop_suffixes:  # 东关派出所 after (or before) 青州市公安局清河分局东关派出所
        # n ends another name iff reversed n is a prefix of another reversed name; among sorted
        # reversed names those sharing that prefix follow it directly: one sort, no n*n scan.
        rev = sorted(n[::-1] for n in names)
        longer = {r[::-1] for r, nxt in zip(rev, rev[1:]) if nxt.startswith(r)}
        names = [n for n in names if n not in longer]
    return names


def extract_entities(text: str) -> dict[str, list[str]]:
    """{"institutions": [...], "places": [...]}: unique names in order of first appearance."""
    text = reflow_text(text)  # a hard wrap inside a name would cut it
    if LONE_SURROGATE.search(text):  # no UTF-8 for it, so no tagger takes it; never part of a name
        text = LONE_SURROGATE.sub("\ufffd", text)
    if not text:
        return {"institutions": [], "places": []}
    tokens = _tokens(text)
    names = institutions(text, tokens)
    return {
        "institutions": _unique(names, drop_suffixes=True),
        "places": _unique(places(text, tokens, names)),
    }
