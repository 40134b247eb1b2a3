"""The core's :class:`line_idlink.storage.Storage` protocol on the addon's ORM tables, for one
``line.channel``.

The operations the protocol requires to be atomic are single SQL statements on ``env.cr``:
nonce consumption is ``UPDATE ... WHERE used_at IS NULL AND expires_at > now RETURNING``, an
event is remembered with ``INSERT ... ON CONFLICT DO NOTHING``, and a link is an ``UPDATE`` of
the identity row guarded by ``NOT linked`` (plus a partial unique index on active links), so two
workers can never both win. The ORM cache of the touched models is invalidated afterwards.

Links live on ``line.identity`` (one row per LINE user and channel): an active link is
``linked = true``; ending it keeps ``partner_id`` as history and sets ``unlinked_at``.
Customer ids are ``str(partner.id)``; times are epoch seconds from the caller's clock, stored as
naive UTC datetimes like every Odoo Datetime.
"""

import datetime

from line_idlink.storage import (EventRecord, LinkConflict, LinkRecord, LinkTokenRecord,
                                 NonceRecord)

UTC = datetime.timezone.utc


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

    def __init__(self, env, channel):
        self.env = env
        self.cr = env.cr
        self.channel = channel
        self.channel_key = str(channel.id)

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

    def add_link(self, record):
        self._check_channel(record.channel_id)
        self._flush("line.identity")
        values = (int(record.customer_id), record.method, to_dt(record.linked_at))
        # an identity usually exists since the follow event; claim it only if it is not linked
        for _attempt in range(2):
            self.cr.execute(f"""
                UPDATE line_identity SET linked = true, partner_id = %s, link_method = %s,
                       linked_since = %s, unlinked_at = NULL,
                       write_date = now() at time zone 'UTC'
                 WHERE channel_id = %s AND line_user_id = %s AND linked IS NOT TRUE
             RETURNING id""", values + (self.channel.id, record.line_user_id))
            if self.cr.fetchone():
                break
            self.cr.execute("""
                INSERT INTO line_identity (channel_id, line_user_id, partner_id, link_method,
                                           linked_since, linked, follow_state,
                                           create_date, write_date)
                VALUES (%s, %s, %s, %s, %s, true, 'unknown',
                        now() at time zone 'UTC', now() at time zone 'UTC')
                ON CONFLICT (channel_id, line_user_id) DO NOTHING RETURNING id
            """, (self.channel.id, record.line_user_id) + values)
            if self.cr.fetchone():
                break
            existing = self.get_link(record.channel_id, record.line_user_id)
            if existing is not None:
                self._invalidate("line.identity")
                raise LinkConflict(existing)
        self._invalidate("line.identity")

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
    _EVENT_COLUMNS = "event_id, channel_id, payload, received_at, started_at, finished_at, error"

    @staticmethod
    def _event(row):
        return EventRecord(row[0], str(row[1]), row[2], to_ts(row[3]), to_ts(row[4]),
                           to_ts(row[5]), row[6])

    def remember_event(self, event_id, channel_id, payload, received_at):
        self._check_channel(channel_id)
        self._flush("line.webhook.event")
        self.cr.execute("""
            INSERT INTO line_webhook_event (event_id, channel_id, payload, received_at, state,
                                            attempts, create_date, write_date)
            VALUES (%s, %s, %s, %s, 'pending', 0, now() at time zone 'UTC',
                    now() at time zone 'UTC')
            ON CONFLICT (event_id) DO NOTHING RETURNING id
        """, (event_id, self.channel.id, payload, to_dt(received_at)))
        stored = bool(self.cr.fetchone())
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
        self.cr.execute("""
            UPDATE line_webhook_event SET state = 'processing', started_at = %s,
                   attempts = attempts + 1, write_date = now() at time zone 'UTC'
             WHERE event_id = %s AND state = 'pending' RETURNING id""", (to_dt(now), event_id))
        claimed = bool(self.cr.fetchone())
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
        """Back to pending, to be tried again at ``next_try`` (addon extension of the protocol)."""
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
