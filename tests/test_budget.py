"""The per-request time budget: a slow request answers 503 `timeout`; nothing leaks into later code."""

from __future__ import annotations

import threading
import time

import pytest

from service.budget import run_within
from service.errors import ApiError


def _spin() -> None:
    while True:  # pure Python: the budget's asynchronous exception lands between bytecodes
        pass


def test_a_loop_past_its_budget_is_stopped(app):
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(ApiError) as info:
            run_within(0.2, _spin)
        assert info.value.status_code == 503 and info.value.code == "timeout"
        assert "TAGGER_REQUEST_SECONDS" in info.value.message
        assert time.monotonic() - started < 5


def test_a_quick_call_returns_and_nothing_fires_later():
    assert run_within(0.2, lambda: 42) == 42
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # an exception left pending would surface in this loop
        pass


def test_budget_works_in_a_worker_thread(app):
    """gthread workers run requests off the main thread, where SIGALRM could not reach."""
    outcome = {}

    def request():
        with app.app_context():
            try:
                run_within(0.2, _spin)
            except ApiError as exc:
                outcome["code"] = exc.code

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(10)
    assert outcome == {"code": "timeout"}


def test_a_slow_view_answers_503_json(settings, monkeypatch):
    import dataclasses

    import service.api
    from service import create_app

    monkeypatch.setattr(service.api, "segment", lambda text: _spin())
    app = create_app({"TESTING": True, "TAGGER": dataclasses.replace(settings, request_seconds=0.3)})
    response = app.test_client().post("/segment", json={"text": "法院公开宣判"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "timeout"


def test_concurrent_requests_each_keep_their_own_budget(app):
    """One watchdog for the process: a slow request times out while a quick one beside it returns."""
    outcome = {}

    def slow():
        with app.app_context():
            try:
                run_within(0.3, _spin)
            except ApiError as exc:
                outcome["slow"] = exc.code

    def quick():
        outcome["quick"] = [run_within(5, lambda: n) for n in range(200)][-1]

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert outcome == {"slow": "timeout", "quick": 199}
