import numpy as np

from training import artifacts, pipeline
from training.tagger import Tagger


def test_thresholds_are_tuned_stored_and_applied(models_dir):
    pipe, meta = artifacts.load_model(models_dir, "tiny-1")
    tagger = Tagger(pipe, meta)
    stored = meta["thresholds"]
    assert set(stored) == set(tagger.labels)
    assert tagger.thresholds == stored
    text = "检察院对涉嫌诈骗的嫌疑人批准逮捕，并提起公诉。"
    scores = tagger.classify([text])[0].scores
    for label in tagger.labels:
        # A label is returned exactly when its score reaches its own tuned threshold.
        assert (label in tagger.classify([text])[0].labels) == (scores[label] >= stored[label])
    # Overriding thresholds changes the decision: 0 takes every label, 1 none (scores < 1).
    assert set(tagger.classify([text], threshold=0.0)[0].labels) == set(tagger.labels)
    assert tagger.classify([text], threshold={"procuratorate": 0.9999})[0].labels == [
        l for l in tagger.classify([text])[0].labels if l != "procuratorate"
    ]


def test_labels_are_ordered_by_score(models_dir):
    pipe, meta = artifacts.load_model(models_dir, "tiny-1")
    result = Tagger(pipe, meta).classify(["派出所民警走进校园开展反诈普法宣传"], threshold=0.0)[0]
    assert result.labels == sorted(result.labels, key=lambda l: -result.scores[l])


def test_tiny_model_learns_its_corpus(tiny_model, tiny_dataset, labels):
    pipe, _ = tiny_model
    predicted = pipeline.predict_sets(pipe, tiny_dataset.texts)
    agree = np.mean([p == g for p, g in zip(predicted, tiny_dataset.labels)])
    assert agree > 0.9


def test_batch_equals_single(models_dir):
    pipe, meta = artifacts.load_model(models_dir, "tiny-1")
    tagger = Tagger(pipe, meta)
    texts = ["法院宣判", "检察院批捕", "民警巡逻"]
    batch = tagger.classify(texts)
    assert [r.scores for r in batch] == [tagger.classify([t])[0].scores for t in texts]


def test_hyper_parameters_are_bounded():
    import pytest

    with pytest.raises(ValueError, match="outside"):
        pipeline.check_params({"C": -1})
    with pytest.raises(ValueError, match="unknown hyper-parameter 'gamma'"):
        pipeline.check_params({"gamma": 1})


def test_threshold_is_the_lowest_near_optimal_one():
    from training.classifier import THRESHOLD_GRID, best_threshold, f1_curve

    y = np.array([0] * 50 + [1] * 50)
    proba = np.concatenate([np.linspace(0.0, 0.3, 50), np.linspace(0.6, 1.0, 50)])
    # Every threshold in (0.3, 0.6] separates perfectly: the rule takes the lowest of them.
    assert best_threshold(y, proba, tolerance=0.0) == 0.325
    rng = np.random.default_rng(0)
    noisy = np.clip(proba + rng.normal(0, 0.2, 100), 0, 1)
    curve = f1_curve(y, noisy)
    strict, loose = best_threshold(y, noisy, tolerance=0.0), best_threshold(y, noisy, tolerance=0.05)
    assert curve[list(THRESHOLD_GRID).index(strict)] == curve.max()
    assert loose <= strict and curve[list(THRESHOLD_GRID).index(loose)] >= curve.max() - 0.05
