"""The one rule for a same-site redirect target taken from the user (``next``, ``redirect``).

    safe_redirect(request.args.get("next"), default="/my")   # the path, or the default

A target is kept only when every browser reads it as a path on this site: it starts with one
``/`` (not ``//``, the start of another host), holds no backslash (browsers read ``/\\host`` as
``//host``), no control character or whitespace (browsers strip tabs and newlines, so ``/\\t/host``
becomes ``//host``), no scheme or host, is not absurdly long, and none of that appears once
percent-decoded either (``/%5Chost``, ``/%2F%2Fhost``: a proxy or framework that decodes the
path must not turn it into another host). Anything else gives ``default``.
"""

from urllib.parse import unquote, urlsplit

MAX_REDIRECT_LENGTH = 2048
_DECODE_ROUNDS = 3  # "%255C" decodes to "%5C", then to "\\"


def _plain_path(text, space=False):
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any((ord(c) < 0x20 or (c == " " and not space) or 0x7F <= ord(c) <= 0x9F
            or c in "\u2028\u2029") for c in text):
        return False
    parts = urlsplit(text)
    return not (parts.scheme or parts.netloc)


def _path_part(text):
    return text.split("?", 1)[0].split("#", 1)[0]


def is_same_site(target):
    """True when ``target`` is a path on this site that no browser reads as another host."""
    if not isinstance(target, str) or not target or len(target) > MAX_REDIRECT_LENGTH:
        return False
    if not _plain_path(target):
        return False
    # decoded, only the path matters (a query may well hold an encoded space or "//")
    text = _path_part(target)
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            return True
        if not _plain_path(decoded, space=True):
            return False
        text = decoded
    return False  # still encoded after several rounds: not a path anyone needs


def safe_redirect(target, default="/"):
    """``target`` if it is a same-site path (see :func:`is_same_site`), else ``default``."""
    return target if is_same_site(target) else default
