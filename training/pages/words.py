"""A dictionary word cutter without HMM guessing, shared by the splitter and the entity finder.

With `hmm=False` a multi-character token is a dictionary word: the splitter uses it to test
whether a real word crosses a paragraph junction, `training.pages.entities` for part-of-speech
tags and word lookups.
"""

from __future__ import annotations

import threading
from typing import Any

_jieba_lock = threading.Lock()
_jieba: Any = None


def dictionary_jieba() -> Any:
    """An rjieba (or jieba) tokenizer with the legal dictionary, built once per process.

    Used with `hmm=False` to test whether a real word crosses a junction, and by
    `training.pages.entities` for part-of-speech tags.
    """
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                from ..config import get_settings
                from ..tokenize import read_user_dict

                path = get_settings().legal_dict_path
                entries = read_user_dict(path) if path.exists() else []
                try:
                    import rjieba

                    tk = rjieba.Jieba()
                    for word, freq, pos in entries:
                        tk.add_word(word, freq, pos)
                    _jieba = _RJieba(tk)
                except ImportError:  # pragma: no cover - rjieba is a dependency
                    _jieba = _PyJieba(entries)
    return _jieba


class _RJieba:
    def __init__(self, tk: Any):
        self.tk = tk

    def cut(self, text: str, hmm: bool = False) -> list[str]:
        return self.tk.cut(text, hmm)

    def tag(self, text: str, hmm: bool = True) -> list[tuple[str, str]]:
        return self.tk.tag(text, hmm)

    def has_word(self, word: str) -> bool:
        return bool(self.tk.has_word(word))


class _PyJieba:  # pragma: no cover - fallback when rjieba is missing
    def __init__(self, entries: list):
        import jieba
        import jieba.posseg

        self.tk = jieba.Tokenizer()
        for word, freq, pos in entries:
            self.tk.add_word(word, freq, pos)
        self.pos = jieba.posseg.POSTokenizer(self.tk)

    def cut(self, text: str, hmm: bool = False) -> list[str]:
        return self.tk.lcut(text, HMM=hmm)

    def tag(self, text: str, hmm: bool = True) -> list[tuple[str, str]]:
        return [(p.word, p.flag) for p in self.pos.cut(text, HMM=hmm)]

    def has_word(self, word: str) -> bool:
        return bool(self.tk.FREQ.get(word))
