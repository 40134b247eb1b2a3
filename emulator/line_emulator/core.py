"""The emulator's state and its Python API. HTTP lives in :mod:`.wsgi`, serving in :mod:`.server`."""

import threading
from contextlib import contextmanager

from .clock import Clock
from .faults import FaultSet
from .ids import IdFactory
from .ratelimit import RateLimiter
from .state import ChannelConfig, User

RETRY_KEY_TTL = 24 * 3600


class Emulator:
    """A stateful LINE platform: one provider with a Messaging API channel and a LINE Login channel.

    ``seed`` fixes every generated id; ``clock`` defaults to a frozen clock (advance it with
    :meth:`advance`); ``delivery`` is how webhooks leave: ``"sync"`` (delivered by the caller of
    the user action), ``"queued"`` (held until :meth:`flush`) or ``"background"`` (a thread).
    """

    def __init__(self, seed=0, webhook_url=None, clock=None, delivery="sync", quota=None,
                 redelivery=False, login_callback_urls=None, log_bodies=True):
        from .login import LoginState
        from .messaging import MessagingState
        from .richmenu import RichMenuState
        from .webhooks import WebhookDispatcher

        self.seed = seed
        self.ids = IdFactory(seed)
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self._held = threading.local()  # per thread: lock depth and work to run after release
        login_channel_id = self.ids.channel_id()
        self.config = ChannelConfig(
            channel_id=self.ids.channel_id(),
            channel_secret=self.ids.secret(),
            access_token=self.ids.access_token(),
            bot_user_id=self.ids.user_id(),
            login_channel_id=login_channel_id,
            login_channel_secret=self.ids.secret(),
            liff_id=f"{login_channel_id}-{self.ids.alnum(8)}",
            webhook_url=webhook_url,
            redelivery=redelivery,
            login_callback_urls=list(login_callback_urls or []),
            quota=quota,
        )
        self.users = {}
        self.log_bodies = log_bodies
        self.request_log = []
        self.retry_keys = {}  # key -> {"requestId", "expires", "endpoint", "body"}
        self.limiter = RateLimiter(self.clock)
        self.faults = FaultSet(seed)
        self.webhooks = WebhookDispatcher(self, mode=delivery)
        self.messaging = MessagingState(self)
        self.richmenus = RichMenuState(self)
        self.login = LoginState(self)
        self._app = None

    # Locking ------------------------------------------------------------------------------
    @contextmanager
    def locked(self):
        """Hold the state lock; work queued with :meth:`after_unlock` runs once it is released.

        Webhooks are POSTed only outside the lock: a bot that calls the emulator back while it
        handles a webhook (a reply, a link token) must never find it locked.
        """
        self.lock.acquire()
        depth = getattr(self._held, "depth", 0)
        self._held.depth = depth + 1
        if depth == 0:
            self._held.after = []
        try:
            yield self
        finally:
            self._held.depth = depth
            pending = self._held.after if depth == 0 else []
            self.lock.release()
            for fn in pending:
                fn()

    def after_unlock(self, fn):
        """Run ``fn`` when this thread releases the lock (at once if it does not hold it)."""
        if getattr(self._held, "depth", 0):
            self._held.after.append(fn)
        else:
            fn()

    # Users ---------------------------------------------------------------------------------
    def add_user(self, display_name, language="ja", picture_url=None, status_message=None):
        """Create a simulated LINE user (not yet a friend of the bot) and return its handle."""
        from .users import SimUser

        if not isinstance(display_name, str) or not display_name.strip():
            raise ValueError("displayName must be a non-empty string")
        with self.locked():
            user = User(self.ids.user_id(), display_name, language or "ja", picture_url,
                        status_message)
            self.users[user.user_id] = user
        return SimUser(self, user)

    def user(self, user_id):
        """The handle of an existing simulated user; KeyError if unknown."""
        from .users import SimUser

        return SimUser(self, self.users[user_id])

    # Time and queues -----------------------------------------------------------------------
    def advance(self, seconds):
        """Move the clock and run whatever became due (async jobs, redeliveries)."""
        self.clock.advance(seconds)
        self.run_pending()

    def run_pending(self):
        with self.locked():
            self.messaging.run_pending()
            self.richmenus.run_pending()
        self.webhooks.run_pending()

    def flush(self):
        """Deliver every queued webhook now; returns the delivery records."""
        return self.webhooks.flush()

    # Retry keys ----------------------------------------------------------------------------
    def accepted_retry_key(self, key):
        entry = self.retry_keys.get(key)
        if entry and entry["expires"] > self.clock.now():
            return entry
        return None

    def accept_retry_key(self, key, request_id, endpoint, body):
        self.retry_keys[key] = {"requestId": request_id, "endpoint": endpoint, "body": body,
                                "expires": self.clock.now() + RETRY_KEY_TTL}

    # HTTP ----------------------------------------------------------------------------------
    @property
    def app(self):
        """The WSGI application serving every emulated host and the control API."""
        if self._app is None:
            from .wsgi import EmulatorApp

            self._app = EmulatorApp(self)
        return self._app

    def requests_for(self, endpoint):
        return [entry for entry in self.request_log if entry["endpoint"] == endpoint]
