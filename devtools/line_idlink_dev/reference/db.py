"""The reference app's own data: customers, their orders, points and balance, web sessions, and
what the app keeps about LINE users (display name, blocked, the LINE Login token of a link), its
settings (rich-menu ids), an audit trail and campaign batches.

The account-link side (nonces, link tokens, links, webhook events) lives in the core's SQLite
storage, in the same database file, so one file holds a whole demo.
"""

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    customer_number TEXT NOT NULL UNIQUE,
    tier TEXT NOT NULL DEFAULT 'regular',
    points INTEGER NOT NULL DEFAULT 0,
    balance INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sale_order (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer(id),
    name TEXT NOT NULL,
    date TEXT NOT NULL,
    total INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_session (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS line_profile (
    line_user_id TEXT PRIMARY KEY,
    display_name TEXT,
    blocked INTEGER NOT NULL DEFAULT 0,
    login_access_token TEXT  -- LINE Login token of the link: revoked and deauthorized on unlink
);
CREATE TABLE IF NOT EXISTS app_setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS line_audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    event TEXT NOT NULL,
    line_user_id TEXT,
    customer_id TEXT,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS campaign_batch (
    campaign_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (campaign_id, batch_id)
);
"""

# Three demo customers: a light buyer, a loyal buyer and a new one (no orders yet).
DEMO_PASSWORD = "line-demo"
DEMO_CUSTOMERS = [
    {"email": "aiko@example.com", "name": "佐藤 愛子", "tier": "silver", "points": 320,
     "balance": 1200, "orders": [("S00011", "2026-09-14", 4800, "done")]},
    {"email": "kenji@example.com", "name": "鈴木 健二", "tier": "gold", "points": 2480,
     "balance": 5600, "orders": [("S00012", "2026-08-02", 12800, "done"),
                                 ("S00015", "2026-09-20", 7600, "done"),
                                 ("S00019", "2026-10-11", 9900, "done"),
                                 ("S00023", "2026-10-30", 15400, "shipped")]},
    {"email": "yui@example.com", "name": "高橋 結衣", "tier": "regular", "points": 0,
     "balance": 0, "orders": []},
]


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 120_000).hex()
    return f"pbkdf2_sha256${salt}${digest}"


def check_password(password, stored):
    try:
        _, salt, _ = stored.split("$")
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, salt), stored)


class ShopDB:
    """Customers and sessions on one SQLite file (":memory:" works for tests)."""

    def __init__(self, path):
        self.path = path
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                     timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._conn.executescript(SCHEMA)

    def query(self, sql, params=()):
        with self._lock:
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]

    def execute(self, sql, params=()):
        with self._lock:
            return self._conn.execute(sql, params)

    @contextmanager
    def transaction(self):
        """All statements run on the yielded connection commit together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self):
        with self._lock:
            self._conn.close()

    # Customers ------------------------------------------------------------------------
    def seed_demo(self):
        """Create the demo customers once (a no-op when they exist)."""
        if self.query("SELECT 1 FROM customer LIMIT 1"):
            return
        for number, customer in enumerate(DEMO_CUSTOMERS, start=1):
            cursor = self.execute(
                "INSERT INTO customer (email, name, password_hash, customer_number, tier, points,"
                " balance) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (customer["email"], customer["name"], hash_password(DEMO_PASSWORD),
                 f"C{number:06d}", customer["tier"], customer["points"], customer["balance"]))
            for name, date, total, state in customer["orders"]:
                self.execute("INSERT INTO sale_order (customer_id, name, date, total, state)"
                             " VALUES (?, ?, ?, ?, ?)", (cursor.lastrowid, name, date, total, state))

    def customer(self, customer_id):
        rows = self.query("SELECT * FROM customer WHERE id = ?", (customer_id,))
        return rows[0] if rows else None

    def customer_by_email(self, email):
        rows = self.query("SELECT * FROM customer WHERE email = ?", ((email or "").strip().lower(),))
        return rows[0] if rows else None

    def authenticate(self, email, password):
        customer = self.customer_by_email(email)
        if customer and check_password(password or "", customer["password_hash"]):
            return customer
        return None

    def create_customer(self, email, name, password):
        email = (email or "").strip().lower()
        if "@" not in email or not name or len(password or "") < 8:
            raise ValueError("Give an e-mail address, a name and a password of 8 characters or more.")
        if self.customer_by_email(email):
            raise ValueError("An account with this e-mail address exists: log in instead.")
        count = self.query("SELECT COUNT(*) AS n FROM customer")[0]["n"]
        cursor = self.execute(
            "INSERT INTO customer (email, name, password_hash, customer_number) VALUES (?, ?, ?, ?)",
            (email, name.strip(), hash_password(password), f"C{count + 1:06d}"))
        return self.customer(cursor.lastrowid)

    def customers(self):
        return self.query("SELECT * FROM customer ORDER BY id")

    def orders(self, customer_id):
        return self.query("SELECT * FROM sale_order WHERE customer_id = ? ORDER BY date DESC",
                          (customer_id,))

    def segment(self, customer_id):
        """'loyal' from three orders on, else 'light' (the campaign's purchase-history segments)."""
        return "loyal" if len(self.orders(customer_id)) >= 3 else "light"

    # Sessions -------------------------------------------------------------------------
    def load_session(self, session_id):
        rows = self.query("SELECT data FROM web_session WHERE id = ?", (session_id,))
        return json.loads(rows[0]["data"]) if rows else None

    def save_session(self, session_id, data):
        self.execute("INSERT OR REPLACE INTO web_session (id, data) VALUES (?, ?)",
                     (session_id, json.dumps(data)))

    def drop_session(self, session_id):
        self.execute("DELETE FROM web_session WHERE id = ?", (session_id,))

    # LINE users ---------------------------------------------------------------------------
    def profile(self, line_user_id):
        rows = self.query("SELECT * FROM line_profile WHERE line_user_id = ?", (line_user_id,))
        return rows[0] if rows else None

    def save_profile(self, line_user_id, display_name=None, blocked=None):
        """Insert or update; a None argument leaves that column as it is."""
        self.execute("INSERT OR IGNORE INTO line_profile (line_user_id) VALUES (?)",
                     (line_user_id,))
        if display_name is not None:
            self.execute("UPDATE line_profile SET display_name = ? WHERE line_user_id = ?",
                         (display_name, line_user_id))
        if blocked is not None:
            self.execute("UPDATE line_profile SET blocked = ? WHERE line_user_id = ?",
                         (int(bool(blocked)), line_user_id))

    def swap_login_token(self, line_user_id, token):
        """Keep ``token`` (None: forget it) as the LINE user's Login token; returns the one it
        replaces, which the caller revokes."""
        with self.transaction() as con:
            con.execute("INSERT OR IGNORE INTO line_profile (line_user_id) VALUES (?)",
                        (line_user_id,))
            row = con.execute("SELECT login_access_token FROM line_profile WHERE line_user_id = ?",
                              (line_user_id,)).fetchone()
            con.execute("UPDATE line_profile SET login_access_token = ? WHERE line_user_id = ?",
                        (token, line_user_id))
        return row[0] if row else None

    # Settings and audit ---------------------------------------------------------------------
    def setting(self, key):
        rows = self.query("SELECT value FROM app_setting WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_setting(self, key, value):
        self.execute("INSERT OR REPLACE INTO app_setting (key, value) VALUES (?, ?)", (key, value))

    def audit(self, at, event, line_user_id=None, customer_id=None, detail=None):
        self.execute("INSERT INTO line_audit (at, event, line_user_id, customer_id, detail)"
                     " VALUES (?, ?, ?, ?, ?)",
                     (at, event, line_user_id, None if customer_id is None else str(customer_id),
                      detail))

    def audit_log(self, event=None):
        if event is None:
            return self.query("SELECT * FROM line_audit ORDER BY id")
        return self.query("SELECT * FROM line_audit WHERE event = ? ORDER BY id", (event,))
