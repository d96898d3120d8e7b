"""SQLite stores under TAGGER_DATA_DIR: training jobs, corrections (feedback), classified texts.

SQLite in WAL mode: several gunicorn workers read and write safely; every write is one short
transaction, so a crash loses nothing that was acknowledged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    report TEXT,
    errors TEXT,
    version TEXT,
    owner TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text_sha TEXT NOT NULL,
    text TEXT NOT NULL,
    labels TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (text_sha, labels)
);
CREATE TABLE IF NOT EXISTS classified (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text_sha TEXT NOT NULL,
    text TEXT NOT NULL,
    scores TEXT NOT NULL,
    labels TEXT NOT NULL,
    margin REAL NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS classified_created ON classified (created);
"""

TERMINAL = ("done", "failed")
ACTIVE_STATES = ("queued", "validating", "training", "evaluating")


def text_sha(text: str) -> str:
    """Identity of a text for deduplication: whitespace-insensitive sha256."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def owner_id() -> str:
    """This process, as recorded on the jobs it runs."""
    return f"{os.uname().nodename}:{os.getpid()}"


def _alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return True  # another machine's job: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """One SQLite database file; a connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._open()
        try:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once for the file
            db.executescript(SCHEMA)  # executescript manages its own transaction
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction on a fresh connection, closed afterwards.

        A connection per operation (~0.1 ms to open) is safe across threads, background flushes
        and forked workers; none of these operations is on the classification hot path.
        """
        db = self._open()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()

    # --- jobs -------------------------------------------------------------------------
    def create_job(self, options: dict[str, Any]) -> str:
        job_id = uuid.uuid4().hex[:12]
        with self.connect() as db:
            db.execute(
                "INSERT INTO jobs (id, state, options, owner, created) VALUES (?, 'queued', ?, ?, ?)",
                (job_id, json.dumps(options, ensure_ascii=False), owner_id(), time.time()),
            )
        return job_id

    def update_job(self, job_id: str, **fields: Any) -> None:
        for key in ("report", "errors", "options"):
            if key in fields and not isinstance(fields[key], str) and fields[key] is not None:
                fields[key] = json.dumps(fields[key], ensure_ascii=False)
        if fields.get("state") in ("validating",) and "started" not in fields:
            fields["started"] = time.time()
        if fields.get("state") in TERMINAL and "finished" not in fields:
            fields["finished"] = time.time()
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self.connect() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def list_jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [self._job(r) for r in rows]

    def fail_orphaned_jobs(self) -> list[str]:
        """Mark failed every unfinished job whose process is gone (a crash or restart)."""
        failed = []
        with self.connect() as db:
            for row in db.execute("SELECT id, owner FROM jobs WHERE state IN (?, ?, ?, ?)", ACTIVE_STATES).fetchall():
                if not _alive(row["owner"]):
                    db.execute(
                        "UPDATE jobs SET state = 'failed', message = ?, finished = ? WHERE id = ?",
                        ("interrupted: the service stopped while this job ran; no model was written — submit it again", time.time(), row["id"]),
                    )
                    failed.append(row["id"])
        return failed

    @staticmethod
    def _job(row: sqlite3.Row) -> dict[str, Any]:
        job = dict(row)
        for key in ("options", "report", "errors"):
            job[key] = json.loads(job[key]) if job.get(key) else None
        return job

    # --- feedback ---------------------------------------------------------------------
    def add_feedback(self, text: str, labels: list[str]) -> tuple[int, bool]:
        """Store a correction; (row id, True if this exact correction was already stored)."""
        sha, joined = text_sha(text), "|".join(sorted(labels))
        with self.connect() as db:
            row = db.execute("SELECT id FROM feedback WHERE text_sha = ? AND labels = ?", (sha, joined)).fetchone()
            if row:
                return row["id"], True
            cur = db.execute(
                "INSERT INTO feedback (text_sha, text, labels, created) VALUES (?, ?, ?, ?)", (sha, text, joined, time.time())
            )
            return cur.lastrowid, False

    def feedback_rows(self) -> list[dict[str, Any]]:
        """The latest correction per text (older ones stay stored), oldest first."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT f.* FROM feedback f JOIN (SELECT text_sha, MAX(id) AS id FROM feedback GROUP BY text_sha) last "
                "ON f.id = last.id ORDER BY f.id"
            ).fetchall()
        return [dict(r) for r in rows]

    # --- classified texts (for uncertainty sampling) -----------------------------------
    def add_classified(self, rows: list[tuple[str, str, str, str, float, str, float]], keep: int = 5000) -> None:
        # One statement for the whole batch: executemany steps SQLite once per row, and each step
        # gives up the GIL; under CPU load the writer then held the database lock for seconds.
        payload = json.dumps(rows, ensure_ascii=False)
        with self.connect() as db:
            db.execute(
                "INSERT INTO classified (text_sha, text, scores, labels, margin, model, created) "
                "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 "
                "FROM json_each(?)", (payload,)
            )
            db.execute("DELETE FROM classified WHERE id <= (SELECT MAX(id) FROM classified) - ?", (keep,))

    def uncertain(self, n: int, recent: int = 2000) -> list[dict[str, Any]]:
        """Among the most recent classified texts, the n closest to a threshold (one per text)."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT * FROM (SELECT * FROM classified ORDER BY id DESC LIMIT ?) "
                "GROUP BY text_sha HAVING id = MAX(id) ORDER BY margin ASC LIMIT ?", (recent, n)
            ).fetchall()
        out = []
        for r in rows:
            item = dict(r)
            item["scores"] = json.loads(item["scores"])
            item["labels"] = [l for l in item["labels"].split("|") if l]
            out.append(item)
        return out
