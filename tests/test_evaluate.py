from training.evaluate import score

LABELS = ["policing", "courts"]


def test_optional_prediction_is_neither_hit_nor_false_alarm():
    report = score([{"courts"}], [{"courts", "policing"}], LABELS, [{"policing"}])
    assert report["per_label"]["policing"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "tp": 0, "fp": 0, "fn": 0}
    assert report["exact_set_accuracy"] == 1.0


def test_missed_optional_is_not_a_miss():
    report = score([{"courts"}], [{"courts"}], LABELS, [{"policing"}])
    assert report["per_label"]["policing"]["fn"] == 0
    assert report["macro_f1"] == 1.0


def test_plain_scores():
    gold = [{"courts"}, {"policing"}, set(), {"courts", "policing"}]
    pred = [{"courts"}, {"courts"}, set(), {"courts"}]
    report = score(gold, pred, LABELS)
    courts = report["per_label"]["courts"]
    assert (courts["tp"], courts["fp"], courts["fn"]) == (2, 1, 0)
    assert report["per_label"]["policing"]["recall"] == 0.0
    assert report["exact_set_accuracy"] == 0.5
    assert report["macro_f1"] == round((0.8 + 0.0) / 2, 4)
