"""The model: one scikit-learn Pipeline from raw text to thresholded multi-label tags."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .data import Dataset, explained_fit
from .evaluate import score

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# scikit-learn is imported inside the functions that fit: the service imports this module (for
# check_params and the training jobs) and must start without it.

# Hyper-parameters a user may set, with safe bounds: (default, low, high).
PARAMS: dict[str, tuple[float, float, float]] = {
    "C": (4.0, 0.01, 1000.0),
    "word_min_df": (2, 1, 20),
    "char_min_df": (2, 1, 20),
    "char_max_features": (60000, 1000, 500000),
    "word_weight": (1.0, 0.0, 10.0),
    "cue_weight": (1.0, 0.0, 10.0),
    "cv": (5, 2, 10),
    "threshold_tolerance": (0.01, 0.0, 0.1),
}


def check_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults plus the given overrides; ValueError naming any unknown or out-of-range value."""
    merged = {name: default for name, (default, _, _) in PARAMS.items()}
    for name, value in (params or {}).items():
        if name not in PARAMS:
            raise ValueError(f"unknown hyper-parameter {name!r}; known: {', '.join(PARAMS)}")
        default, low, high = PARAMS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"hyper-parameter {name} must be a number, not {type(value).__name__}")
        try:
            number = float(value)
            value = type(default)(number) if math.isfinite(number) and number == int(number) or isinstance(default, float) else number
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"hyper-parameter {name}={str(value)[:40]!r} must be a number") from None
        if not (math.isfinite(value) and isinstance(value, type(default))):
            raise ValueError(f"hyper-parameter {name}={str(value)[:40]} must be a finite {'whole ' if isinstance(default, int) else ''}number in [{low}, {high}]")
        if not low <= value <= high:
            raise ValueError(f"hyper-parameter {name}={value} is outside [{low}, {high}]")
        merged[name] = value
    return merged


def build_pipeline(labels: list[str], params: dict[str, Any] | None = None, taxonomy_path: str | None = None) -> Pipeline:
    """An unfitted pipeline: normalize → (word TF-IDF ⊕ char TF-IDF ⊕ legal cues) → classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from .classifier import ThresholdedOneVsRest
    from .features import FastTfidfVectorizer, LeanFeatureUnion, LegalCueFeatures, TextNormalizer
    from .tokenize import tokenize

    p = check_params(params)
    words = FastTfidfVectorizer(
        tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2),
        min_df=p["word_min_df"], sublinear_tf=True, max_df=0.9,
    )
    chars = FastTfidfVectorizer(
        analyzer="char", ngram_range=(2, 3), min_df=p["char_min_df"], sublinear_tf=True,
        max_features=p["char_max_features"], max_df=0.9,
    )
    features = LeanFeatureUnion(
        [("words", words), ("chars", chars), ("cues", LegalCueFeatures(taxonomy_path))],
        transformer_weights={"words": p["word_weight"], "chars": 1.0, "cues": p["cue_weight"]},
    )
    classifier = ThresholdedOneVsRest(
        labels=list(labels),
        estimator=LogisticRegression(C=p["C"], class_weight="balanced", max_iter=3000, solver="liblinear"),
        cv=p["cv"],
        threshold_tolerance=p["threshold_tolerance"],
    )
    return Pipeline([("normalize", TextNormalizer()), ("features", features), ("classify", classifier)])


def indicator(label_sets: list[set[str]], labels: list[str]) -> np.ndarray:
    """Binary matrix (n_docs, n_labels) from label sets."""
    return np.array([[int(label in tags) for label in labels] for tags in label_sets], dtype=int)


def predict_sets(model: Any, texts: list[str], thresholds=None) -> list[set[str]]:
    """Label sets predicted for texts by a fitted Pipeline or a loaded LeanScorer."""
    if hasattr(model, "named_steps"):
        labels = list(model.named_steps["classify"].classes_)
        cut = model.named_steps["classify"].thresholds_ if thresholds is None else thresholds
    else:
        labels, cut = list(model.labels), model.thresholds if thresholds is None else thresholds
    matrix = model.predict_proba(texts) >= np.asarray(cut)
    return [{labels[k] for k in np.flatnonzero(row)} for row in matrix]


def cross_validate(
    dataset: Dataset, labels: list[str], params: dict[str, Any] | None = None, folds: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Whole-pipeline k-fold CV (vectorizers refit per fold): an honest estimate on our corpus."""
    from sklearn.model_selection import KFold

    texts = np.array(dataset.texts, dtype=object)
    predicted: list[set[str] | None] = [None] * len(texts)
    splitter = KFold(folds, shuffle=True, random_state=0)
    for i, (train_idx, test_idx) in enumerate(splitter.split(texts)):
        with explained_fit(dataset, check_params(params)):
            model = build_pipeline(labels, params).fit(list(texts[train_idx]), indicator([dataset.labels[j] for j in train_idx], labels))
        for j, tags in zip(test_idx, predict_sets(model, list(texts[test_idx]))):
            predicted[j] = tags
        if progress:
            progress(i + 1, folds)
    return score(dataset.labels, predicted, labels)  # type: ignore[arg-type]


def fit(dataset: Dataset, labels: list[str], params: dict[str, Any] | None = None, taxonomy_path: str | None = None) -> tuple[Pipeline, dict]:
    """Fit the pipeline on all rows; return it with timing and the tuned thresholds.

    taxonomy_path: the label set whose terms feed the cue features (default: labels/taxonomy.toml).
    """
    started = time.perf_counter()
    pipeline = build_pipeline(labels, params, None if taxonomy_path is None else str(taxonomy_path))
    with explained_fit(dataset, check_params(params)):
        pipeline.fit(dataset.texts, indicator(dataset.labels, labels))
    classifier = pipeline.named_steps["classify"]
    info = {
        "fit_seconds": round(time.perf_counter() - started, 2),
        "thresholds": dict(zip(labels, map(float, classifier.thresholds_))),
        "params": check_params(params),
    }
    return pipeline, info
