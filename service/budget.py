"""A per-request time budget: a slow input costs one request (503 JSON), never a worker.

gunicorn kills a worker that does not report in within its `timeout`, which also ends every other
request and any training job that worker runs. Instead, a watchdog raises `OverBudget` in the
request's own thread once TAGGER_REQUEST_SECONDS have passed (CPython's PyThreadState_SetAsyncExc,
delivered at the next bytecode boundary; one watchdog thread per process keeps the deadlines).
This works in any worker thread, unlike SIGALRM, which only reaches the main thread. Every text-processing step is
linear-time on a bounded input, so the longest C call between two bytecodes is short.

The race between "the view finished" and "the timer fired" is closed with one lock: the timer
only raises while the guarded block is running, and the block cancels any raise still pending as
it leaves.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import time
from typing import Any, Callable

from flask import current_app

from .errors import ApiError

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class OverBudget(BaseException):
    """Raised inside a request that ran past its budget (BaseException: `except Exception` cannot swallow it)."""


class _Guard:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.active = False
        self.fired = False

    def fire(self) -> None:
        with self.lock:
            if self.active:
                self.fired = True
                _set_async_exc(self.thread_id, ctypes.py_object(OverBudget))

    def __enter__(self) -> "_Guard":
        self.active = True
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _WATCHDOG.remove(self)  # never while holding self.lock: the watchdog takes its lock, then ours
        with self.lock:
            self.active = False
            if self.fired:  # raised but perhaps not yet delivered: cancel it (NULL clears)
                _set_async_exc(self.thread_id, ctypes.py_object())


class _Watchdog:
    """One thread per process fires the guards whose deadline passed.

    A threading.Timer per request cost about 0.18 ms (a thread start) on every request; this
    costs a dict insert. The thread starts on first use, so each forked worker gets its own.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._guards: set[_Guard] = set()
        self._thread: threading.Thread | None = None

    def add(self, guard: _Guard) -> None:
        with self._cond:
            earliest = min((g.deadline for g in self._guards), default=None)
            self._guards.add(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="request-budget", daemon=True)
                self._thread.start()
            elif earliest is None or guard.deadline < earliest:
                self._cond.notify()

    def remove(self, guard: _Guard) -> None:
        with self._cond:
            self._guards.discard(guard)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [g for g in self._guards if g.deadline <= now]
                self._guards.difference_update(due)
                earliest = min((g.deadline for g in self._guards), default=None)
                if not due:
                    self._cond.wait(None if earliest is None else earliest - now)
            for guard in due:  # outside our lock (see _Guard.__exit__)
                guard.fire()


_WATCHDOG = _Watchdog()


def run_within(seconds: float, func: Callable[[], Any]) -> Any:
    """func() or OverBudget after `seconds` (no limit when seconds <= 0)."""
    if seconds <= 0:
        return func()
    try:
        with _Guard(seconds):
            return func()
    except OverBudget:
        raise _timeout(seconds) from None


def _timeout(seconds: float) -> ApiError:
    return ApiError(
        503, "timeout",
        f"the request took longer than its {seconds:g} s budget (TAGGER_REQUEST_SECONDS) and was stopped; "
        "send shorter texts or smaller batches",
    )


def budgeted(view: Callable) -> Callable:
    """Run a view under the configured time budget."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seconds = current_app.config["TAGGER"].request_seconds
        return run_within(seconds, lambda: view(*args, **kwargs))

    return wrapper
