"""The learned boundary decision: is the body after a headline another article, or a section of this one?

When a headline stands between two bodies, layout alone rarely settles it: a section heading
("数字赋能 办案跑出加速度") and the next article's headline look alike. Boosted decision trees over
the features below, trained on generated pages (training/pages/train_boundaries.py), weigh the
evidence: line widths of the two sides, their organ profiles (cue terms of labels/taxonomy.toml),
the words they share, the headline's shape and markup against the current article's title, and
position. Trees, not a linear model, because the evidence interacts: a long headline means a new
article after a one-paragraph brief, a section heading inside a feature.

The model is data: boundary/arrays.npz (the trees as flat node arrays; plain numbers, no pickle)
and boundary/model.json (feature names, bias, rate, threshold, sha256 of the arrays, how it was
trained). It is verified by checksum and for well-formed trees when loaded, and scored in plain
Python: each decision walks each tree once, and explain() says what each feature added.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..model.files import read_npz, write_npz
from ..normalize import is_cjk

MODEL_DIR = Path(__file__).with_name("boundary")
FORMAT = 2  # 1: a logistic regression; 2: boosted trees

FEATURES = (
    "widths_known",      # both sides are hard-wrapped, so their line widths are known
    "width_diff",        # |width before - width after| / 10, when known
    "width_same",        # known and within wrap_width_tolerance
    "domain_known",      # both sides have enough cue terms to compare
    "domain_cosine",     # cosine of the two organ profiles, when known
    "domain_low",        # known and below domain_break
    "head_chars",        # headline length / 20
    "head_paras",        # headline paragraphs (kicker, title, subtitle)
    "head_space",        # a space inside the headline (two-part titles)
    "markup_as_title",   # same markup as the current article's title
    "markup_differs",    # the current article has a title and its markup is not the headline's
    "markup_deeper",     # more # than the current article's title
    "head_numbered",     # 一、 （一） 1. : a numbered section
    "head_punct",        # quotes, ？！ or ：inside the headline
    "title_ratio",       # headline length / the current title's length (0: untitled)
    "cur_titled",        # the current article has a title
    "cur_paras",         # log(1 + body paragraphs so far)
    "cur_sections",      # log(1 + section headings so far)
    "block_paras",       # log(1 + body paragraphs after the headline, up to the next headline)
    "block_first",       # log(1 + length of the first paragraph after) / 5
    "prev_open",         # the body before ends mid-sentence
    "after_page",        # the page prints headlines after their bodies
    "cohesion",          # cosine of the character bigrams of the last paragraphs before and the first after
    "head_before",       # share of the headline's bigrams found in the body before it
    "head_after",        # share of the headline's bigrams found in the body after it
    "title_after",       # share of the current title's bigrams found in the body after the headline
)

_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[、.．])")


class BoundaryModelError(ValueError):
    """A boundary model file that is missing, altered or malformed; the message says which."""


def markup(raw: str) -> str:
    """The markup a headline line carries: '#', '##', ..., '**' or ''."""
    s = raw.lstrip()
    if s.startswith("**"):
        return "**"
    n = len(s) - len(s.lstrip("#"))
    return "#" * min(n, 6)


def grams(text: str) -> Counter:
    """Character bigrams of the CJK runs of a text: the words two passages share, without a dictionary."""
    return Counter(text[i:i + 2] for i in range(len(text) - 1) if is_cjk(text[i]) and is_cjk(text[i + 1]))


def cosine(a: Counter, b: Counter) -> float:
    """Cosine of two bigram counts (0 when either is empty)."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(n * b[g] for g, n in a.items() if g in b)
    return dot / math.sqrt(sum(n * n for n in a.values()) * sum(n * n for n in b.values()))


def share(part: Counter, whole: Counter) -> float:
    """Share of part's distinct bigrams that occur in whole (0 when part has none)."""
    return sum(g in whole for g in part) / len(part) if part else 0.0


_cosine = cosine


def features(head_raw: list[str], head_sq: str, title_raw: str, title_sq: str, w1: int, w2: int,
             tolerance: int, cosine: float | None, domain_break: float, cur_paras: int,
             cur_sections: int, block_paras: int, block_first: int, prev_open: bool, after: bool,
             before_text: str = "", after_text: str = "") -> np.ndarray:
    """The feature vector of one decision, in the order of FEATURES.

    before_text / after_text: the last body paragraphs before the headline and the first after it
    (bounded by the caller), whose shared words say whether one story goes on.
    """
    gb, ga, gh, gt = grams(before_text), grams(after_text), grams(head_sq), grams(title_sq)
    m, tm = markup(head_raw[-1]) if head_raw else "", markup(title_raw) if title_raw else ""
    known = bool(w1 and w2)
    return np.array([
        known, abs(w1 - w2) / 10 if known else 0.0, known and abs(w1 - w2) <= tolerance,
        cosine is not None, cosine or 0.0, cosine is not None and cosine < domain_break,
        len(head_sq) / 20, len(head_raw), any(" " in r.strip() or "\u3000" in r.strip() for r in head_raw),
        bool(title_raw) and m == tm, bool(title_raw) and m != tm, m.startswith("#") and tm.startswith("#") and len(m) > len(tm),
        bool(_NUMBERED.match(head_sq.lstrip("#*"))), any(c in head_sq for c in "“”？！?!：:"),
        len(head_sq) / len(title_sq) if title_sq else 0.0, bool(title_sq),
        math.log1p(cur_paras), math.log1p(cur_sections), math.log1p(block_paras), math.log1p(block_first) / 5,
        prev_open, after,
        _cosine(gb, ga), share(gh, gb), share(gh, ga), share(gt, ga),
    ], dtype=np.float64)


@dataclass(frozen=True)
class BoundaryModel:
    """Boosted decision trees over FEATURES: p(new article) = sigmoid(bias + rate * the leaves x reaches).

    The trees are flat arrays, one entry per node: at an inner node go left when
    x[feature] <= cut, else right; a leaf (feature -1) adds its value. `roots` are the trees' first
    nodes. Children always come after their parent, so every walk ends (checked on load).
    """

    names: tuple[str, ...]
    feature: np.ndarray
    cut: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    bias: float
    rate: float
    threshold: float = 0.5
    info: dict | None = None

    def __post_init__(self) -> None:
        # Python lists: a walk of a few hundred nodes is faster on lists than on numpy scalars.
        for name in ("feature", "cut", "left", "right", "value", "roots"):
            object.__setattr__(self, f"_{name}", getattr(self, name).tolist())

    def _contributions(self, x: np.ndarray) -> tuple[float, list[float]]:
        """(raw score, what each feature added to it) for one decision (Saabas attribution)."""
        xs = x.astype(np.float32).tolist()  # trees split on float32 values, as they were trained
        feature, cut, left, right, value = self._feature, self._cut, self._left, self._right, self._value
        contrib = [0.0] * len(self.names)
        raw = self.bias
        for node in self._roots:
            raw += self.rate * value[node]
            while left[node] >= 0:
                f = feature[node]
                child = left[node] if xs[f] <= cut[node] else right[node]
                contrib[f] += self.rate * (value[child] - value[node])
                raw += self.rate * (value[child] - value[node])
                node = child
        return raw, contrib

    def prob(self, x: np.ndarray) -> float:
        return _sigmoid(self._contributions(x)[0])

    def decide(self, x: np.ndarray, top: int = 4) -> tuple[float, list[dict]]:
        """(prob, explain) of one decision from a single walk of the trees."""
        raw, contrib = self._contributions(x)
        return _sigmoid(raw), self._top(x, contrib, top)

    def explain(self, x: np.ndarray, top: int = 4) -> list[dict]:
        """The features that moved this decision most, with their signed contributions to the logit."""
        return self._top(x, self._contributions(x)[1], top)

    def _top(self, x: np.ndarray, contrib: list[float], top: int) -> list[dict]:
        order = sorted(range(len(contrib)), key=lambda i: -abs(contrib[i]))[:top]
        return [{"feature": self.names[i], "value": round(float(x[i]), 3), "weight": round(contrib[i], 3)}
                for i in order]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"feature": self.feature, "cut": self.cut, "left": self.left, "right": self.right,
                "value": self.value, "roots": self.roots}

    def save(self, directory: Path) -> None:
        """Write arrays.npz and model.json (with the arrays' sha256) into a new directory, atomically."""
        tmp = directory.with_name(f".tmp-{directory.name}-{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=False)
        write_npz(tmp / "arrays.npz", self.arrays())
        digest = hashlib.sha256((tmp / "arrays.npz").read_bytes()).hexdigest()
        spec = {"format": FORMAT, "features": list(self.names), "bias": self.bias, "rate": self.rate,
                "threshold": self.threshold, "arrays_sha256": digest, "info": self.info or {}}
        (tmp / "model.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if directory.exists():  # never overwritten in place: the old one is moved aside, then removed
            old = directory.with_name(f".old-{directory.name}-{os.getpid()}")
            directory.rename(old)
            tmp.rename(directory)
            for f in old.iterdir():
                f.unlink()
            old.rmdir()
        else:
            tmp.rename(directory)


# What a model file may hold. Each decision walks every tree from its root to a leaf (twice with
# the debug explanation), so a file with a million trees or a tree a million levels deep would
# make every headline cost seconds: the shipped model has 100 trees of depth 3 (1,490 nodes, 300
# steps per decision); these bounds leave room for retraining with larger trees.
MAX_FILE_BYTES = 8 << 20  # arrays.npz on disk and its arrays unpacked; model.json
MAX_NODES = 1 << 16
MAX_DEPTH = 32
MAX_STEPS = 4096  # nodes one decision visits, all trees together


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _check_trees(arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a file's tree arrays, or None: shapes, types, ranges, size, and walks that end."""
    try:
        feature, left, right, roots, cut, value = (
            np.asarray(arrays[k]) for k in ("feature", "left", "right", "roots", "cut", "value"))
    except KeyError as exc:
        return f"no {exc.args[0]!r} array"
    if any(a.ndim != 1 for a in (feature, left, right, roots, cut, value)):
        return "tree arrays that are not flat (one dimension each)"
    n = len(feature)
    if not (len(left) == len(right) == len(cut) == len(value) == n) or n == 0 or len(roots) == 0:
        return "tree arrays of different lengths"
    if any(a.dtype.kind not in "iu" for a in (feature, left, right, roots)):
        return "node indexes that are not integers"
    if any(a.dtype.kind not in "iuf" for a in (cut, value)):
        return "cuts or values that are not real numbers"
    if n > MAX_NODES or len(roots) > MAX_STEPS:
        return f"{n} nodes in {len(roots)} trees, more than {MAX_NODES} nodes or {MAX_STEPS} trees"
    if not (np.all(np.isfinite(cut)) and np.all(np.isfinite(value))):
        return "a cut or value that is not finite"
    leaf = feature < 0
    idx = np.arange(n)
    inner_ok = (left > idx) & (right > idx) & (left < n) & (right < n) & (feature < len(FEATURES))
    leaf_ok = (left == -1) & (right == -1) & (feature == -1)
    if not np.all(np.where(leaf, leaf_ok, inner_ok)) or np.any((roots < 0) | (roots >= n)):
        return "a node that points outside the trees or back up them"
    # Height of every node (levels below it), one level per round: a tree deeper than MAX_DEPTH
    # has not settled after MAX_DEPTH + 1 rounds.
    lc, rc = np.where(leaf, idx, left).astype(np.int64), np.where(leaf, idx, right).astype(np.int64)
    height = np.zeros(n, dtype=np.int64)
    for _ in range(MAX_DEPTH + 1):
        grown = np.where(leaf, 0, 1 + np.maximum(height[lc], height[rc]))
        if np.array_equal(grown, height):
            break
        height = grown
    else:
        return f"a tree deeper than {MAX_DEPTH} levels"
    steps = int(height[roots.astype(np.int64)].sum())
    if steps > MAX_STEPS:
        return f"walks of {steps} nodes per decision, more than {MAX_STEPS}"
    return None


def load(directory: Path = MODEL_DIR) -> BoundaryModel:
    """A boundary model, its arrays checked against the sha256 in model.json and for well-formed trees."""
    fix = "regenerate it: python -m training.pages.train_boundaries"
    try:
        for name in ("model.json", "arrays.npz"):
            size = (directory / name).stat().st_size
            if size > MAX_FILE_BYTES:
                raise BoundaryModelError(f"{directory / name} is {size} bytes, more than a boundary model's "
                                         f"{MAX_FILE_BYTES}; {fix}")
        spec = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        content = (directory / "arrays.npz").read_bytes()
    except (OSError, ValueError, RecursionError) as exc:
        if isinstance(exc, BoundaryModelError):
            raise
        raise BoundaryModelError(f"boundary model in {directory} cannot be read ({exc}); {fix}") from None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise BoundaryModelError(f"{directory}/model.json: format {spec.get('format') if isinstance(spec, dict) else '?'!r} "
                                 f"is not {FORMAT}; {fix}")
    if hashlib.sha256(content).hexdigest() != spec.get("arrays_sha256"):
        raise BoundaryModelError(f"{directory}/arrays.npz does not match the sha256 in model.json; {fix}")
    try:
        unpacked = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(content)).infolist())
        if unpacked > MAX_FILE_BYTES:  # a small file that unpacks to gigabytes
            raise ValueError(f"its arrays unpack to {unpacked} bytes, more than {MAX_FILE_BYTES}")
        arrays = read_npz(content)
    except Exception as exc:  # numpy and zipfile raise many types on crafted bytes: each means malformed
        raise BoundaryModelError(f"{directory}/arrays.npz: malformed boundary model arrays ({exc}); {fix}") from None
    try:
        names = tuple(str(n) for n in spec["features"])
        bias, rate, threshold = float(spec["bias"]), float(spec["rate"]), float(spec["threshold"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise BoundaryModelError(f"{directory}/model.json: malformed boundary model ({exc}); {fix}") from None
    if names != FEATURES:
        raise BoundaryModelError(f"{directory}: its features do not match this version's {len(FEATURES)} features; {fix}")
    problem = _check_trees(arrays)
    if problem is None and not all(map(math.isfinite, (bias, rate, threshold))):
        problem = "a bias, rate or threshold that is not finite"
    if problem is not None:
        raise BoundaryModelError(f"{directory}: malformed boundary model ({problem}); {fix}")
    return BoundaryModel(names, *(np.asarray(arrays[k]) for k in ("feature", "cut", "left", "right", "value", "roots")),
                         bias, rate, threshold, spec.get("info"))


@lru_cache(maxsize=1)
def default_model() -> BoundaryModel | None:
    """The shipped boundary model, or None when there is none or it fails its checks (the splitter then uses its rules).

    A damaged file is logged once, naming the fix: it must not turn every page request into a 500.
    """
    if not (MODEL_DIR / "model.json").exists():
        return None
    try:
        return load(MODEL_DIR)
    except BoundaryModelError as exc:
        logging.getLogger(__name__).error("%s; until then pages are split by the rules alone", exc)
        _PROBLEMS[MODEL_DIR] = str(exc)
        return None


_PROBLEMS: dict[Path, str] = {}  # why the shipped model was refused, for /readyz


def splitter_status() -> dict:
    """What splits pages: the shipped boundary model (its size), or the rules alone and why."""
    model = default_model()
    if model is not None:
        return {"boundary_model": "ok", "trees": len(model.roots), "nodes": len(model.feature)}
    return {"boundary_model": "rules only", "problem": _PROBLEMS.get(MODEL_DIR, "no boundary model shipped")}
