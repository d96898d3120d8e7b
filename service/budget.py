"""A per-request time budget: a slow input costs one request (503 JSON), never a worker.

gunicorn kills a worker that does not report in within its `timeout`, which also ends every other
request and any training job that worker runs. Instead, a watchdog timer raises `OverBudget` in
the request's own thread once TAGGER_REQUEST_SECONDS have passed (CPython's
PyThreadState_SetAsyncExc, delivered at the next bytecode boundary). This works in any worker
thread, unlike SIGALRM, which only reaches the main thread. Every text-processing step is
linear-time on a bounded input, so the longest C call between two bytecodes is short.

The race between "the view finished" and "the timer fired" is closed with one lock: the timer
only raises while the guarded block is running, and the block cancels any raise still pending as
it leaves.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any, Callable

from flask import current_app

from .errors import ApiError

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class OverBudget(BaseException):
    """Raised inside a request that ran past its budget (BaseException: `except Exception` cannot swallow it)."""


class _Guard:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.thread_id = threading.get_ident()
        self.lock = threading.Lock()
        self.active = False
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        with self.lock:
            if self.active:
                self.fired = True
                _set_async_exc(self.thread_id, ctypes.py_object(OverBudget))

    def __enter__(self) -> "_Guard":
        self.active = True
        self.timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.timer.cancel()
        with self.lock:
            self.active = False
            if self.fired:  # raised but perhaps not yet delivered: cancel it (NULL clears)
                _set_async_exc(self.thread_id, ctypes.py_object())


def run_within(seconds: float, func: Callable[[], Any]) -> Any:
    """func() or OverBudget after `seconds` (no limit when seconds <= 0)."""
    if seconds <= 0:
        return func()
    guard = _Guard(seconds)
    try:
        with guard:
            return func()
    except OverBudget:
        raise _timeout(seconds) from None
    finally:
        guard.timer.cancel()


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
