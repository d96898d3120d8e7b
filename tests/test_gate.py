"""The quality gate: paired repeated CV, bootstrap intervals, no verdict from too few rows, no 0.0 for no support."""

from __future__ import annotations

import pytest

from training.gate import GateConfig, decide, evaluate_candidate, label_warnings

from conftest import TINY_PARAMS

CFG = GateConfig(folds=3, repeats=2, bootstrap=200, min_rows=20, min_support=3)


@pytest.fixture(scope="module")
def evaluation(tiny_dataset, tiny_model, labels):
    """Candidate CV evaluated on the tiny rows without a legal_publicity tag, paired with the tiny model."""
    rows = [i for i, tags in enumerate(tiny_dataset.labels) if "legal_publicity" not in tags]
    return evaluate_candidate(tiny_dataset, rows, labels, TINY_PARAMS, None, CFG, tiny_model[0])


def test_a_label_without_support_is_not_measured_never_scored_zero(evaluation):
    m = evaluation["per_label"]["legal_publicity"]
    assert m["support"] == 0 and m["measured"] is False and m["f1"] is None and "not measured" in m["note"]
    assert "legal_publicity" not in evaluation["compared"]


def test_shared_labels_get_paired_intervals(evaluation):
    for label in evaluation["compared"]:
        m = evaluation["per_label"][label]
        assert m["interval"][0] <= m["f1"] <= m["interval"][1]
        assert m["active_interval"][0] <= m["active_f1"] <= m["active_interval"][1]
        assert m["diff"] == pytest.approx(m["f1"] - m["active_f1"], abs=1e-3) and m["diff_lower"] <= m["diff"] + 1e-9
    assert evaluation["repeats"] == 2 and evaluation["rows"] == 40


def test_too_few_rows_gives_no_verdict(evaluation):
    decision, passed, reasons, sentence = decide(evaluation, GateConfig(min_rows=100), has_active=True)
    assert decision == "undecided" and passed is False and "too few rows" in reasons[0] and "not claimed better" in sentence


def test_the_decision_follows_the_lower_bound(evaluation):
    lenient = decide(evaluation, GateConfig(min_rows=10, label_drop=1.0, macro_margin=1.0, confidence=0.9), True)
    assert lenient[:2] == ("better", True) and "Not worse" in lenient[3]
    strict = decide({**evaluation, "macro_diff_lower": -0.01}, GateConfig(min_rows=10, label_drop=1.0, macro_margin=0.0), True)
    assert strict[:2] == ("worse", False) and "macro-F1" in strict[2][0]


def test_labels_under_thirty_rows_are_warned_about_with_their_f1(evaluation):
    warnings = label_warnings(evaluation)
    assert any("'courts'" in w and "cross-validated F1" in w for w in warnings)
    assert any("'legal_publicity'" in w and "could not be measured" in w for w in warnings)


@pytest.mark.parametrize("gate", [{"folds": 1}, {"repeats": "2"}, {"unknown": 1}, {"folds": True}])
def test_bad_gate_options_are_refused(gate):
    from training.config import Settings

    with pytest.raises(ValueError, match="gate option"):
        GateConfig.from_params(Settings(), gate)
