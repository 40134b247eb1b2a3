"""The emulated LINE Login v2.1 provider, spoken to over HTTP as an app (or a browser) would."""

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from line_emulator import Emulator
from line_emulator.login import AuthorizeError

CALLBACK = "https://shop.example/line/callback"
VERIFIER = "v" * 43 + "-._~0123456789"


def challenge(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_url(emu, base="https://access.line.me", **overrides):
    params = {"response_type": "code", "client_id": emu.config.login_channel_id,
              "redirect_uri": CALLBACK, "state": "st-123", "scope": "openid profile",
              "nonce": "n-456", "code_challenge": challenge(VERIFIER),
              "code_challenge_method": "S256"}
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    return f"{base}/oauth2/v2.1/authorize?{urlencode(params)}"


def query(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_form(emu, code, **overrides):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": emu.config.login_channel_id,
            "client_secret": emu.config.login_channel_secret, "code_verifier": VERIFIER}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def api(emulator_server):
    base = emulator_server.base_url

    class Api:
        emu = emulator_server.emulator

        def post(self, path, **kw):
            return requests.post(base + path, timeout=5, **kw)

        def get(self, path, **kw):
            return requests.get(base + path, timeout=5, **kw)

        def login(self, user, **overrides):
            """Authorize and exchange; the token answer."""
            code = query(self.emu.login.authorize(user, auth_url(self.emu, **overrides)))["code"]
            answer = self.post("/oauth2/v2.1/token", data=token_form(self.emu, code))
            assert answer.status_code == 200, answer.text
            return answer.json()

    api = Api()
    api.base = base
    return api


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# Authorization --------------------------------------------------------------------------------
def test_code_flow_issues_tokens_and_a_web_id_token(api):
    emu = api.emu
    aiko = emu.add_user("Aiko", picture_url="https://img.example/aiko.png")
    location = emu.login.authorize(aiko, auth_url(emu, scope="openid profile email"))
    assert location.startswith(CALLBACK + "?")
    params = query(location)
    assert params["state"] == "st-123" and "friendship_status_changed" not in params

    answer = api.post("/oauth2/v2.1/token", data=token_form(emu, params["code"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 2592000
    assert body["refresh_token"] and body["access_token"]
    assert set(body["scope"].split()) == {"openid", "profile"}  # LINE never echoes email
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "HS256"
    claims = jwt.decode(body["id_token"], emu.config.login_channel_secret, algorithms=["HS256"],
                        audience=emu.config.login_channel_id, options={"verify_exp": False})
    now = int(emu.clock.now())
    assert claims == {"iss": "https://access.line.me", "sub": aiko.user_id,
                      "aud": emu.config.login_channel_id, "iat": now, "exp": now + 3600,
                      "nonce": "n-456", "amr": ["linesso"], "name": "Aiko",
                      "picture": "https://img.example/aiko.png",
                      "email": f"{aiko.user_id}@line.example"}


def test_code_is_single_use_and_lives_ten_minutes(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    code = query(emu.login.authorize(aiko, auth_url(emu)))["code"]
    assert api.post("/oauth2/v2.1/token", data=token_form(emu, code)).status_code == 200
    replay = api.post("/oauth2/v2.1/token", data=token_form(emu, code))
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant",
                             "error_description": "authorization code has already been used"}

    late = query(emu.login.authorize(aiko, auth_url(emu)))["code"]
    emu.advance(600)
    answer = api.post("/oauth2/v2.1/token", data=token_form(emu, late))
    assert answer.json() == {"error": "invalid_grant",
                             "error_description": "authorization code expired"}


@pytest.mark.parametrize("overrides, error, text", [
    ({"state": None}, "INVALID_REQUEST", "state"),
    ({"scope": "email"}, "INVALID_SCOPE", "openid or profile"),
    ({"scope": "profile email"}, "INVALID_SCOPE", "email scope needs openid"),
    ({"scope": "openid friends"}, "INVALID_SCOPE", "friends"),
    ({"code_challenge_method": "plain"}, "INVALID_REQUEST", "S256"),
    ({"code_challenge": None}, "INVALID_REQUEST", "code_challenge"),
    ({"response_type": "token"}, "UNSUPPORTED_RESPONSE_TYPE", "code"),
    ({"bot_prompt": "always"}, "INVALID_REQUEST", "bot_prompt"),
    ({"response_mode": "form_post"}, "INVALID_REQUEST", "not emulated"),
])
def test_bad_authorization_requests_are_redirected_with_line_error_codes(api, overrides, error,
                                                                        text):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    params = query(emu.login.authorize(aiko, auth_url(emu, **overrides)))
    assert params["error"] == error and text in params["error_description"]
    assert "code" not in params
    assert params.get("state") == (None if "state" in overrides else "st-123")
    assert emu.login.codes == {}


def test_bad_client_or_redirect_uri_is_not_redirected():
    emu = Emulator(seed=3, login_callback_urls=[CALLBACK])
    aiko = emu.add_user("Aiko")
    with pytest.raises(AuthorizeError, match="client_id"):
        emu.login.authorize(aiko, auth_url(emu, client_id="1234"))
    with pytest.raises(AuthorizeError, match="not a registered callback URL"):
        emu.login.authorize(aiko, auth_url(emu, redirect_uri="https://evil.example/cb"))
    with pytest.raises(AuthorizeError, match="http"):
        emu.login.authorize(aiko, auth_url(emu, redirect_uri="javascript:alert(1)"))
    # a registered URL with extra query parameters is fine, and they are kept
    location = emu.login.authorize(aiko, auth_url(emu, redirect_uri=CALLBACK + "?lang=ja"))
    assert query(location)["lang"] == "ja" and query(location)["code"]


def test_user_can_cancel_and_prompt_none_needs_earlier_consent(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    denied = query(emu.login.authorize(aiko, auth_url(emu), approve=False))
    assert denied["error"] == "ACCESS_DENIED" and denied["state"] == "st-123"
    silent = query(emu.login.authorize(aiko, auth_url(emu, prompt="none")))
    assert silent["error"] == "INTERACTION_REQUIRED"
    emu.login.authorize(aiko, auth_url(emu))
    assert "code" in query(emu.login.authorize(aiko, auth_url(emu, prompt="none")))


def test_pkce_missing_or_wrong_verifier_is_refused_and_leaves_the_code_usable(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    code = query(emu.login.authorize(aiko, auth_url(emu)))["code"]
    missing = api.post("/oauth2/v2.1/token", data=token_form(emu, code, code_verifier=None))
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_grant",
                              "error_description": "code_verifier is required"}
    wrong = api.post("/oauth2/v2.1/token", data=token_form(emu, code, code_verifier="w" * 43))
    assert wrong.json() == {"error": "invalid_grant", "error_description": "invalid code_verifier"}
    short = api.post("/oauth2/v2.1/token", data=token_form(emu, code, code_verifier="short"))
    assert short.json()["error"] == "invalid_request"
    assert api.post("/oauth2/v2.1/token", data=token_form(emu, code)).status_code == 200


def test_token_endpoint_checks_client_and_redirect_uri(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    code = query(emu.login.authorize(aiko, auth_url(emu)))["code"]
    secret = api.post("/oauth2/v2.1/token", data=token_form(emu, code, client_secret="x" * 32))
    assert secret.json() == {"error": "invalid_client",
                             "error_description": "invalid client_secret"}
    other = api.post("/oauth2/v2.1/token",
                     data=token_form(emu, code, redirect_uri="https://shop.example/other"))
    assert other.json()["error"] == "invalid_grant" and "redirect_uri" in other.text
    assert api.post("/oauth2/v2.1/token", data={"grant_type": "password"}).json()["error"] == \
        "unsupported_grant_type"
    channel_token = api.post("/oauth2/v2.1/token", data={"grant_type": "client_credentials"})
    assert channel_token.status_code == 501 and "Not emulated" in channel_token.json()["message"]


def test_bot_prompt_makes_the_user_a_friend_and_sends_follow(api, webhook_sink):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    params = query(emu.login.authorize(aiko, auth_url(emu, bot_prompt="aggressive")))
    assert params["friendship_status_changed"] == "true"
    assert aiko.record.friendship == "friend"
    follows = [e for e in webhook_sink.events if e["type"] == "follow"]
    assert [e["source"]["userId"] for e in follows] == [aiko.user_id]
    # already a friend: LINE does not show the option, nothing changes, nothing is sent again
    again = query(emu.login.authorize(aiko, auth_url(emu, bot_prompt="normal")))
    assert "friendship_status_changed" not in again
    assert len([e for e in webhook_sink.events if e["type"] == "follow"]) == 1


def test_bot_prompt_unblocks_a_user_who_blocked_the_bot(api, webhook_sink):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    aiko.follow()
    aiko.block()
    params = query(emu.login.authorize(aiko, auth_url(emu, bot_prompt="normal")))
    assert params["friendship_status_changed"] == "true" and aiko.record.friendship == "friend"
    assert [(e["type"], e.get("follow", {}).get("isUnblocked")) for e in webhook_sink.events] == [
        ("follow", False), ("unfollow", None), ("follow", True)]


def test_bot_prompt_declined_reports_false_and_changes_nothing(api, webhook_sink):
    emu = api.emu
    ben = emu.add_user("Ben")
    params = query(emu.login.authorize(ben, auth_url(emu, bot_prompt="normal"), add_friend=False))
    assert params["friendship_status_changed"] == "false"
    assert ben.record.friendship == "none" and webhook_sink.events == []


# The browser route ---------------------------------------------------------------------------
def test_browser_without_line_session_picks_a_user_then_is_redirected(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    browser = requests.Session()
    page = browser.get(auth_url(emu, base=api.base), allow_redirects=False, timeout=5)
    assert page.status_code == 200 and "Aiko" in page.text
    link = f"/__emulator__/users/{aiko.user_id}/signin?next="
    assert link in page.text
    start = page.text.index(link)
    href = page.text[start:page.text.index('"', start)].replace("&amp;", "&")
    signin = browser.get(api.base + href, allow_redirects=False, timeout=5)
    assert signin.status_code == 302
    back = browser.get(api.base + signin.headers["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    params = query(back.headers["Location"])
    assert back.headers["Location"].startswith(CALLBACK) and params["state"] == "st-123"
    assert api.post("/oauth2/v2.1/token", data=token_form(emu, params["code"])).status_code == 200


def test_browser_errors(api):
    emu = api.emu
    wrong_client = urlencode({"client_id": "1", "redirect_uri": CALLBACK})
    bad = api.get(f"/oauth2/v2.1/authorize?{wrong_client}", allow_redirects=False)
    assert bad.status_code == 400 and "client_id" in bad.text and "Location" not in bad.headers
    silent = api.get("/oauth2/v2.1/authorize?" + urlsplit(auth_url(emu, prompt="none")).query,
                     allow_redirects=False)
    assert silent.status_code == 302
    assert query(silent.headers["Location"])["error"] == "LOGIN_REQUIRED"


# Verify endpoints ------------------------------------------------------------------------------
def test_verify_id_token_answers_with_lines_messages(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    id_token = api.login(aiko)["id_token"]
    client_id = emu.config.login_channel_id

    def verify(**form):
        return api.post("/oauth2/v2.1/verify", data={"id_token": id_token, "client_id": client_id,
                                                     **form})

    ok = verify(nonce="n-456", user_id=aiko.user_id)
    assert ok.status_code == 200 and ok.json()["sub"] == aiko.user_id
    now = int(emu.clock.now())
    wrong_iss = emu.login.sign_id_token({"iss": "https://evil.example", "sub": aiko.user_id,
                                         "aud": client_id, "iat": now, "exp": now + 60})
    cases = [
        ({"id_token": "not-a-jwt"}, "Invalid IdToken."),
        ({"id_token": jwt.encode({"sub": "x"}, "another-secret-of-32-bytes-length!",
                                 algorithm="HS256")}, "Invalid IdToken."),
        ({"id_token": wrong_iss}, "Invalid IdToken Issuer."),
        ({"client_id": "1600000000"}, "Invalid IdToken Audience."),
        ({"nonce": "other"}, "Invalid IdToken Nonce."),
        ({"user_id": "U" + "0" * 32}, "Invalid IdToken Subject Identifier."),
    ]
    for form, message in cases:
        answer = verify(**form)
        assert answer.status_code == 400, form
        assert answer.json() == {"error": "invalid_request", "error_description": message}
    emu.advance(3600)
    assert verify().json()["error_description"] == "IdToken expired."


def test_verify_access_token_then_expiry(api):
    emu = api.emu
    access = api.login(emu.add_user("Aiko"))["access_token"]
    answer = api.get("/oauth2/v2.1/verify", params={"access_token": access}).json()
    assert answer == {"scope": "openid profile", "client_id": emu.config.login_channel_id,
                      "expires_in": 2592000}
    emu.advance(2592000 - 10)
    left = api.get("/oauth2/v2.1/verify", params={"access_token": access}).json()
    assert left["expires_in"] == 10
    emu.advance(10)
    expired = api.get("/oauth2/v2.1/verify", params={"access_token": access})
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_request",
                              "error_description": "access token expired"}
    assert api.get("/v2/profile", headers=bearer(access)).status_code == 401


# User data --------------------------------------------------------------------------------------
def test_profile_userinfo_and_friendship_with_a_login_token(api):
    emu = api.emu
    aiko = emu.add_user("Aiko", picture_url="https://img.example/a.png", status_message="hi")
    access = api.login(aiko)["access_token"]
    assert api.get("/v2/profile", headers=bearer(access)).json() == {
        "userId": aiko.user_id, "displayName": "Aiko", "pictureUrl": "https://img.example/a.png",
        "statusMessage": "hi"}
    info = {"sub": aiko.user_id, "name": "Aiko", "picture": "https://img.example/a.png"}
    assert api.get("/oauth2/v2.1/userinfo", headers=bearer(access)).json() == info
    assert api.post("/oauth2/v2.1/userinfo", headers=bearer(access)).json() == info
    assert api.get("/friendship/v1/status", headers=bearer(access)).json() == {"friendFlag": False}
    aiko.record.friendship = "friend"
    assert api.get("/friendship/v1/status", headers=bearer(access)).json() == {"friendFlag": True}
    # the Messaging API channel token is not a Login token
    assert api.get("/v2/profile", headers=bearer(emu.config.access_token)).status_code == 401


def test_openid_only_token_cannot_read_the_profile(api):
    emu = api.emu
    access = api.login(emu.add_user("Aiko"), scope="openid")["access_token"]
    assert api.get("/v2/profile", headers=bearer(access)).status_code == 403
    assert api.get("/oauth2/v2.1/userinfo", headers=bearer(access)).json() == {
        "sub": emu.login.token_record(access).user_id}


# Refresh, revoke, deauthorize ----------------------------------------------------------------
def test_refresh_rotates_the_refresh_token(api):
    emu = api.emu
    first = api.login(emu.add_user("Aiko"))
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "client_id": emu.config.login_channel_id,
            "client_secret": emu.config.login_channel_secret}
    answer = api.post("/oauth2/v2.1/token", data=form)
    assert answer.status_code == 200
    second = answer.json()
    assert "id_token" not in second and second["expires_in"] == 2592000
    assert second["access_token"] != first["access_token"]
    assert api.get("/v2/profile", headers=bearer(second["access_token"])).status_code == 200
    reused = api.post("/oauth2/v2.1/token", data=form)
    assert reused.json() == {"error": "invalid_grant", "error_description": "invalid refresh token"}
    emu.advance(90 * 24 * 3600)
    late = api.post("/oauth2/v2.1/token", data=dict(form, refresh_token=second["refresh_token"]))
    assert late.json()["error_description"] == "refresh token expired"


def test_revoke_stops_the_token(api):
    emu = api.emu
    tokens = api.login(emu.add_user("Aiko"))
    form = {"access_token": tokens["access_token"], "client_id": emu.config.login_channel_id,
            "client_secret": "0" * 32}
    refused = api.post("/oauth2/v2.1/revoke", data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    assert api.get("/v2/profile", headers=bearer(tokens["access_token"])).status_code == 200
    form["client_secret"] = emu.config.login_channel_secret
    assert api.post("/oauth2/v2.1/revoke", data=form).status_code == 200
    assert api.get("/v2/profile", headers=bearer(tokens["access_token"])).status_code == 401
    refresh = api.post("/oauth2/v2.1/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": emu.config.login_channel_id, "client_secret": emu.config.login_channel_secret})
    assert refresh.status_code == 400
    assert api.post("/oauth2/v2.1/revoke", data=form).status_code == 200  # again: still fine


def test_deauthorize_revokes_every_login_token_of_the_user(api):
    emu = api.emu
    aiko, ben = emu.add_user("Aiko"), emu.add_user("Ben")
    first, second = api.login(aiko)["access_token"], api.login(aiko)["access_token"]
    liff = emu.login.liff_access_token(aiko)
    bens = api.login(ben)["access_token"]
    channel = bearer(emu.config.access_token)
    assert api.post("/user/v1/deauthorize", json={"userAccessToken": first}).status_code == 401
    assert api.post("/user/v1/deauthorize", headers=channel, json={}).status_code == 400
    answer = api.post("/user/v1/deauthorize", headers=channel, json={"userAccessToken": first})
    assert answer.status_code == 204 and answer.content == b""
    for token in (first, second, liff):
        assert api.get("/v2/profile", headers=bearer(token)).status_code == 401
    assert api.get("/v2/profile", headers=bearer(bens)).status_code == 200
    again = api.post("/user/v1/deauthorize", headers=channel, json={"userAccessToken": second})
    assert again.status_code == 400 and "already deauthorized" in again.json()["message"]
    unknown = api.post("/user/v1/deauthorize", headers=channel, json={"userAccessToken": "nope"})
    assert unknown.status_code == 400
    # consent is gone: a silent login needs the consent screen again
    assert query(emu.login.authorize(aiko, auth_url(emu, prompt="none")))["error"] == \
        "INTERACTION_REQUIRED"


# LIFF ------------------------------------------------------------------------------------------
def test_liff_tokens_are_es256_and_verify_against_the_jwks(api):
    emu = api.emu
    aiko = emu.add_user("Aiko")
    token = emu.login.liff_id_token(aiko, nonce="liff-nonce")
    header = jwt.get_unverified_header(token)
    keys = api.get("/oauth2/v2.1/certs").json()["keys"]
    assert header["alg"] == "ES256" and [k["kid"] for k in keys] == [header["kid"]]
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, key, algorithms=["ES256"], audience=emu.config.login_channel_id,
                        options={"verify_exp": False})
    assert claims["sub"] == aiko.user_id and claims["nonce"] == "liff-nonce"
    verified = api.post("/oauth2/v2.1/verify", data={
        "id_token": token, "client_id": emu.config.login_channel_id})
    assert verified.status_code == 200 and verified.json()["sub"] == aiko.user_id
    # the key comes from the seed: the same seed publishes the same JWKS
    assert Emulator(seed=7).login.jwks() == {"keys": keys}
    assert Emulator(seed=8).login.jwks() != {"keys": keys}


def test_liff_access_token_lives_twelve_hours(api):
    emu = api.emu
    access = emu.login.liff_access_token(emu.add_user("Aiko"))
    assert api.get("/oauth2/v2.1/verify", params={"access_token": access}).json()["expires_in"] == \
        12 * 3600
    assert api.get("/v2/profile", headers=bearer(access)).status_code == 200
    emu.advance(12 * 3600)
    assert api.get("/v2/profile", headers=bearer(access)).status_code == 401
