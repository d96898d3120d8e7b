"""Per-label cue features (who is the principal actor, and where it appears), on plain lists.

`training.features.LegalCueFeatures` learns the patterns from the taxonomy; both it and the
serving scorer compute rows with `cue_arrays`, so training and serving cannot drift apart.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

SENTENCE = re.compile(r"[。！？!?\n]")
LEAD_CHARS = 120
TAIL_CHARS = 80

CUE_NAMES = (
    "terms",  # log count of the label's cue terms in the whole text
    "lead_terms",  # cue terms in the headline / first sentence
    "institutions",  # log count of institution names (…人民检察院, …派出所)
    "lead_institution",  # an institution name in the headline / first sentence
    "share",  # this label's share of all labels' cue hits: who dominates the text
    "first_position",  # how early the label's first cue appears (1 = at the start)
    "density",  # cue hits per 100 characters, squashed
    "tail_terms",  # cue terms in the last sentences: source lines such as "（某某检察院供稿）"
)


def lead(text: str) -> str:
    """Headline plus first sentence: where news puts its principal actor."""
    first_line, _, rest = text.partition("\n")
    if len(first_line) <= 40 and rest:  # a short first line is a headline; add the next sentence
        match = SENTENCE.search(rest)
        return (first_line + "\n" + rest[: match.start() if match else LEAD_CHARS])[: LEAD_CHARS + 40]
    match = SENTENCE.search(first_line)
    return first_line[: match.start() if match else LEAD_CHARS][:LEAD_CHARS]


def cue_row(text: str, terms: Sequence[re.Pattern], institutions: Sequence[re.Pattern]) -> list[float]:
    """The CUE_NAMES values of every label, label after label."""
    head = lead(text)
    tail = text[-TAIL_CHARS:]
    size = max(len(text), 1)
    counts, firsts = [], []
    for pattern in terms:
        first, n = -1, 0
        for n, match in enumerate(pattern.finditer(text), start=1):
            if first < 0:
                first = match.start()
        counts.append(n)
        firsts.append(first)
    total = sum(counts) or 1
    row: list[float] = []
    for k in range(len(terms)):
        n_terms = counts[k]
        row += [
            math.log1p(n_terms) / 2,
            math.log1p(len(terms[k].findall(head))),
            math.log1p(len(institutions[k].findall(text))) / 2,
            1.0 if institutions[k].search(head) else 0.0,
            n_terms / total,
            1.0 - firsts[k] / size if firsts[k] >= 0 else 0.0,
            math.tanh(100.0 * n_terms / size),
            math.log1p(len(terms[k].findall(tail))),
        ]
    return row


def cue_dense(texts: Sequence[str], terms: Sequence[re.Pattern], institutions: Sequence[re.Pattern]) -> np.ndarray:
    """Dense (n_texts, n_labels * len(CUE_NAMES)) cue matrix."""
    rows = [cue_row(str(doc), terms, institutions) for doc in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(terms) * len(CUE_NAMES))


def cue_arrays(texts: Sequence[str], terms: Sequence[re.Pattern], institutions: Sequence[re.Pattern]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR parts (data, indices, indptr) of the cue matrix."""
    dense = cue_dense(texts, terms, institutions)
    rows, columns = np.nonzero(dense)
    indptr = np.zeros(len(dense) + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=len(dense)), out=indptr[1:])
    return dense[rows, columns], columns.astype(np.int32), indptr
