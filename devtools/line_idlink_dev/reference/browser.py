"""A scripted browser for the demo, notebooks and tests: a ``requests`` session that follows
redirects one hop at a time (each hop can be printed), reads the forms of a page and submits them
with their hidden fields (the CSRF token), and can sign in to the emulated LINE.

    browser = Browser({app_url: "app", emulator_url: "LINE"}, log=print, label="Aiko's phone")
    browser.sign_in_to_line(emulator_url, aiko.user_id)
    page = browser.open(link_url)                   # -> the login page
    page = browser.submit(page, "/login", email="aiko@example.com", password="line-demo")

Printed URLs use the labels instead of hosts and elide query values (ports, tokens, nonces and
CSRF tokens differ from run to run; the transcript must not).
"""

import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

SHOWN_PARAMS = ("purpose",)  # query values short enough and stable enough to print
MAX_PARAMS = 2


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []  # [(action, method, {name: value})]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", (attrs.get("method") or "get").upper(),
                               {}))
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1][2][attrs["name"]] = attrs.get("value") or ""


def forms(page_html):
    """``[(action, method, {field: value})]`` of the page's forms, in page order."""
    parser = _Forms()
    parser.feed(page_html)
    return parser.forms


def title(page_html):
    found = re.search(r"<title>(.*?)</title>", page_html or "", re.S)
    return html.unescape(found.group(1)).strip() if found else ""


def page_text(page_html):
    """The visible text of ``<main>`` (or the body), tags removed, one paragraph per line."""
    found = re.search(r"<main>(.*)</main>", page_html, re.S) or re.search(
        r"<body>(.*)</body>", page_html, re.S)
    text = re.sub(r"<(p|div|h\d|li|br|form|button)[^>]*>", "\n",
                  found.group(1) if found else page_html)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


class Browser:
    def __init__(self, hosts=None, log=None, label="browser"):
        self.http = requests.Session()
        self.http.trust_env = False  # everything here is on 127.0.0.1
        self.hosts = {base.rstrip("/"): name for base, name in (hosts or {}).items()}
        self.log = log
        self.label = label
        self.last = None

    def close(self):
        self.http.close()

    def short(self, url):
        """``app/line/link?linkToken=…``: a URL as the transcript shows it."""
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        where = self.hosts.get(base, base) + parts.path
        query = parse_qsl(parts.query, keep_blank_values=True)
        if query:
            shown = [f"{k}={v if k in SHOWN_PARAMS else '…'}" for k, v in query[:MAX_PARAMS]]
            where += "?" + "&".join(shown + ["…"] * (len(query) > MAX_PARAMS))
        return where

    def _hop(self, method, url, note="", **kwargs):
        response = self.http.request(method, url, allow_redirects=False, timeout=15, **kwargs)
        self.last = response
        if self.log:
            location = response.headers.get("Location")
            outcome = (self.short(urljoin(url, location)) if location
                       else title(response.text))
            self.log(f"{self.label}: {method} {self.short(url)}{note} -> {response.status_code}"
                     f" {outcome}")
        return response

    def follow(self, response, limit=10):
        """Follow redirects from ``response`` with GETs; returns the first non-redirect."""
        for _ in range(limit):
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            response = self._hop("GET", urljoin(response.url, location))
        raise RuntimeError("too many redirects")

    def get(self, url, follow=True):
        response = self._hop("GET", url)
        return self.follow(response) if follow else response

    def submit(self, page, action, follow=True, note="", **fields):
        """POST the form of ``page`` whose action is ``action``, hidden fields included."""
        for form_action, method, values in forms(page.text):
            if form_action == action and method == "POST":
                data = dict(values, **fields)
                response = self._hop("POST", urljoin(page.url, action), note, data=data)
                return self.follow(response) if follow else response
        raise LookupError(f"no POST form with action {action!r} on {self.short(page.url)}")

    def sign_in_to_line(self, emulator_url, user_id):
        """The emulator's stand-in for "this phone is logged in to LINE as user_id"."""
        response = self.http.get(f"{emulator_url.rstrip('/')}/__emulator__/users/{user_id}/signin",
                                 timeout=15)
        response.raise_for_status()
        return response


def describe(message):
    """One line for a LINE message object, as the chat would show it."""
    kind = message.get("type")
    if kind == "text":
        line = message["text"].splitlines()[0]
        items = (message.get("quickReply") or {}).get("items") or []
        buttons = " ".join(f"[{i['action']['label']}]" for i in items)
        return f"「{line}」" + (f" {buttons}" if buttons else "")
    if kind == "template":
        template = message["template"]
        buttons = " ".join(f"[{a['label']}]" for a in template.get("actions", []))
        return f"{template['type']}: 「{template.get('title') or template['text']}」 {buttons}"
    if kind == "flex":
        return f"flex: {message['altText']}"
    return kind
