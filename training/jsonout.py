"""JSON answers shared by the service and the CLI: ISO-8601 UTC timestamps, numbers to 4 decimals."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

JOB_TIMES = ("created", "started", "finished")


def iso_utc(seconds: float | None) -> str | None:
    """A time.time() value as ISO-8601 UTC (e.g. 2026-12-04T20:50:00Z); None stays None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def job_json(job: dict[str, Any]) -> dict[str, Any]:
    """A stored job as answered: its timestamps in ISO-8601 UTC."""
    out = dict(job)
    for key in JOB_TIMES:
        if isinstance(out.get(key), (int, float)):
            out[key] = iso_utc(out[key])
    return out


def review_item_json(item: dict[str, Any]) -> dict[str, Any]:
    """A /review item: scores and margin to 4 decimals, time in ISO-8601 UTC."""
    out = {k: item[k] for k in ("text", "labels", "scores", "margin", "model", "created")}
    if isinstance(out["margin"], float):
        out["margin"] = round(out["margin"], 4)
    if isinstance(out["scores"], dict):
        out["scores"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in out["scores"].items()}
    if isinstance(out["created"], (int, float)):
        out["created"] = iso_utc(out["created"])
    return out
