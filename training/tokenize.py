"""Word tokenization: jieba's algorithm and dictionary plus our legal dictionary, loaded once.

`tokenize` is the named module-level function every pipeline stores (pickles keep its import
path), so training and serving cut words the same way. The backend is rjieba (jieba-rs, ~17x
faster) when installed and jieba otherwise; tests assert both give the same tokens.

The HMM guesser for unknown words is off: jieba and jieba-rs implement it slightly differently
(8 of 1,523 of our and the gold articles came out differently with it on, none with it off),
and a model must not depend on which backend served it. Unknown words still reach the model
through the character n-grams, and our domain words through the legal dictionary.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Callable, Iterable

from .config import get_settings
from .normalize import LONE_SURROGATE

log = logging.getLogger(__name__)

HMM = False  # see the module docstring

_KEEP = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")
_ASCII_PIECE = re.compile(r"[0-9]+|[a-z]+")
_WHITESPACE = re.compile(r"\s")  # what str.strip() removes; NUL is not in it
_lock = threading.Lock()
_cutters: dict[tuple[str, str], Callable[[str], list[str]]] = {}


def read_user_dict(path: Path) -> list[tuple[str, int | None, str | None]]:
    """Parse a jieba user dictionary: `word [freq] [pos]` per line; '#' starts a comment."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        pos = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        entries.append((parts[0], freq, pos))
    return entries


def _jieba_cutter(dict_path: Path) -> Callable[[str], list[str]]:
    import jieba

    tk = jieba.Tokenizer()
    # jieba caches its prefix dictionary in a temp dir that may not survive; keep it in our cache.
    cache_dir = get_settings().cache_dir
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tk.tmp_dir = str(cache_dir)
    except OSError:
        log.warning("cannot create %s; jieba will rebuild its dictionary cache", cache_dir)
    jieba.setLogLevel(logging.WARNING)
    tk.initialize()
    for word, freq, pos in read_user_dict(dict_path) if dict_path.exists() else []:
        tk.add_word(word, freq, pos)
    return lambda text: tk.lcut(text, HMM=HMM)


def _rjieba_cutter(dict_path: Path) -> Callable[[str], list[str]]:
    import rjieba

    tk = rjieba.Jieba()
    for word, freq, pos in read_user_dict(dict_path) if dict_path.exists() else []:
        tk.add_word(word, freq, pos)
    return lambda text: tk.cut(text, HMM)


def resolve_backend(name: str) -> str:
    """Map 'auto' to the fastest installed backend; reject unknown names."""
    if name == "auto":
        try:
            import rjieba  # noqa: F401
        except ImportError:
            return "jieba"
        return "rjieba"
    if name not in ("jieba", "rjieba"):
        raise ValueError(f"unknown tokenizer backend {name!r}; use auto, rjieba or jieba")
    return name


def get_cutter(backend: str | None = None, dict_path: Path | None = None) -> Callable[[str], list[str]]:
    """The raw word cutter for a backend and dictionary, built once per process."""
    settings = get_settings()
    backend = resolve_backend(backend or settings.tokenizer_backend)
    dict_path = Path(dict_path or settings.legal_dict_path)
    key = (backend, str(dict_path))
    cutter = _cutters.get(key)
    if cutter is None:
        with _lock:
            cutter = _cutters.get(key)
            if cutter is None:
                build = _rjieba_cutter if backend == "rjieba" else _jieba_cutter
                cutter = _cutters[key] = build(dict_path)
    return cutter


def clean_tokens(words: Iterable[str]) -> list[str]:
    """Drop punctuation and whitespace tokens; lowercase Latin; fold numbers to one token."""
    # filter() runs the keep-test in C; this function is a hot path of every request.
    kept = list(filter(_KEEP.search, words))
    joined = "\x00".join(kept)
    if joined.count("\x00") != len(kept) - 1 or _WHITESPACE.search(joined):
        return _clean_tokens_one_by_one(kept)
    # No token holds a NUL or whitespace, so strip() would change nothing, and one lower() of the
    # NUL-joined tokens equals lowering each (NUL is neither cased nor case-ignorable, so even
    # the final-sigma rule sees the same word boundaries). Tests compare both paths.
    out: list[str] = []
    append = out.append
    for word in joined.lower().split("\x00"):
        if word.isascii():
            out.extend(_ascii_pieces(word))
        else:
            append(word)
    return out


def _ascii_pieces(word: str) -> list[str]:
    # Backends differ on how they glue Latin runs like "2016-3-30"; split them the same way.
    return ["<num>" if piece.isdigit() else piece for piece in _ASCII_PIECE.findall(word)]


def _clean_tokens_one_by_one(words: Iterable[str]) -> list[str]:
    """`clean_tokens` for any input, token by token (the reference the fast path must equal)."""
    out: list[str] = []
    for word in filter(_KEEP.search, words):
        if not word.isascii():
            word = word.strip().lower()
            if not word.isascii():
                out.append(word)
                continue
        out.extend(_ascii_pieces(word.lower()))
    return out


_default: Callable[[str], list[str]] | None = None


def tokenize(text: str) -> list[str]:
    """Cut text into content words with the configured backend and the legal dictionary."""
    global _default
    if _default is None:  # settings are read once per process, not per call (hot path)
        _default = get_cutter()
    if LONE_SURROGATE.search(text):  # both backends then see the same replacement character
        text = LONE_SURROGATE.sub("\ufffd", text)
    return clean_tokens(_default(text))


def warm_up() -> None:
    """Load the dictionary now, so the first request does not pay for it."""
    tokenize("预热：派出所民警与人民法院法官、检察官开展普法宣传。")
