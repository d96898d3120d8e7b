"""SQLite stores under TAGGER_DATA_DIR: training jobs, corrections (feedback), classified texts.

SQLite in WAL mode: several gunicorn workers read and write safely; every write is one short
transaction, so a crash loses nothing that was acknowledged. Reads use read-only connections, so
listing jobs or exporting feedback works on a read-only data directory too.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .errors import TaggerError

log = logging.getLogger(__name__)

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
INTERRUPTED = "interrupted: the service stopped while this job ran; no model was written — submit it again"


class DataDirError(TaggerError):
    """The data directory (TAGGER_DATA_DIR) cannot be used: missing, not a directory, read-only or full."""


def data_dir_error(data_dir: Path, exc: BaseException) -> DataDirError:
    """A one-line DataDirError naming the path, what is wrong, and the fix."""
    text = (getattr(exc, "strerror", None) or str(exc)).lower()  # not the path: "/srv/full/var" is no full disk
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "full" in text:
        problem, fix = "the disk is full", "free disk space there or point TAGGER_DATA_DIR at a disk with room"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        problem, fix = "is read-only for this service", "make it writable by the service user or point TAGGER_DATA_DIR at a writable directory"
    elif code == errno.ENOTDIR or isinstance(exc, NotADirectoryError) or "not a directory" in text:
        problem, fix = "is not a directory (it or a parent is a file)", "point TAGGER_DATA_DIR at a directory, or move the file away"
    elif code == errno.ENOENT or isinstance(exc, FileNotFoundError):
        problem, fix = "its parent directory does not exist", f"create {Path(data_dir).parent} or point TAGGER_DATA_DIR at an existing directory"
    else:
        problem, fix = f"cannot be used ({exc})", "check TAGGER_DATA_DIR: it must be a writable directory with free space"
    return DataDirError(f"data directory {data_dir} (TAGGER_DATA_DIR): {problem}; {fix}")


def check_data_dir(data_dir: Path) -> None:
    """Create the data directory (not its parents) and prove it takes a write; DataDirError if not."""
    data_dir = Path(data_dir)
    try:
        if data_dir.exists() and not data_dir.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(data_dir))
        data_dir.mkdir(exist_ok=True)  # a missing parent is a mistake (an unmounted disk?), not ours to create
        probe = data_dir / f".write-probe-{os.getpid()}"
        try:
            with open(probe, "wb") as handle:
                handle.write(b"\0" * 4096)  # one block: a full disk refuses it
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise data_dir_error(data_dir, exc) from None


def _is_storage_fault(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in ("readonly", "read-only", "disk", "unable to open", "locked", "full"))


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
        """Open (creating if needed) the database; DataDirError if it can be neither written nor read.

        A database that exists but cannot be written (read-only directory, full disk) still opens
        for reading; `read_only` then says why, and every write raises DataDirError.
        """
        self.path = Path(path)
        self.read_only: str | None = None
        try:
            check_data_dir(self.path.parent)
            db = self._open()
            try:
                db.execute("PRAGMA journal_mode=WAL")  # persistent: set once for the file
                db.executescript(SCHEMA)  # executescript manages its own transaction
            finally:
                db.close()
        except (DataDirError, OSError, sqlite3.OperationalError) as exc:
            error = exc if isinstance(exc, DataDirError) else data_dir_error(self.path.parent, exc)
            if not self._readable():
                raise error from None
            self.read_only = str(error)
            log.warning("%s; serving stored jobs and corrections read-only", error)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _open_read(self) -> sqlite3.Connection:
        # mode=ro never writes; immutable=1 reads a WAL file whose -shm cannot be created
        # (read-only directory), which is safe there because nobody can be writing.
        for query in ("mode=ro", "mode=ro&immutable=1"):
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{query}", uri=True, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            try:
                db.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
                return db
            except sqlite3.OperationalError:
                db.close()
                if query.endswith("immutable=1"):
                    raise
        raise AssertionError("unreachable")

    def _readable(self) -> bool:
        if not self.path.is_file():
            return False
        try:
            self._open_read().close()
        except sqlite3.Error:
            return False
        return True

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction on a fresh connection, closed afterwards.

        A connection per operation (~0.1 ms to open) is safe across threads, background flushes
        and forked workers; none of these operations is on the classification hot path. A read-only
        or full data directory raises DataDirError naming it.
        """
        try:
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
        except sqlite3.OperationalError as exc:
            if _is_storage_fault(exc):
                raise data_dir_error(self.path.parent, exc) from None
            raise

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection: no write transaction, works on a read-only data directory."""
        try:
            db = self._open_read()
        except sqlite3.OperationalError as exc:
            raise data_dir_error(self.path.parent, exc) from None
        try:
            yield db
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
        with self.reading() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def list_jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.reading() as db:
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
                        (INTERRUPTED, time.time(), row["id"]),
                    )
                    failed.append(row["id"])
        return failed

    def jobs_failed_before(self, cutoff: float) -> list[str]:
        """Ids of jobs that failed before `cutoff` (a time.time() value)."""
        with self.reading() as db:
            rows = db.execute("SELECT id FROM jobs WHERE state = 'failed' AND COALESCE(finished, created) < ?", (cutoff,)).fetchall()
        return [r["id"] for r in rows]

    @staticmethod
    def _job(row: sqlite3.Row) -> dict[str, Any]:
        job = dict(row)
        for key in ("options", "report", "errors"):
            job[key] = json.loads(job[key]) if job.get(key) else None
        if job["state"] in ACTIVE_STATES and not _alive(job["owner"]):
            # Shown as what it is without a write (reads must work on a read-only data dir);
            # startup and the next job record it (fail_orphaned_jobs).
            job.update(state="failed", message=INTERRUPTED)
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

    def delete_feedback(self, feedback_id: int) -> bool:
        """Delete one stored correction; False when there is none with that id."""
        with self.connect() as db:
            return db.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,)).rowcount > 0

    def feedback_rows(self) -> list[dict[str, Any]]:
        """The latest correction per text (older ones stay stored), oldest first."""
        with self.reading() as db:
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
        with self.reading() as db:
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
