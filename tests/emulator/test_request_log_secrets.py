"""Issue 8 point 8: the request log (``emu.request_log``, ``GET /__emulator__/requests``) that
notebooks and demos print never shows a credential in clear: channel secrets, access, refresh
and ID tokens, authorization codes, PKCE verifiers, link tokens, nonces."""

import json
from urllib.parse import parse_qs, urlsplit

import requests

from line_idlink.login import LoginClient
from line_emulator.wsgi import MASK

CALLBACK = "https://shop.example/line/callback"


def test_no_credential_of_a_whole_login_and_link_is_logged_in_clear(emulator_server):
    emu, base = emulator_server.emulator, emulator_server.base_url
    aiko = emu.add_user("Aiko")
    aiko.follow()
    client = LoginClient(emu.config.login_channel_id, emu.config.login_channel_secret, CALLBACK,
                         api_base=base, auth_base=base, clock=emu.clock.now)
    auth = client.authorization_request(scope=("openid", "profile"))
    callback = _callback(emu.login.authorize(aiko, auth.url))
    result = client.exchange_code(callback, auth)
    tokens = result.tokens
    client.verify_id_token(tokens.id_token, nonce=auth.nonce)
    requests.post(f"{base}/oauth2/v2.1/verify", timeout=5, data={
        "id_token": tokens.id_token, "client_id": emu.config.login_channel_id,
        "nonce": auth.nonce}).raise_for_status()
    client.verify_access_token(tokens.access_token)
    client.profile(tokens.access_token)
    refreshed = client.refresh(tokens.refresh_token)
    client.revoke(tokens.access_token)
    client.deauthorize(refreshed.access_token, emu.config.access_token)
    link = requests.post(f"{base}/v2/bot/user/{aiko.user_id}/linkToken", timeout=5,
                         headers={"Authorization": f"Bearer {emu.config.access_token}"})
    link_token = link.json()["linkToken"]
    requests.get(f"{base}/dialog/bot/accountLink", timeout=5,
                 params={"linkToken": link_token, "nonce": auth.nonce})
    # a client that sends a credential in a JSON body at any depth
    requests.post(f"{base}/v2/bot/message/push", timeout=5, json={
        "to": aiko.user_id, "messages": [{"type": "text", "text": "hi"}],
        "extra": {"linkToken": link_token, "channel_secret": emu.config.channel_secret}},
        headers={"Authorization": f"Bearer {emu.config.access_token}"})

    secrets = {
        "authorization code": callback["code"],
        "PKCE verifier": auth.code_verifier, "nonce": auth.nonce,
        "login channel secret": emu.config.login_channel_secret,
        "channel secret": emu.config.channel_secret,
        "channel access token": emu.config.access_token,
        "access token": tokens.access_token, "refresh token": tokens.refresh_token,
        "ID token": tokens.id_token, "refreshed access token": refreshed.access_token,
        "refreshed refresh token": refreshed.refresh_token, "link token": link_token,
    }
    code_used = [e for e in emu.request_log if e["endpoint"] == "loginIssueAccessToken"][0]
    logged = json.dumps(emu.request_log)
    served = requests.get(f"{base}/__emulator__/requests", timeout=5).text
    for what, secret in secrets.items():
        if secret:
            assert secret not in logged, f"{what} in emu.request_log"
            assert secret not in served, f"{what} in GET /__emulator__/requests"
    form = code_used["body"]
    assert form["code"] == form["client_secret"] == form["code_verifier"] == MASK
    assert form["grant_type"] == "authorization_code" and form["redirect_uri"] == CALLBACK
    assert form["client_id"] == emu.config.login_channel_id  # ids stay readable
    push = [e for e in emu.request_log if e["endpoint"] == "pushMessage"][0]["body"]
    assert push["to"] == aiko.user_id and push["messages"][0]["text"] == "hi"
    assert push["extra"] == {"linkToken": MASK, "channel_secret": MASK}
    deauthorize = [e for e in emu.request_log if e["endpoint"] == "loginDeauthorize"][0]
    assert deauthorize["body"] == {"userAccessToken": MASK}


def _callback(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
