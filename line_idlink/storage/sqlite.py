"""SQLite storage (stdlib ``sqlite3``), the reference app's default.

One connection per instance, used by one thread at a time (a lock): a threaded web server starts a
thread per request, so per-thread connections would pile up. Several instances or processes may
share one file: WAL lets readers run during a write, ``busy_timeout`` makes writers queue, and
every rule is a single SQL statement or an IMMEDIATE transaction, so it holds across connections:

* nonce: ``UPDATE ... WHERE used_at IS NULL AND expires_at > ?`` then ``rowcount == 1``;
* link: a partial unique index on (channel_id, line_user_id) WHERE unlinked_at IS NULL;
* event: ``INSERT OR IGNORE`` on a unique ``event_id``;
* claim: ``UPDATE ... WHERE started_at IS NULL``.

The schema is created on first use (``CREATE ... IF NOT EXISTS``), so an existing database file
with other tables (the reference app's) is fine.
"""

import sqlite3
import threading
from contextlib import contextmanager

from .protocol import EventRecord, LinkConflict, LinkRecord, LinkTokenRecord, NonceRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS line_link_token (
    token_hash TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS line_nonce (
    nonce_hash TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    link_token_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS line_link (
    id INTEGER PRIMARY KEY,
    channel_id TEXT NOT NULL,
    line_user_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('messaging_api', 'line_login')),
    linked_at REAL NOT NULL,
    unlinked_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS line_link_one_customer_per_user
    ON line_link (channel_id, line_user_id) WHERE unlinked_at IS NULL;
CREATE INDEX IF NOT EXISTS line_link_customer ON line_link (channel_id, customer_id);
CREATE TABLE IF NOT EXISTS line_webhook_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    channel_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL
);
CREATE INDEX IF NOT EXISTS line_webhook_event_pending
    ON line_webhook_event (started_at, seq);
"""

_NONCE_COLUMNS = ("nonce_hash, channel_id, customer_id, line_user_id, link_token_hash, "
                  "created_at, expires_at, used_at")
_LINK_COLUMNS = "channel_id, line_user_id, customer_id, method, linked_at, unlinked_at"
_EVENT_COLUMNS = ("event_id, channel_id, payload, received_at, started_at, finished_at, error,"
                  " attempts, next_try")
# columns added to line_webhook_event after its first release: added to older files on open
_EVENT_UPGRADES = (("attempts", "INTEGER NOT NULL DEFAULT 0"), ("next_try", "REAL"))


class SQLiteStorage:
    """Implements :class:`line_idlink.storage.Storage` on a SQLite file (or ``":memory:"``)."""

    def __init__(self, path, timeout=30.0):
        self.path = str(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._con = None

    # Connection ------------------------------------------------------------------------------
    @contextmanager
    def _db(self):
        with self._lock:
            if self._con is None:
                # isolation_level=None: autocommit; transactions are explicit where needed.
                con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                      check_same_thread=False)
                if self.path != ":memory:":
                    con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)
                columns = {row[1] for row in con.execute("PRAGMA table_info(line_webhook_event)")}
                for name, kind in _EVENT_UPGRADES:
                    if name not in columns:
                        con.execute(f"ALTER TABLE line_webhook_event ADD COLUMN {name} {kind}")
                self._con = con
            yield self._con

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE takes the write lock first, so a read-then-write cannot interleave
        with another connection's write."""
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def close(self):
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # Link tokens -----------------------------------------------------------------------------
    def save_link_token(self, record):
        with self._db() as con:
            con.execute("INSERT OR REPLACE INTO line_link_token VALUES (?, ?, ?, ?, ?)",
                        (record.token_hash, record.channel_id, record.line_user_id,
                         record.issued_at, record.expires_at))

    def get_link_token(self, token_hash):
        with self._db() as con:
            row = con.execute("SELECT token_hash, channel_id, line_user_id, issued_at, expires_at"
                              " FROM line_link_token WHERE token_hash = ?",
                              (token_hash,)).fetchone()
        return LinkTokenRecord(*row) if row else None

    # Nonces ----------------------------------------------------------------------------------
    def add_nonce(self, record):
        try:
            with self._db() as con:
                con.execute(f"INSERT INTO line_nonce ({_NONCE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                            (record.nonce_hash, record.channel_id, record.customer_id,
                             record.line_user_id, record.link_token_hash, record.created_at,
                             record.expires_at, record.used_at))
        except sqlite3.IntegrityError as exc:
            raise ValueError("nonce already stored") from exc

    def get_nonce(self, nonce_hash):
        with self._db() as con:
            row = con.execute(f"SELECT {_NONCE_COLUMNS} FROM line_nonce WHERE nonce_hash = ?",
                              (nonce_hash,)).fetchone()
        return NonceRecord(*row) if row else None

    def consume_nonce(self, nonce_hash, now):
        with self._db() as con:
            cursor = con.execute("UPDATE line_nonce SET used_at = ? WHERE nonce_hash = ?"
                                 " AND used_at IS NULL AND expires_at > ?",
                                 (now, nonce_hash, now))
            if cursor.rowcount != 1:
                return None
        return self.get_nonce(nonce_hash)

    # Links -----------------------------------------------------------------------------------
    def add_link(self, record):
        with self._transaction() as con:
            try:
                con.execute(f"INSERT INTO line_link ({_LINK_COLUMNS}) VALUES (?,?,?,?,?,?)",
                            (record.channel_id, record.line_user_id, record.customer_id,
                             record.method, record.linked_at, record.unlinked_at))
            except sqlite3.IntegrityError as exc:
                existing = self.get_link(record.channel_id, record.line_user_id)
                if existing is None:  # the CHECK on method, not the unique index
                    raise ValueError(f"invalid link record: {exc}") from exc
                raise LinkConflict(existing) from None

    def get_link(self, channel_id, line_user_id):
        with self._db() as con:
            row = con.execute(f"SELECT {_LINK_COLUMNS} FROM line_link WHERE channel_id = ?"
                              " AND line_user_id = ? AND unlinked_at IS NULL",
                              (channel_id, line_user_id)).fetchone()
        return LinkRecord(*row) if row else None

    def links_for_customer(self, channel_id, customer_id):
        with self._db() as con:
            rows = con.execute(f"SELECT {_LINK_COLUMNS} FROM line_link WHERE channel_id = ?"
                               " AND customer_id = ? AND unlinked_at IS NULL ORDER BY id",
                               (channel_id, customer_id)).fetchall()
        return [LinkRecord(*row) for row in rows]

    def end_links(self, channel_id, now, line_user_id=None, customer_id=None):
        if line_user_id is None and customer_id is None:
            raise ValueError("end_links needs line_user_id or customer_id")
        where = "channel_id = ? AND unlinked_at IS NULL"
        params = [channel_id]
        if line_user_id is not None:
            where += " AND line_user_id = ?"
            params.append(line_user_id)
        if customer_id is not None:
            where += " AND customer_id = ?"
            params.append(customer_id)
        with self._transaction() as con:
            ids = [row[0] for row in con.execute(f"SELECT id FROM line_link WHERE {where}"
                                                 " ORDER BY id", params)]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            con.execute(f"UPDATE line_link SET unlinked_at = ? WHERE id IN ({marks})",
                        [now, *ids])
            rows = con.execute(f"SELECT {_LINK_COLUMNS} FROM line_link WHERE id IN ({marks})"
                               " ORDER BY id", ids).fetchall()
        return [LinkRecord(*row) for row in rows]

    def all_links(self):
        """Every link, ended ones included (history for tests and the demo)."""
        with self._db() as con:
            rows = con.execute(f"SELECT {_LINK_COLUMNS} FROM line_link ORDER BY id").fetchall()
        return [LinkRecord(*row) for row in rows]

    # Webhook events --------------------------------------------------------------------------
    def remember_event(self, event_id, channel_id, payload, received_at):
        with self._db() as con:
            cursor = con.execute("INSERT OR IGNORE INTO line_webhook_event"
                                 " (event_id, channel_id, payload, received_at) VALUES (?,?,?,?)",
                                 (event_id, channel_id, payload, received_at))
            return cursor.rowcount == 1

    def get_event(self, event_id):
        with self._db() as con:
            row = con.execute(f"SELECT {_EVENT_COLUMNS} FROM line_webhook_event"
                              " WHERE event_id = ?", (event_id,)).fetchone()
        return EventRecord(*row) if row else None

    def pending_events(self, channel_id=None, limit=100, now=None):
        query = f"SELECT {_EVENT_COLUMNS} FROM line_webhook_event WHERE started_at IS NULL"
        params = []
        if channel_id is not None:
            query += " AND channel_id = ?"
            params.append(channel_id)
        if now is not None:
            query += " AND (next_try IS NULL OR next_try <= ?)"
            params.append(now)
        query += " ORDER BY seq LIMIT ?"
        params.append(int(limit))
        with self._db() as con:
            rows = con.execute(query, params).fetchall()
        return [EventRecord(*row) for row in rows]

    def claim_event(self, event_id, now):
        with self._db() as con:
            cursor = con.execute("UPDATE line_webhook_event SET started_at = ?,"
                                 " attempts = attempts + 1"
                                 " WHERE event_id = ? AND started_at IS NULL", (now, event_id))
            return cursor.rowcount == 1

    def retry_event(self, event_id, next_try, error):
        with self._db() as con:
            cursor = con.execute("UPDATE line_webhook_event SET started_at = NULL, next_try = ?,"
                                 " error = ? WHERE event_id = ?", (next_try, error, event_id))
            if cursor.rowcount != 1:
                raise KeyError(f"unknown webhook event {event_id!r}")

    def finish_event(self, event_id, now, error=None):
        with self._db() as con:
            cursor = con.execute("UPDATE line_webhook_event SET finished_at = ?, error = ?"
                                 " WHERE event_id = ?", (now, error, event_id))
            if cursor.rowcount != 1:
                raise KeyError(f"unknown webhook event {event_id!r}")

    # Housekeeping ----------------------------------------------------------------------------
    def purge_expired(self, now):
        with self._transaction() as con:
            count = con.execute("DELETE FROM line_nonce WHERE expires_at < ?", (now,)).rowcount
            count += con.execute("DELETE FROM line_link_token WHERE expires_at < ?",
                                 (now,)).rowcount
        return count
