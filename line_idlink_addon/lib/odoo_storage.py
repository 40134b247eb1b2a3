"""The core's :class:`line_idlink.storage.Storage` protocol on the addon's ORM tables, for one
``line.channel``.

The operations the protocol requires to be atomic are single SQL statements on ``env.cr``:
nonce consumption is ``UPDATE ... WHERE used_at IS NULL AND expires_at > now RETURNING``, an
identity is created with one upsert (``INSERT ... ON CONFLICT (channel_id, line_user_id)``), a
link is the same upsert whose ``DO UPDATE`` is guarded by ``NOT linked`` (plus a partial unique
index on active links), so two workers can never both win. The ORM cache of the touched models
is invalidated afterwards.

Concurrency under Odoo's REPEATABLE READ transactions: when another transaction created the
same identity after this one began, PostgreSQL answers the upsert with a serialization failure
(never a duplicate row); it is raised without an ERROR log line, and the caller retries in a new
transaction (the event queue's retry policy; Odoo retries HTTP requests itself). A webhook event
is stored in a short READ COMMITTED transaction of its own, so duplicates delivered at the same
moment wait for each other and are recognised, never failing with a serialization error.

Links live on ``line.identity`` (one row per LINE user and channel): an active link is
``linked = true``; ending it keeps ``partner_id`` as history and sets ``unlinked_at``.
Customer ids are ``str(partner.id)``; times are epoch seconds from the caller's clock, stored as
naive UTC datetimes like every Odoo Datetime.
"""

import datetime
from contextlib import nullcontext

from psycopg2 import errorcodes
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import sql_db

from line_idlink.storage import (EventRecord, LinkConflict, LinkRecord, LinkTokenRecord,
                                 NonceRecord)

UTC = datetime.timezone.utc

# errors of a transaction that lost a race with another one: trying again in a new transaction
# succeeds (Odoo retries HTTP requests on the first three; the event queue retries on all four)
CONCURRENCY_ERRORS = (errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED,
                      errorcodes.LOCK_NOT_AVAILABLE, errorcodes.UNIQUE_VIOLATION)


def lost_race(exc):
    """True for a database error that a new transaction would not meet again."""
    return getattr(exc, "pgcode", None) in CONCURRENCY_ERRORS


def to_dt(seconds):
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def to_ts(value):
    if not value:
        return None
    return value.replace(tzinfo=UTC).timestamp()


class OdooStorage:
    """``Storage`` for one channel; ``env`` must be a superuser env (the tables are technical)."""

    def __init__(self, env, channel, events_apart=False, on_stored=None):
        """``events_apart``: store webhook events in a short transaction of their own (the
        webhook route; see :meth:`remember_event`), else in ``env.cr``'s transaction.
        ``on_stored(cr)``: called after a new event is committed (``events_apart`` only), on the
        same cursor, in a new READ COMMITTED transaction committed afterwards."""
        self.env = env
        self.cr = env.cr
        self.channel = channel
        self.channel_key = str(channel.id)
        self.events_apart = events_apart
        self.on_stored = on_stored

    def _check_channel(self, channel_id):
        if str(channel_id) != self.channel_key:
            raise ValueError(f"this storage serves channel {self.channel_key}, not {channel_id}")

    def _flush(self, *models):
        # raw SQL below must see what the ORM still holds in memory, and the ORM must then
        # forget what it cached
        for model in models:
            self.env[model].flush_model()

    def _invalidate(self, *models):
        for model in models:
            self.env[model].invalidate_model()

    # Link tokens -------------------------------------------------------------------------------
    def save_link_token(self, record):
        self._check_channel(record.channel_id)
        self._flush("line.link.token")
        self.cr.execute("""
            INSERT INTO line_link_token (token_hash, channel_id, line_user_id, issued_at,
                                         expires_at, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (token_hash) DO UPDATE SET channel_id = EXCLUDED.channel_id,
                line_user_id = EXCLUDED.line_user_id, issued_at = EXCLUDED.issued_at,
                expires_at = EXCLUDED.expires_at
        """, (record.token_hash, self.channel.id, record.line_user_id, to_dt(record.issued_at),
              to_dt(record.expires_at)))
        self._invalidate("line.link.token")

    def get_link_token(self, token_hash):
        self._flush("line.link.token")
        self.cr.execute("""SELECT token_hash, channel_id, line_user_id, issued_at, expires_at
                             FROM line_link_token WHERE token_hash = %s""", (token_hash,))
        row = self.cr.fetchone()
        if not row:
            return None
        return LinkTokenRecord(row[0], str(row[1]), row[2], to_ts(row[3]), to_ts(row[4]))

    # Nonces ------------------------------------------------------------------------------------
    _NONCE_COLUMNS = ("nonce_hash, channel_id, partner_id, line_user_id, link_token_hash,"
                      " issued_at, expires_at, used_at")

    @staticmethod
    def _nonce(row):
        return NonceRecord(row[0], str(row[1]), str(row[2]), row[3], row[4], to_ts(row[5]),
                           to_ts(row[6]), to_ts(row[7]))

    def add_nonce(self, record):
        self._check_channel(record.channel_id)
        self._flush("line.link.nonce")
        self.cr.execute(f"""
            INSERT INTO line_link_nonce ({self._NONCE_COLUMNS}, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s,
                    now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (nonce_hash) DO NOTHING RETURNING id
        """, (record.nonce_hash, self.channel.id, int(record.customer_id), record.line_user_id,
              record.link_token_hash, to_dt(record.created_at), to_dt(record.expires_at),
              to_dt(record.used_at)))
        if not self.cr.fetchone():
            raise ValueError("nonce hash collision")
        self._invalidate("line.link.nonce")

    def get_nonce(self, nonce_hash):
        self._flush("line.link.nonce")
        self.cr.execute(f"SELECT {self._NONCE_COLUMNS} FROM line_link_nonce WHERE nonce_hash = %s",
                        (nonce_hash,))
        row = self.cr.fetchone()
        return self._nonce(row) if row else None

    def consume_nonce(self, nonce_hash, now):
        self._flush("line.link.nonce")
        self.cr.execute(f"""
            UPDATE line_link_nonce SET used_at = %s, write_date = now() at time zone 'UTC'
             WHERE nonce_hash = %s AND used_at IS NULL AND expires_at > %s
         RETURNING {self._NONCE_COLUMNS}
        """, (to_dt(now), nonce_hash, to_dt(now)))
        row = self.cr.fetchone()
        self._invalidate("line.link.nonce")
        return self._nonce(row) if row else None

    # Links -------------------------------------------------------------------------------------
    _LINK_COLUMNS = "channel_id, line_user_id, partner_id, link_method, linked_since, unlinked_at"

    @staticmethod
    def _link(row):
        return LinkRecord(str(row[0]), row[1], str(row[2]), row[3], to_ts(row[4]), to_ts(row[5]))

    def _identity_insert(self, line_user_id, extra=None):
        """Columns and values of a new ``line.identity`` row: the model's defaults (fields other
        addons add keep theirs), the channel's company, the audit columns, then ``extra``."""
        Identity = self.env["line.identity"]
        # the model's defaults only: never a ``default_*`` key some caller's context carries
        Identity = Identity.with_context({key: value for key, value in Identity.env.context.items()
                                          if not key.startswith("default_")})
        values = Identity._add_missing_default_values(
            {"channel_id": self.channel.id, "line_user_id": line_user_id})
        columns = {}
        record = Identity.browse()
        for name, value in values.items():
            field = Identity._fields[name]
            if field.store and field.column_type:
                columns[name] = field.convert_to_column_insert(value, record, values)
        if "company_id" in Identity._fields and Identity._fields["company_id"].store:
            columns["company_id"] = self.channel.company_id.id or None
        uid = self.env.uid
        columns.update(create_uid=uid, write_uid=uid)
        columns.update(extra or {})
        return columns

    def upsert_identity(self, line_user_id):
        """The id of the channel's identity of this LINE user, created if missing, in one
        statement (a concurrent creator never causes a duplicate or a unique violation)."""
        self._flush("line.identity")
        columns = self._identity_insert(line_user_id)
        names = ", ".join(columns)
        holders = ", ".join(["%s"] * len(columns))
        self.cr.execute(f"""
            INSERT INTO line_identity ({names}, create_date, write_date)
            VALUES ({holders}, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (channel_id, line_user_id) DO NOTHING RETURNING id
        """, list(columns.values()), log_exceptions=False)
        row = self.cr.fetchone()
        if not row:
            self.cr.execute("SELECT id FROM line_identity WHERE channel_id = %s AND"
                            " line_user_id = %s", (self.channel.id, line_user_id))
            row = self.cr.fetchone()
        self._invalidate("line.identity")
        return row[0]

    def add_link(self, record):
        self._check_channel(record.channel_id)
        self._flush("line.identity")
        link = {"partner_id": int(record.customer_id), "link_method": record.method,
                "linked_since": to_dt(record.linked_at), "linked": True, "unlinked_at": None}
        columns = self._identity_insert(record.line_user_id, link)
        names = ", ".join(columns)
        holders = ", ".join(["%s"] * len(columns))
        # one statement: a new identity is created linked; an existing one (usually there since
        # the follow event) is claimed only if it is not linked
        self.cr.execute(f"""
            INSERT INTO line_identity ({names}, create_date, write_date)
            VALUES ({holders}, now() at time zone 'UTC', now() at time zone 'UTC')
            ON CONFLICT (channel_id, line_user_id) DO UPDATE
               SET linked = true, partner_id = EXCLUDED.partner_id,
                   link_method = EXCLUDED.link_method, linked_since = EXCLUDED.linked_since,
                   unlinked_at = NULL, write_uid = EXCLUDED.write_uid,
                   write_date = now() at time zone 'UTC'
             WHERE line_identity.linked IS NOT TRUE
         RETURNING id""", list(columns.values()), log_exceptions=False)
        linked = self.cr.fetchone()
        self._invalidate("line.identity")
        if not linked:
            existing = self.get_link(record.channel_id, record.line_user_id)
            raise LinkConflict(existing)

    def get_link(self, channel_id, line_user_id):
        self._flush("line.identity")
        self.cr.execute(f"""SELECT {self._LINK_COLUMNS} FROM line_identity
                             WHERE channel_id = %s AND line_user_id = %s AND linked""",
                        (int(channel_id), line_user_id))
        row = self.cr.fetchone()
        return self._link(row) if row else None

    def links_for_customer(self, channel_id, customer_id):
        self._flush("line.identity")
        self.cr.execute(f"""SELECT {self._LINK_COLUMNS} FROM line_identity
                             WHERE channel_id = %s AND partner_id = %s AND linked ORDER BY id""",
                        (int(channel_id), int(customer_id)))
        return [self._link(row) for row in self.cr.fetchall()]

    def end_links(self, channel_id, now, line_user_id=None, customer_id=None):
        self._check_channel(channel_id)
        self._flush("line.identity")
        where, params = ["channel_id = %s", "linked"], [self.channel.id]
        if line_user_id is not None:
            where.append("line_user_id = %s")
            params.append(line_user_id)
        if customer_id is not None:
            where.append("partner_id = %s")
            params.append(int(customer_id))
        self.cr.execute(f"""
            UPDATE line_identity SET linked = false, unlinked_at = %s,
                   write_date = now() at time zone 'UTC'
             WHERE {' AND '.join(where)} RETURNING {self._LINK_COLUMNS}
        """, [to_dt(now)] + params)
        rows = self.cr.fetchall()
        self._invalidate("line.identity")
        return [self._link(row) for row in rows]

    # Webhook events ----------------------------------------------------------------------------
    _EVENT_COLUMNS = ("event_id, channel_id, payload, received_at, started_at, finished_at,"
                      " error, attempts, next_try")

    @staticmethod
    def _event(row):
        return EventRecord(row[0], str(row[1]), row[2], to_ts(row[3]), to_ts(row[4]),
                           to_ts(row[5]), row[6], row[7] or 0, to_ts(row[8]))

    def remember_event(self, event_id, channel_id, payload, received_at):
        """With ``events_apart`` (the webhook route), stored and committed at once in a short
        transaction of its own (READ COMMITTED): a duplicate delivered at the same moment waits
        for this insert and then finds it, where Odoo's REPEATABLE READ request transaction
        would fail with a serialization error. (In HttpCase's test mode, ``registry.cursor()``
        shares the test transaction.)"""
        self._check_channel(channel_id)
        if not self.events_apart:
            self._flush("line.webhook.event")
        with (self.env.registry.cursor() if self.events_apart else nullcontext(self.cr)) as cr:
            if isinstance(cr, sql_db.Cursor) and cr is not self.cr:
                # a fresh connection (the pool resets the level when it is reused)
                cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute("""
                INSERT INTO line_webhook_event (event_id, channel_id, payload, received_at,
                                                state, attempts, create_uid, write_uid,
                                                create_date, write_date)
                VALUES (%s, %s, %s, %s, 'pending', 0, %s, %s, now() at time zone 'UTC',
                        now() at time zone 'UTC')
                ON CONFLICT (event_id) DO NOTHING RETURNING id
            """, (event_id, self.channel.id, payload, to_dt(received_at), self.env.uid,
                  self.env.uid))
            stored = bool(cr.fetchone())
            if stored and self.on_stored is not None and cr is not self.cr:
                cr.commit()  # the event is safe before anything else is tried
                self.on_stored(cr)
        self._invalidate("line.webhook.event")
        return stored

    def get_event(self, event_id):
        self._flush("line.webhook.event")
        self.cr.execute(f"SELECT {self._EVENT_COLUMNS} FROM line_webhook_event WHERE event_id = %s",
                        (event_id,))
        row = self.cr.fetchone()
        return self._event(row) if row else None

    def pending_events(self, channel_id=None, limit=100, now=None):
        """Pending events (whose retry time has come when ``now`` is given), oldest first."""
        self._flush("line.webhook.event")
        where, params = ["state = 'pending'", "channel_id = %s"], [self.channel.id]
        if now is not None:
            where.append("(next_try IS NULL OR next_try <= %s)")
            params.append(to_dt(now))
        self.cr.execute(f"""SELECT {self._EVENT_COLUMNS} FROM line_webhook_event
                             WHERE {' AND '.join(where)} ORDER BY received_at, id LIMIT %s""",
                        params + [limit])
        return [self._event(row) for row in self.cr.fetchall()]

    def claim_event(self, event_id, now):
        self._flush("line.webhook.event")
        try:
            with self.cr.savepoint(flush=False):
                self.cr.execute("""
                    UPDATE line_webhook_event SET state = 'processing', started_at = %s,
                           attempts = attempts + 1, write_date = now() at time zone 'UTC'
                     WHERE event_id = %s AND state = 'pending' RETURNING id""",
                                (to_dt(now), event_id), log_exceptions=False)
                claimed = bool(self.cr.fetchone())
        except Exception as exc:
            if not lost_race(exc):
                raise
            claimed = False  # another worker changed it since this transaction began
        self._invalidate("line.webhook.event")
        return claimed

    def finish_event(self, event_id, now, error=None):
        self._flush("line.webhook.event")
        self.cr.execute("""
            UPDATE line_webhook_event SET state = %s, finished_at = %s, error = %s,
                   next_try = NULL, write_date = now() at time zone 'UTC'
             WHERE event_id = %s""",
                        ("error" if error and error != "unhandled" else "done", to_dt(now), error,
                         event_id))
        self._invalidate("line.webhook.event")

    def retry_event(self, event_id, next_try, error):
        """Back to pending, to be tried again at ``next_try``."""
        self._flush("line.webhook.event")
        self.cr.execute("""
            UPDATE line_webhook_event SET state = 'pending', next_try = %s, error = %s,
                   write_date = now() at time zone 'UTC' WHERE event_id = %s""",
                        (to_dt(next_try), error, event_id))
        self._invalidate("line.webhook.event")

    # Housekeeping ------------------------------------------------------------------------------
    def purge_expired(self, now):
        self._flush("line.link.nonce", "line.link.token")
        self.cr.execute("DELETE FROM line_link_nonce WHERE channel_id = %s AND expires_at < %s",
                        (self.channel.id, to_dt(now)))
        count = self.cr.rowcount
        self.cr.execute("DELETE FROM line_link_token WHERE channel_id = %s AND expires_at < %s",
                        (self.channel.id, to_dt(now)))
        count += self.cr.rowcount
        self._invalidate("line.link.nonce", "line.link.token")
        return count
