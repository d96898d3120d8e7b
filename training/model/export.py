"""Turn a fitted training Pipeline into format-2 data: a JSON spec and plain numpy arrays.

Reads the fitted attributes only (no scikit-learn import here); anything the lean scorer would
not reproduce exactly (another tokenizer, stop words, a non-logistic classifier) is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import FORMAT
from .cues import CUE_NAMES
from .scorer import NORMALIZER, TOKENIZER, WHITE_SPACES, LeanScorer


def _qualname(func: Any) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"


def encode_terms(terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Terms end to end as uint32 code points, and the offsets where each starts (plus the end)."""
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in terms], out=offsets[1:])
    codes = np.frombuffer("".join(terms).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32)
    return codes, offsets


def _tfidf_block(name: str, vec: Any, weight: float | None, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    params = vec.get_params()
    if params["analyzer"] not in ("word", "char"):
        raise ValueError(f"block {name}: analyzer {params['analyzer']!r} cannot be exported")
    for key, allowed in (("preprocessor", None), ("strip_accents", None), ("stop_words", None), ("input", "content"), ("norm", ("l2", None))):
        value = params[key]
        if value != allowed and not (isinstance(allowed, tuple) and value in allowed):
            raise ValueError(f"block {name}: {key}={value!r} cannot be exported")
    if np.dtype(params["dtype"]) != np.float64:
        raise ValueError(f"block {name}: dtype {params['dtype']} cannot be exported")
    if params["analyzer"] == "word" and _qualname(params["tokenizer"]) != TOKENIZER:
        raise ValueError(f"block {name}: tokenizer {_qualname(params['tokenizer'])} is not {TOKENIZER}")
    if params["analyzer"] == "char" and vec._white_spaces.pattern != WHITE_SPACES.pattern:
        raise ValueError(f"block {name}: scikit-learn's whitespace folding changed ({vec._white_spaces.pattern!r})")
    terms: list[str] = [""] * len(vec.vocabulary_)
    for term, column in vec.vocabulary_.items():
        terms[column] = term
    arrays[f"{name}.codes"], arrays[f"{name}.offsets"] = encode_terms(terms)
    if params["use_idf"]:
        arrays[f"{name}.idf"] = np.asarray(vec.idf_, dtype=np.float64)
    return {
        "name": name, "kind": "tfidf", "weight": weight, "width": len(terms),
        "analyzer": params["analyzer"], "tokenizer": TOKENIZER if params["analyzer"] == "word" else None,
        "lowercase": bool(params["lowercase"]), "ngram_range": list(params["ngram_range"]),
        "sublinear_tf": bool(params["sublinear_tf"]), "binary": bool(params["binary"]),
        "norm": params["norm"], "use_idf": bool(params["use_idf"]),
    }


def _cue_block(name: str, cues: Any, weight: float | None) -> dict[str, Any]:
    return {
        "name": name, "kind": "cues", "weight": weight, "width": len(cues.labels_) * len(CUE_NAMES),
        "labels": list(cues.labels_), "cue_names": list(CUE_NAMES),
        "term_patterns": list(cues.term_patterns_), "institution_patterns": list(cues.institution_patterns_),
    }


def pipeline_arrays(pipeline: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(spec, arrays) of a fitted normalize → features → classify Pipeline."""
    steps = pipeline.named_steps
    if [type(steps.get(n)).__name__ for n in ("normalize", "features", "classify")] != ["TextNormalizer", "LeanFeatureUnion", "ThresholdedOneVsRest"]:
        raise ValueError(f"cannot export a pipeline with steps {list(steps)}; expected normalize, features, classify")
    union, classifier = steps["features"], steps["classify"]
    arrays: dict[str, np.ndarray] = {}
    blocks = []
    weights = union.transformer_weights or {}
    for name, trans in union.transformer_list:
        if trans == "drop":
            continue
        weight = weights.get(name)
        weight = None if weight is None else float(weight)
        if type(trans).__name__ == "LegalCueFeatures":
            blocks.append(_cue_block(name, trans, weight))
        elif hasattr(trans, "vocabulary_") and hasattr(trans, "build_analyzer"):
            blocks.append(_tfidf_block(name, trans, weight, arrays))
        else:
            raise ValueError(f"block {name}: {type(trans).__name__} cannot be exported")
    if getattr(classifier, "weights_", None) is None:
        raise ValueError("only logistic-regression classifiers can be exported (no stacked weights_)")
    arrays["classifier.coef"] = np.ascontiguousarray(classifier.coef_, dtype=np.float64)
    arrays["classifier.intercept"] = np.asarray(classifier.intercept_, dtype=np.float64)
    arrays["classifier.thresholds"] = np.asarray(classifier.thresholds_, dtype=np.float64)
    spec = {
        "format": FORMAT,
        "labels": [str(x) for x in classifier.classes_],
        "normalizer": NORMALIZER,
        "blocks": blocks,
        "classifier": {"kind": "logistic", "n_features": int(classifier.coef_.shape[1])},
    }
    return spec, arrays


def scorer_from_pipeline(pipeline: Any) -> LeanScorer:
    """The lean scorer of a fitted pipeline, without writing files."""
    return LeanScorer(*pipeline_arrays(pipeline))
