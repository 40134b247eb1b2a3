"""line_idlink.login.LoginClient against the emulator: the full code flow and every refusal."""

import base64
import hashlib
import hmac
import json
import socket
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from line_idlink import login
from line_idlink.login import LoginClient

CALLBACK = "https://shop.example/line/callback"


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def client(emulator_server):
    emu = emulator_server.emulator
    return LoginClient(emu.config.login_channel_id, emu.config.login_channel_secret, CALLBACK,
                       api_base=emulator_server.base_url, auth_base=emulator_server.base_url,
                       clock=emu.clock.now)


def login_as(client, emu, user, **request_options):
    auth = client.authorization_request(**request_options)
    location = emu.login.authorize(user, auth.url)
    return auth, location, client.exchange_code(query(location), auth.to_session())


def claims_for(emu, user, **overrides):
    now = int(emu.clock.now())
    claims = {"iss": "https://access.line.me", "sub": user.user_id,
              "aud": emu.config.login_channel_id, "iat": now, "exp": now + 3600, "nonce": "n1"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_by_hand(claims, key, **header):
    """An HS256 JWT built without pyjwt, whose own guard refuses a PEM as an HMAC key."""
    signing_input = (b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode()) + "."
                     + b64(json.dumps(claims).encode()))
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def token_requests(emu):
    return emu.requests_for("loginIssueAccessToken")


# The authorization URL -------------------------------------------------------------------------
def test_authorization_request_carries_state_nonce_and_s256_challenge(client, emulator_server):
    auth = client.authorization_request(scope=("openid", "profile", "email"), bot_prompt="normal",
                                        ui_locales="ja-JP")
    assert auth.url.startswith(emulator_server.base_url + "/oauth2/v2.1/authorize?")
    assert "scope=openid%20profile%20email" in auth.url
    params = query(auth.url)
    assert params["response_type"] == "code" and params["redirect_uri"] == CALLBACK
    assert params["client_id"] == emulator_server.emulator.config.login_channel_id
    assert params["state"] == auth.state and params["nonce"] == auth.nonce
    assert params["bot_prompt"] == "normal" and params["ui_locales"] == "ja-JP"
    assert 43 <= len(auth.code_verifier) <= 128
    digest = hashlib.sha256(auth.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["code_challenge_method"] == "S256"
    other = client.authorization_request()
    assert {other.state, other.nonce, other.code_verifier} & {
        auth.state, auth.nonce, auth.code_verifier} == set()


@pytest.mark.parametrize("options", [{"scope": ("email",)}, {"scope": ("profile", "email")},
                                     {"scope": ("openid", "phone")}, {"bot_prompt": "yes"},
                                     {"prompt": "always"}])
def test_authorization_request_refuses_what_line_would_refuse(client, options):
    with pytest.raises(ValueError):
        client.authorization_request(**options)


# The code flow ---------------------------------------------------------------------------------
def test_full_code_flow_gives_the_verified_line_user(client, emu, webhook_sink):
    aiko = emu.add_user("Aiko", picture_url="https://img.example/aiko.png")
    _, location, result = login_as(client, emu, aiko, bot_prompt="normal")
    assert location.startswith(CALLBACK)
    assert result.id_claims["sub"] == aiko.user_id and result.id_claims["name"] == "Aiko"
    assert result.friendship_status_changed is True
    assert result.tokens.expires_in == 2592000 and result.tokens.refresh_token
    assert result.tokens.expires_at == emu.clock.now() + 2592000
    assert result.tokens.access_token not in repr(result)  # a logged result leaks no token
    profile = client.profile(result.tokens.access_token)
    assert profile == login.Profile(aiko.user_id, "Aiko", "https://img.example/aiko.png", None)
    assert client.friendship(result.tokens.access_token) is True
    assert aiko.record.friendship == "friend"
    assert [e["type"] for e in webhook_sink.events] == ["follow"]
    info = client.verify_access_token(result.tokens.access_token)
    assert info["client_id"] == emu.config.login_channel_id and info["expires_in"] > 0
    # without bot_prompt LINE says nothing about friendship
    assert login_as(client, emu, aiko)[2].friendship_status_changed is None


def test_profile_only_login_has_no_id_token(client, emu):
    result = login_as(client, emu, emu.add_user("Ben"), scope=("profile",))[2]
    assert result.id_claims is None and result.tokens.id_token is None
    assert client.profile(result.tokens.access_token).display_name == "Ben"


def test_cancelled_login_is_login_denied(client, emu):
    auth = client.authorization_request()
    location = emu.login.authorize(emu.add_user("Aiko"), auth.url, approve=False)
    with pytest.raises(login.LoginDenied) as caught:
        client.exchange_code(query(location), auth)
    assert caught.value.error == "ACCESS_DENIED"
    assert token_requests(emu) == []


def test_state_mismatch_is_refused_before_any_request(client, emu):
    auth = client.authorization_request()
    params = query(emu.login.authorize(emu.add_user("Aiko"), auth.url))
    forged = dict(params, state="attacker-state")
    with pytest.raises(login.StateMismatch):
        client.exchange_code(forged, auth)
    with pytest.raises(login.StateMismatch):
        client.exchange_code(params, {"nonce": auth.nonce, "code_verifier": auth.code_verifier})
    assert token_requests(emu) == []


def test_missing_or_wrong_verifier(client, emu):
    auth = client.authorization_request()
    params = query(emu.login.authorize(emu.add_user("Aiko"), auth.url))
    with pytest.raises(login.MissingVerifier):
        client.exchange_code(params, {"state": auth.state, "nonce": auth.nonce})
    assert token_requests(emu) == []
    wrong = dict(auth.to_session(), code_verifier=client.authorization_request().code_verifier)
    with pytest.raises(login.LoginError) as caught:
        client.exchange_code(params, wrong)
    assert (caught.value.status, caught.value.error) == (400, "invalid_grant")
    assert caught.value.description == "invalid code_verifier"


def test_a_session_without_nonce_cannot_complete_an_openid_login(client, emu):
    auth = client.authorization_request()
    params = query(emu.login.authorize(emu.add_user("Aiko"), auth.url))
    with pytest.raises(login.NonceMismatch, match="no nonce"):
        client.exchange_code(params, {"state": auth.state, "code_verifier": auth.code_verifier})


def test_replayed_code_is_refused(client, emu):
    auth, location, _ = login_as(client, emu, emu.add_user("Aiko"))
    with pytest.raises(login.LoginError) as caught:
        client.exchange_code(query(location), auth)
    assert caught.value.status == 400 and caught.value.error == "invalid_grant"
    assert "already been used" in str(caught.value)


# ID-token verification -------------------------------------------------------------------------
def test_wrong_algorithms_are_refused(client, emu):
    aiko = emu.add_user("Aiko")
    web = emu.login.sign_id_token(claims_for(emu, aiko), "web")
    liff = emu.login.liff_id_token(aiko, nonce="n1")
    with pytest.raises(login.WrongAlgorithm, match="ES256"):
        client.verify_id_token(liff, kind="web")
    with pytest.raises(login.WrongAlgorithm, match="HS256"):
        client.verify_id_token(web, kind="liff")
    unsigned = jwt.encode(claims_for(emu, aiko), None, algorithm="none")
    for kind in ("web", "liff"):
        with pytest.raises(login.WrongAlgorithm, match="none"):
            client.verify_id_token(unsigned, kind=kind)
    # the classic confusion: HS256 keyed with LINE's public key, presented as a LIFF token
    public_pem = emu.login.liff_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    confused = hs256_by_hand(claims_for(emu, aiko), public_pem, kid=emu.login.liff_kid)
    with pytest.raises(login.WrongAlgorithm):
        client.verify_id_token(confused, kind="liff")
    assert client.verify_id_token(web, nonce="n1")["sub"] == aiko.user_id
    assert client.verify_id_token(liff, nonce="n1", kind="liff")["sub"] == aiko.user_id


def test_wrong_keys_are_refused(client, emu):
    aiko = emu.add_user("Aiko")
    other_secret = jwt.encode(claims_for(emu, aiko), "f" * 32, algorithm="HS256")
    with pytest.raises(login.BadSignature):
        client.verify_id_token(other_secret)
    other_key = ec.generate_private_key(ec.SECP256R1())
    same_kid = jwt.encode(claims_for(emu, aiko), other_key, algorithm="ES256",
                          headers={"kid": emu.login.liff_kid})
    with pytest.raises(login.BadSignature):
        client.verify_id_token(same_kid, kind="liff")
    unknown_kid = jwt.encode(claims_for(emu, aiko), other_key, algorithm="ES256",
                             headers={"kid": "not-lines"})
    with pytest.raises(login.BadSignature, match="not-lines"):
        client.verify_id_token(unknown_kid, kind="liff")
    with pytest.raises(login.MalformedIdToken):
        client.verify_id_token("garbage")


@pytest.mark.parametrize("overrides, error", [
    ({"iss": "https://access.line.me.evil.example"}, login.WrongIssuer),
    ({"aud": "1600000001"}, login.WrongAudience),
    ({"nonce": "someone-elses"}, login.NonceMismatch),
    ({"nonce": None}, login.NonceMismatch),
    ({"exp": None}, login.MalformedIdToken),
])
@pytest.mark.parametrize("kind", ["web", "liff"])
def test_wrong_claims_are_refused(client, emu, overrides, error, kind):
    token = emu.login.sign_id_token(claims_for(emu, emu.add_user("Aiko"), **overrides), kind)
    with pytest.raises(error):
        client.verify_id_token(token, nonce="n1", kind=kind)


def test_expiry_and_issue_time_follow_the_injected_clock(client, emu):
    aiko = emu.add_user("Aiko")
    token = emu.login.sign_id_token(claims_for(emu, aiko))
    future = emu.login.sign_id_token(claims_for(emu, aiko, iat=int(emu.clock.now()) + 31))
    with pytest.raises(login.IssuedInFuture):
        client.verify_id_token(future)
    emu.advance(3600 + 30)  # exactly at the leeway: still accepted
    assert client.verify_id_token(token)["sub"] == aiko.user_id
    emu.advance(1)
    with pytest.raises(login.IdTokenExpired, match="expired"):
        client.verify_id_token(token)
    liff = emu.login.liff_id_token(aiko)
    emu.advance(3601 + 30)
    with pytest.raises(login.IdTokenExpired):
        client.verify_id_token(liff, kind="liff")


def test_jwks_is_fetched_once_and_can_be_given(client, emu):
    aiko = emu.add_user("Aiko")
    for _ in range(3):
        client.verify_id_token(emu.login.liff_id_token(aiko), kind="liff")
    assert len(emu.requests_for("loginJwks")) == 1
    offline = LoginClient(emu.config.login_channel_id, "unused-secret", CALLBACK,
                          api_base="http://127.0.0.1:9", clock=emu.clock.now)
    claims = offline.verify_id_token(emu.login.liff_id_token(aiko), kind="liff",
                                     jwks=emu.login.jwks())
    assert claims["sub"] == aiko.user_id


# Tokens --------------------------------------------------------------------------------------
def test_refresh_gives_a_working_token(client, emu):
    tokens = login_as(client, emu, emu.add_user("Aiko"))[2].tokens
    fresh = client.refresh(tokens.refresh_token)
    assert fresh.access_token != tokens.access_token and fresh.id_token is None
    assert client.profile(fresh.access_token).display_name == "Aiko"
    with pytest.raises(login.LoginError) as caught:
        client.refresh(tokens.refresh_token)
    assert caught.value.error == "invalid_grant"


def test_revoke_makes_the_profile_call_fail_with_401(client, emu):
    tokens = login_as(client, emu, emu.add_user("Aiko"))[2].tokens
    client.revoke(tokens.access_token)
    with pytest.raises(login.LoginError) as caught:
        client.profile(tokens.access_token)
    assert caught.value.status == 401
    with pytest.raises(login.LoginError) as caught:
        client.verify_access_token(tokens.access_token)
    assert caught.value.status == 400


def test_deauthorize_makes_the_profile_call_fail_and_cannot_repeat(client, emu):
    tokens = login_as(client, emu, emu.add_user("Aiko"))[2].tokens
    client.deauthorize(tokens.access_token, emu.config.access_token)
    with pytest.raises(login.LoginError) as caught:
        client.friendship(tokens.access_token)
    assert caught.value.status == 401
    with pytest.raises(login.LoginError) as caught:
        client.deauthorize(tokens.access_token, emu.config.access_token)
    assert caught.value.status == 400 and "already deauthorized" in caught.value.description


def test_verify_access_token_checks_channel_and_expiry(client, emu, emulator_server):
    access = login_as(client, emu, emu.add_user("Aiko"))[2].tokens.access_token
    stranger = LoginClient("1600000001", "s" * 32, CALLBACK, api_base=emulator_server.base_url)
    with pytest.raises(login.LoginError) as caught:
        stranger.verify_access_token(access)
    assert caught.value.error == "wrong_channel"
    emu.advance(2592000)
    with pytest.raises(login.LoginError) as caught:
        client.verify_access_token(access)
    assert caught.value.description == "access token expired"


def test_unreachable_line_is_a_login_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = LoginClient("1600000000", "s" * 32, CALLBACK, api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(login.LoginError) as caught:
        client.profile("token")
    assert caught.value.status is None and caught.value.error == "connection_error"
