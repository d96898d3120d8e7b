"""The review log: requests only append; a flush writes the least certain texts of its window."""

from service.review import KEEP_PER_FLUSH, ReviewLog
from training.store import Store
from training.tagger import Result

THRESHOLDS = {"policing": 0.5, "courts": 0.5}


def _result(score: float) -> Result:
    return Result(labels=["policing"] if score >= 0.5 else [], scores={"policing": score, "courts": 0.0})


def test_a_quiet_window_is_written_whole(tmp_path):
    store = Store(tmp_path / "t.sqlite3")
    log = ReviewLog(store)
    log.add(["甲", "乙", "丙"], [_result(0.9), _result(0.45), _result(0.1)], THRESHOLDS, "v1")
    log.flush()
    items = store.uncertain(10)
    assert [i["text"] for i in items] == ["乙", "甲", "丙"]  # closest to a threshold first
    assert abs(items[0]["margin"] - 0.05) < 1e-9 and items[0]["model"] == "v1"


def test_a_busy_window_keeps_only_its_least_certain_texts(tmp_path):
    store = Store(tmp_path / "t.sqlite3")
    log = ReviewLog(store)
    scores = [(i % 97) / 97 for i in range(400)]
    texts = [f"第{i}篇" for i in range(400)]
    log.add(texts, [_result(s) for s in scores], THRESHOLDS, "v1")
    log.flush()
    items = store.uncertain(1000)
    assert len(items) == KEEP_PER_FLUSH
    written = sorted(i["margin"] for i in items)
    expected = sorted(min(abs(s - 0.5), 0.5) for s in scores)[:KEEP_PER_FLUSH]
    assert written == expected
    log.flush()  # an empty window writes nothing more
    assert len(store.uncertain(1000)) == KEEP_PER_FLUSH
