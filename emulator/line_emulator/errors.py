"""LINE-shaped errors: `{"message": ..., "details": [{"message", "property"}]}`."""


class LineError(Exception):
    """Raised by a handler to answer with LINE's error body. Nothing has been changed when raised."""

    def __init__(self, status, message, details=None, headers=None, body=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}
        self._body = body

    def body(self):
        if self._body is not None:
            return self._body
        body = {"message": self.message}
        if self.details:
            body["details"] = self.details
        return body


def invalid(details):
    """A 400 for request-body errors, as LINE words it: one detail per broken property."""
    details = [{"message": message, "property": prop} for prop, message in details]
    return LineError(400, f"The request body has {len(details)} error(s)", details)


def bad_request(message, prop=None):
    return LineError(400, message, [{"message": message, "property": prop}] if prop else None)


def not_found(message="Not found"):
    return LineError(404, message)


UNAUTHORIZED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
QUOTA_EXCEEDED = "You have reached your monthly limit."
RETRY_KEY_ACCEPTED = "The retry key is already accepted"
