"""Where sent messages are kept: each accepted request ONCE, and references to it per recipient.

A multicast of 500 used to cost 500 inbox dicts and 500 delivery dicts (and the garbage
collector's time to walk them): most of the emulator's CPU per request. Now a request is one
:class:`Send` (its messages, recipients and message ids, as LINE would store the body once),
an inbox holds a reference to it per message received, and both views below build the dicts a
reader sees on demand, so what tests and the control API read is unchanged:

- :class:`Inbox` (``user.inbox``): one ``{"api", "message", "requestId", "messageId",
  "timestamp"}`` per message received, in order;
- :class:`Deliveries` (``emu.messaging.deliveries``): one ``{"api", "requestId", "userId",
  "messageIds", "unit", "notificationDisabled", "time"}`` per request and recipient.

Both are read-only sequences (an inbox can only be emptied, by ``clear()``); the dicts they return are fresh copies (changing one changes
nothing stored). The message objects are the request's own, shared by every recipient: never
mutate them.
"""

import bisect
from array import array
from collections.abc import Sequence


class Send:
    """One accepted sending request: ``messages`` delivered to each of ``recipients``.

    ``message_ids[k * len(messages) + j]`` is the id of message ``j`` for recipient ``k``.
    """

    __slots__ = ("api", "request_id", "messages", "recipients", "message_ids", "unit",
                 "notification_disabled", "time", "timestamp", "refs")

    def __init__(self, api, request_id, messages, recipients, message_ids, unit,
                 notification_disabled, time):
        self.api = api
        self.request_id = request_id
        self.messages = messages
        self.recipients = recipients
        self.message_ids = message_ids if isinstance(message_ids, array) \
            else array("q", map(int, message_ids))
        self.unit = unit
        self.notification_disabled = bool(notification_disabled)
        self.time = time
        self.timestamp = int(round(time * 1000))
        # What an inbox stores per message received: (this send, message index), made once.
        self.refs = [(self, j) for j in range(len(messages))]

    def position(self, user_id):
        """The index of ``user_id`` among the recipients: a scan at C speed (the recipients hold
        the users' own id strings, so it mostly compares identities), no index kept per send."""
        return self.recipients.index(user_id) if len(self.recipients) > 1 else 0

    def message_id(self, k, j):
        return str(self.message_ids[k * len(self.messages) + j])

    def inbox_entry(self, user_id, j):
        return {"api": self.api, "message": self.messages[j], "requestId": self.request_id,
                "messageId": self.message_id(self.position(user_id), j),
                "timestamp": self.timestamp}

    def delivery(self, k):
        count = len(self.messages)
        return {"api": self.api, "requestId": self.request_id, "userId": self.recipients[k],
                "messageIds": [str(i) for i in self.message_ids[k * count:(k + 1) * count]],
                "unit": self.unit, "notificationDisabled": self.notification_disabled,
                "time": self.time}


class _View(Sequence):
    __hash__ = None

    def __eq__(self, other):
        if isinstance(other, (list, tuple, _View)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self):
        return f"{type(self).__name__}({list(self)!r})"


class Inbox(_View):
    """The messages a user received, oldest first (see the module docstring)."""

    __slots__ = ("user_id", "refs")

    def __init__(self, user_id):
        self.user_id = user_id
        self.refs = []  # (Send, message index)

    def __len__(self):
        return len(self.refs)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [send.inbox_entry(self.user_id, j) for send, j in self.refs[index]]
        send, j = self.refs[index]
        return send.inbox_entry(self.user_id, j)

    def __iter__(self):
        user_id = self.user_id
        for send, j in self.refs:
            yield send.inbox_entry(user_id, j)

    def clear(self):
        """Empty this user's chat view, as a user deleting the chat history does; what LINE
        counted (deliveries, quota, statistics) keeps every message. Tests use it to read the
        next answer alone."""
        self.refs.clear()


class Deliveries(_View):
    """One record per (request, recipient), in sending order (see the module docstring)."""

    def __init__(self):
        self.sends = []
        self._ends = []  # cumulative recipient counts, for indexing

    def add(self, send):
        self.sends.append(send)
        self._ends.append(len(self) + len(send.recipients))

    def __len__(self):
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("delivery index out of range")
        at = bisect.bisect_right(self._ends, index)
        start = self._ends[at - 1] if at else 0
        return self.sends[at].delivery(index - start)

    def __iter__(self):
        for send in self.sends:
            for k in range(len(send.recipients)):
                yield send.delivery(k)
