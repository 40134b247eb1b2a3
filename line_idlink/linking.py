"""Account linking (LINE ID連携): the nonce rules and the link/unlink decisions.

The Messaging API flow (https://developers.line.biz/en/docs/messaging-api/linking-accounts/)::

    linker = AccountLinker(storage, channel_id, clock=time.time)
    # postback "action=link": the bot issued a link token for the user through the Messaging API
    linker.remember_link_token(line_user_id, link_token)
    # GET /line/link?linkToken=T: whose LINE account is it? (None: unknown or expired)
    line_user_id = linker.line_user_for_link_token(T)
    # the logged-in customer confirmed: store a nonce, redirect the browser to LINE's dialog
    nonce, dialog_url = linker.start_link(customer_id, line_user_id, T)
    # the accountLink webhook event (a dict as LINE sent it, the SDK's AccountLinkEvent, or a
    # webhook.StoredEvent)
    outcome = linker.complete_link(event)   # outcome.status tells exactly what happened

Nothing an attacker controls makes :meth:`AccountLinker.complete_link` raise: every reason to
refuse is a :class:`LinkStatus`. :meth:`AccountLinker.start_link` raises :class:`LinkStartError`
(a ``ValueError`` carrying a status) because the web page must show the visitor an error.

Undocumented behaviour chosen here
----------------------------------
* A ``failed`` accountLink burns its nonce: LINE says failure means e.g. impersonation, so the
  nonce may be in the wrong hands; the customer starts again from the chat.
* Every ``ok`` event consumes its nonce *before* the other checks, so a nonce is spent even
  when the link is then refused (LINE user mismatch, LINE user taken). A nonce that reached the
  wrong LINE account is never usable again.
* The event's ``source.userId`` must equal the userId the link token was issued for (the nonce
  is bound to it). LINE checks the dialog's visitor owns the link token; this check also stops a
  nonce leaked to another LINE user being completed with that user's own link token.
* A LINE userId already linked to another customer in the channel is refused (LINE_USER_TAKEN);
  the existing link stays until it is unlinked. Relinking the same pair is a success
  (ALREADY_LINKED) and changes nothing. A customer may link several LINE accounts.
* The accountLink event does not carry the link token, so the nonce's link-token binding is
  checked when the nonce is issued (:meth:`start_link`), not when it is consumed.
* Link tokens are remembered for 10 minutes from when the bot remembers them (LINE counts
  from issue; LINE still refuses the dialog itself once its token expired).
* Customer ids are strings: ints (Odoo ids) are converted with ``str()``.
* A link token is spent once an ``ok`` accountLink event of its own LINE user consumed a nonce
  issued for it (LINE's link tokens work once): :meth:`AccountLinker.line_user_for_link_token`
  then answers None as for an expired one, so a used link URL opened again, by anyone, names
  nobody. A ``failed`` or mismatched event burns the nonce but leaves the token to its owner.
"""

import dataclasses
import enum
import re
import secrets
import time
from dataclasses import dataclass
from typing import NamedTuple, Optional
from urllib.parse import urlencode

from .storage import (
    METHOD_LINE_LOGIN, METHOD_MESSAGING_API, LinkConflict, LinkRecord, LinkTokenRecord,
    NonceRecord, digest,
)

DEFAULT_AUTH_BASE = "https://access.line.me"
NONCE_TTL = 600  # seconds; matches the link token's 10 minutes (see the linking-accounts page)
LINK_TOKEN_TTL = 600
USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
NONCE_MIN, NONCE_MAX = 10, 255  # LINE's documented nonce length


class LinkStatus(str, enum.Enum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # the same pair was linked already: nothing changed
    FAILED_RESULT = "failed_result"  # LINE reported link.result = "failed"
    UNKNOWN_NONCE = "unknown_nonce"
    EXPIRED_NONCE = "expired_nonce"
    USED_NONCE = "used_nonce"
    USER_MISMATCH = "user_mismatch"  # the event's LINE user is not the one the nonce is for
    LINE_USER_TAKEN = "line_user_taken"  # linked to another customer in this channel
    INVALID_EVENT = "invalid_event"  # not an accountLink event LINE would send
    UNKNOWN_LINK_TOKEN = "unknown_link_token"  # start_link only
    EXPIRED_LINK_TOKEN = "expired_link_token"  # start_link only


_SUCCESS = (LinkStatus.LINKED, LinkStatus.ALREADY_LINKED)


@dataclass(frozen=True)
class LinkOutcome:
    status: LinkStatus
    reason: str  # one sentence for logs and the back office; never contains the nonce
    customer_id: Optional[str] = None  # the customer the nonce/login was for
    line_user_id: Optional[str] = None  # from the event / ID token
    link: Optional[LinkRecord] = None  # the link now in force (LINKED, ALREADY_LINKED)
    conflict: Optional[LinkRecord] = None  # the other customer's link (LINE_USER_TAKEN)
    reply_token: Optional[str] = None  # present on LINE's successful accountLink events

    @property
    def ok(self):
        return self.status in _SUCCESS


class LinkStart(NamedTuple):
    nonce: str
    dialog_url: str


class LinkStartError(ValueError):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class AccountLinker:
    """Link and unlink decisions for one Messaging API channel.

    ``clock`` returns seconds since the epoch (``emu.clock.now`` in tests); ``auth_base`` is
    where LINE's account-link dialog lives (the emulator's base URL in tests).
    """

    def __init__(self, storage, channel_id, clock=time.time, auth_base=DEFAULT_AUTH_BASE,
                 nonce_ttl=NONCE_TTL, link_token_ttl=LINK_TOKEN_TTL):
        if not channel_id:
            raise ValueError("channel_id is required: every link belongs to one channel")
        self.storage = storage
        self.channel_id = str(channel_id)
        self.clock = clock
        self.auth_base = auth_base.rstrip("/")
        self.nonce_ttl = nonce_ttl
        self.link_token_ttl = link_token_ttl

    # Link tokens -----------------------------------------------------------------------------
    def remember_link_token(self, line_user_id, link_token):
        """Record which LINE user a freshly issued link token belongs to."""
        _check_user_id(line_user_id)
        _check_link_token(link_token)
        now = self.clock()
        self.storage.save_link_token(LinkTokenRecord(
            digest(link_token), self.channel_id, line_user_id, now, now + self.link_token_ttl))

    def line_user_for_link_token(self, link_token):
        """The LINE userId a remembered, unexpired link token belongs to; None otherwise."""
        record = self._link_token(link_token)
        return record.line_user_id if record and record.expires_at > self.clock() else None

    def _link_token(self, link_token):
        if not isinstance(link_token, str) or not link_token:
            return None
        record = self.storage.get_link_token(digest(link_token))
        return record if record and record.channel_id == self.channel_id else None

    # Messaging API flow ----------------------------------------------------------------------
    def start_link(self, customer_id, line_user_id, link_token):
        """Store a one-time nonce for (customer, LINE user, link token); return it with the URL
        of LINE's account-link dialog to redirect the browser to."""
        customer_id = _customer(customer_id)
        _check_user_id(line_user_id)
        _check_link_token(link_token)
        record = self._link_token(link_token)
        now = self.clock()
        if record is None:
            raise LinkStartError(LinkStatus.UNKNOWN_LINK_TOKEN,
                                 "unknown link token: ask for a new link in the LINE chat")
        if record.expires_at <= now:
            raise LinkStartError(LinkStatus.EXPIRED_LINK_TOKEN,
                                 "the link token expired: ask for a new link in the LINE chat")
        if record.line_user_id != line_user_id:
            raise LinkStartError(LinkStatus.USER_MISMATCH,
                                 "the link token was issued for another LINE user")
        existing = self.storage.get_link(self.channel_id, line_user_id)
        if existing is not None and existing.customer_id != customer_id:
            raise LinkStartError(LinkStatus.LINE_USER_TAKEN,
                                 "this LINE account is linked to another customer; unlink it"
                                 " there first")
        nonce = secrets.token_urlsafe(32)  # 256 bits, 43 URL-safe characters
        self.storage.add_nonce(NonceRecord(
            digest(nonce), self.channel_id, customer_id, line_user_id, digest(link_token), now,
            now + self.nonce_ttl))
        query = urlencode({"linkToken": link_token, "nonce": nonce})
        return LinkStart(nonce, f"{self.auth_base}/dialog/bot/accountLink?{query}")

    def complete_link(self, event):
        """Apply an ``accountLink`` webhook event; never raises for what the event contains."""
        fields = _account_link_fields(event)
        if fields is None:
            return LinkOutcome(LinkStatus.INVALID_EVENT, "not an accountLink event with a nonce")
        result, nonce, line_user_id, reply_token = fields
        now = self.clock()
        nonce_hash = digest(nonce)
        stored = self.storage.get_nonce(nonce_hash)
        if stored is not None and stored.channel_id != self.channel_id:
            stored = None  # another channel's nonce is unknown here and stays untouched
        common = {"line_user_id": line_user_id, "reply_token": reply_token,
                  "customer_id": stored.customer_id if stored else None}
        if result != "ok":
            if stored is not None:
                self.storage.consume_nonce(nonce_hash, now)  # burn it (module docstring)
            return LinkOutcome(LinkStatus.FAILED_RESULT,
                               f"LINE reported link.result={result!r}; nothing linked", **common)
        if line_user_id is None:
            if stored is not None:
                self.storage.consume_nonce(nonce_hash, now)
            return LinkOutcome(LinkStatus.INVALID_EVENT,
                               "accountLink ok without source.userId; nothing linked", **common)
        if stored is None:
            return LinkOutcome(LinkStatus.UNKNOWN_NONCE, "unknown nonce", **common)
        consumed = self.storage.consume_nonce(nonce_hash, now)
        if consumed is None:
            stored = self.storage.get_nonce(nonce_hash)
            if stored is None:
                return LinkOutcome(LinkStatus.UNKNOWN_NONCE, "unknown nonce", **common)
            if stored.used_at is not None:
                return LinkOutcome(LinkStatus.USED_NONCE, "the nonce was already used", **common)
            return LinkOutcome(LinkStatus.EXPIRED_NONCE, "the nonce expired", **common)
        if consumed.line_user_id != line_user_id:
            return LinkOutcome(LinkStatus.USER_MISMATCH,
                               "the event's LINE user is not the one the nonce was issued for",
                               **common)
        self._spend_link_token(consumed.link_token_hash, now)  # LINE used it: it works once
        return self._link(consumed.customer_id, line_user_id, METHOD_MESSAGING_API, now,
                          reply_token)

    def _spend_link_token(self, link_token_hash, now):
        """The link token a nonce was issued for has been used: it expires now."""
        record = self.storage.get_link_token(link_token_hash) if link_token_hash else None
        if record is not None and record.channel_id == self.channel_id and record.expires_at > now:
            self.storage.save_link_token(dataclasses.replace(record, expires_at=now))

    # LINE Login flow -------------------------------------------------------------------------
    def link_from_login(self, customer_id, id_token_claims):
        """Link the logged-in customer to the ``sub`` of an already VERIFIED LINE Login ID token
        (the Login channel must be under the same provider as the Messaging API channel, so that
        ``sub`` is the bot's userId). Raises ValueError if the claims have no usable ``sub``."""
        customer_id = _customer(customer_id)
        sub = (id_token_claims or {}).get("sub")
        _check_user_id(sub, "ID token claim 'sub'")
        return self._link(customer_id, sub, METHOD_LINE_LOGIN, self.clock(), None)

    def _link(self, customer_id, line_user_id, method, now, reply_token):
        common = {"customer_id": customer_id, "line_user_id": line_user_id,
                  "reply_token": reply_token}
        record = LinkRecord(self.channel_id, line_user_id, customer_id, method, now)
        try:
            self.storage.add_link(record)
        except LinkConflict as conflict:
            if conflict.existing.customer_id == customer_id:
                return LinkOutcome(LinkStatus.ALREADY_LINKED, "already linked to this customer",
                                   link=conflict.existing, **common)
            return LinkOutcome(LinkStatus.LINE_USER_TAKEN,
                               "the LINE user is linked to another customer",
                               conflict=conflict.existing, **common)
        return LinkOutcome(LinkStatus.LINKED, "linked", link=record, **common)

    # Unlink and look-ups ---------------------------------------------------------------------
    def unlink(self, line_user_id=None, customer_id=None):
        """End the active links of a LINE user and/or a customer in this channel. Always
        allowed and idempotent: returns the links it ended (empty if there were none)."""
        if line_user_id is None and customer_id is None:
            raise ValueError("unlink needs line_user_id or customer_id")
        customer_id = None if customer_id is None else _customer(customer_id)
        return self.storage.end_links(self.channel_id, self.clock(), line_user_id=line_user_id,
                                      customer_id=customer_id)

    def customer_for(self, line_user_id):
        """The customer id a LINE user is linked to in this channel, or None."""
        link = self.storage.get_link(self.channel_id, line_user_id)
        return link.customer_id if link else None

    def links_for(self, customer_id):
        return self.storage.links_for_customer(self.channel_id, _customer(customer_id))


# Input checks ------------------------------------------------------------------------------------
def _customer(customer_id):
    if isinstance(customer_id, bool) or not isinstance(customer_id, (str, int)):
        raise ValueError(f"customer_id must be a str or int, not {type(customer_id).__name__}")
    customer_id = str(customer_id)
    if not customer_id.strip():
        raise ValueError("customer_id must not be empty")
    return customer_id


def _check_user_id(value, what="LINE userId"):
    if not isinstance(value, str) or not USER_ID_RE.match(value):
        raise ValueError(f"{what} must look like U followed by 32 hex digits")


def _check_link_token(value):
    if not isinstance(value, str) or not value or len(value) > 1000 or not value.isprintable():
        raise ValueError("link token must be a non-empty printable string")


def _account_link_fields(event):
    """(result, nonce, userId, replyToken) from a LINE JSON dict, the SDK's AccountLinkEvent or
    a webhook.StoredEvent; None when it is not a well-formed accountLink event."""
    data = getattr(event, "data", None)  # webhook.StoredEvent
    if isinstance(data, dict):
        event = data
    if isinstance(event, dict):
        link = event.get("link")
        source = event.get("source")
        kind = event.get("type")
        result = link.get("result") if isinstance(link, dict) else None
        nonce = link.get("nonce") if isinstance(link, dict) else None
        user_id = source.get("userId") if isinstance(source, dict) else None
        reply_token = event.get("replyToken")
    else:
        link = getattr(event, "link", None)
        source = getattr(event, "source", None)
        kind = getattr(event, "type", None)
        result = getattr(link, "result", None)
        nonce = getattr(link, "nonce", None)
        user_id = getattr(source, "user_id", None)
        reply_token = getattr(event, "reply_token", None)
    result = getattr(result, "value", result)  # an enum in some SDK versions
    if kind != "accountLink" or not isinstance(result, str):
        return None
    if not isinstance(nonce, str) or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
        return None
    if user_id is not None and not (isinstance(user_id, str) and USER_ID_RE.match(user_id)):
        return None
    if not isinstance(reply_token, str):
        reply_token = None
    return result, nonce, user_id, reply_token
