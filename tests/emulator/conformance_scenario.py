"""The scripted scenario of the conformance run: every emulated LINE endpoint through the SDK.

Each step names the operationIds it calls and runs only when all of them are routed, so the
scenario grows with the emulator. A step that raises is reported (with the step's name) and the
run goes on, so one report lists every problem. ``Scenario.report`` adds the contract violations,
the webhook bodies that break ``CallbackRequest``, and routed operations no step exercised.
"""

import json
import struct
import tempfile
import traceback
import uuid
import zlib
from pathlib import Path

import requests
from linebot.v3 import audience as aud
from linebot.v3 import insight as ins
from linebot.v3 import messaging as msg

from line_emulator import catalog

# Each generated SDK package has its own ApiException class.
API_EXCEPTIONS = (msg.ApiException, ins.ApiException, aud.ApiException)

STEPS = []
DATE = "20261101"  # the emulator's frozen clock starts 2026-11-02T00:00Z (09:00 JST)


def step(*operation_ids):
    def register(fn):
        STEPS.append((fn.__name__, operation_ids, fn))
        return fn

    return register


def png(width, height):
    """A valid, tiny (zlib-compressed blank) PNG of the given size."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = (b"\x00" + b"\x00" * width) * height  # filter byte + one grey byte per pixel
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class Scenario:
    def __init__(self, emu, middleware, base_url, sink):
        self.emu, self.middleware, self.base_url, self.sink = emu, middleware, base_url, sink
        token = emu.config.access_token
        client = msg.ApiClient(msg.Configuration(host=base_url, access_token=token))
        self.api, self.blob = msg.MessagingApi(client), msg.MessagingApiBlob(client)
        self.insight = ins.Insight(ins.ApiClient(ins.Configuration(host=base_url,
                                                                   access_token=token)))
        aclient = aud.ApiClient(aud.Configuration(host=base_url, access_token=token))
        self.audience = aud.ManageAudience(aclient)
        self.audience_blob = aud.ManageAudienceBlob(aclient)
        self.routed = {r.endpoint for r in catalog.build_routes()}
        self.failures = []
        self.ran, self.not_run = [], []
        self.ctx = {}

    # Helpers used by the steps ---------------------------------------------------------------
    def http(self, method, path, expect_invalid=False, auth=True, **kwargs):
        """A raw request (for the deliberately wrong ones the SDK would refuse to send)."""
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers["Authorization"] = f"Bearer {self.emu.config.access_token}"
        if expect_invalid:
            with self.middleware.expect_invalid():
                return requests.request(method, self.base_url + path, headers=headers,
                                        timeout=10, **kwargs)
        return requests.request(method, self.base_url + path, headers=headers, timeout=10,
                                **kwargs)

    def expect_status(self, status, call, *args, **kwargs):
        """Call the SDK and require it to fail with ``status`` (the error body is validated)."""
        try:
            call(*args, **kwargs)
        except API_EXCEPTIONS as exc:
            assert exc.status == status, f"expected {status}, got {exc.status}: {exc.body}"
            return exc
        raise AssertionError(f"expected HTTP {status}, the call succeeded")

    def user(self, name, language="ja"):
        """A new simulated user who adds the bot as a friend (a ``follow`` webhook)."""
        user = self.emu.add_user(name, language)
        event = user.follow().event
        self.ctx.setdefault("reply_tokens", []).append(event["replyToken"])
        return user

    # Running and reporting ----------------------------------------------------------------------
    def run(self, steps):
        for name, operation_ids, fn in steps:
            if not set(operation_ids) <= self.routed:
                self.not_run.append(name)
                continue
            self.ran.append(name)
            try:
                fn(self)
            except Exception as exc:  # report every broken step, not only the first
                lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                         if f.filename == __file__]
                self.failures.append(f"step {name} failed (line {lines[-1]}): "
                                     f"{type(exc).__name__}: {_brief(exc)}")

    def report(self, spec):
        report = list(self.failures)
        report += [f"contract: {v}" for v in self.middleware.violations]
        self.emu.flush()
        for index, item in enumerate(self.sink.received):
            report += [f"webhook #{index}: {e}" for e in spec.validate_webhook(item["raw"])]
        kinds = {(e["type"], e.get("link", {}).get("result")) for e in self.sink.events}
        if EVENT_KINDS - kinds:
            report.append("webhook events never sent, so not validated: "
                          f"{sorted(EVENT_KINDS - kinds, key=str)}")
        exercised = {x["endpoint"] for x in self.middleware.exchanges if x["checked"]}
        unexercised = sorted(e for e in self.routed if e in spec.by_id and e not in exercised)
        if unexercised:
            report.append("routed LINE operations the scenario never called (add a step in "
                          f"tests/emulator/conformance_scenario.py): {unexercised}")
        return report


# The webhook events (type, link.result) the scenario makes the emulator send and validates.
EVENT_KINDS = {("follow", None), ("unfollow", None), ("message", None), ("postback", None),
               ("accountLink", "ok"), ("accountLink", "failed")}


def _brief(exc):
    if isinstance(exc, API_EXCEPTIONS):  # the status and LINE's error body, not the headers
        return f"HTTP {exc.status} {exc.body!r}"
    return str(exc)[:500]


def text(value="こんにちは 🍣 ID連携のご案内"):
    return msg.TextMessage(text=value)


def link_template(data="action=link"):
    return msg.TemplateMessage.from_dict({
        "type": "template", "altText": "ID連携", "template": {
            "type": "buttons", "text": "会員IDと連携しますか？",
            "actions": [{"type": "postback", "label": "連携する", "data": data,
                         "displayText": "連携する"},
                        {"type": "uri", "label": "詳しく", "uri": "https://example.com/line"},
                        {"type": "message", "label": "あとで", "text": "あとで"}]}})


def flex():
    return msg.FlexMessage.from_dict({
        "type": "flex", "altText": "ご注文", "contents": {
            "type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": "ご注文 S00042", "weight": "bold"},
                {"type": "text", "text": "¥12,800", "size": "sm"}]}}})


# The scenario --------------------------------------------------------------------------------
@step()
def users_follow_talk_and_block(s):
    s.aiko, s.ben, s.carol = s.user("Aiko"), s.user("Ben", "en"), s.user("Carol")
    s.aiko.say("こんにちは 🍣")
    s.aiko.postback("action=link")
    s.carol.block()
    s.carol.follow()  # an unblock: follow.isUnblocked true
    s.carol.block()


@step("pushMessage")
def push_with_retry_key(s):
    key = str(uuid.uuid4())
    request = msg.PushMessageRequest(to=s.aiko.user_id, messages=[text(), link_template(), flex()],
                                     custom_aggregation_units=["autumn_sale"])
    sent = s.api.push_message_with_http_info(request, x_line_retry_key=key)
    assert len(sent.data.sent_messages) == 3
    again = s.expect_status(409, s.api.push_message, request, x_line_retry_key=key)
    # Not in the specs (LINE's retry-key docs): the original request id comes back.
    assert again.headers["x-line-accepted-request-id"] == sent.headers["x-line-request-id"]
    s.api.push_message(msg.PushMessageRequest(to=s.ben.user_id, messages=[
        msg.StickerMessage(package_id="446", sticker_id="1988")]))


@step("pushMessage")
def push_errors_have_line_error_bodies(s):
    bad = s.http("POST", "/v2/bot/message/push", expect_invalid=True,
                 json={"to": s.aiko.user_id, "messages": [{"type": "bogus"}]})
    assert bad.status_code == 400, bad.text
    assert s.http("POST", "/v2/bot/message/push", auth=False,
                  json={"to": s.aiko.user_id, "messages": [{"type": "text", "text": "x"}]}
                  ).status_code == 401
    too_long = s.http("POST", "/v2/bot/message/push", expect_invalid=True, json={
        "to": s.aiko.user_id, "messages": [{"type": "text", "text": "x"}] * 6})
    assert too_long.status_code == 400, too_long.text


@step("replyMessage")
def reply_to_the_follow_event(s):
    tokens = s.ctx.get("reply_tokens") or []
    assert tokens, "no follow event carried a replyToken"
    s.api.reply_message(msg.ReplyMessageRequest(reply_token=tokens[0], messages=[text("ようこそ")]))
    s.expect_status(400, s.api.reply_message,
                    msg.ReplyMessageRequest(reply_token=tokens[0], messages=[text("again")]))


@step("multicast")
def multicast_with_retry_key(s):
    key = str(uuid.uuid4())
    request = msg.MulticastRequest(to=[s.aiko.user_id, s.ben.user_id], messages=[text()])
    s.api.multicast(request, x_line_retry_key=key)
    s.expect_status(409, s.api.multicast, request, x_line_retry_key=key)


@step("broadcast")
def broadcast(s):
    s.api.broadcast(msg.BroadcastRequest(messages=[text("お知らせ")]),
                    x_line_retry_key=str(uuid.uuid4()))


@step("narrowcast", "getNarrowcastProgress")
def narrowcast_and_progress(s):
    request = msg.NarrowcastRequest.from_dict({
        "messages": [{"type": "text", "text": "秋のセール"}],
        "filter": {"demographic": {"type": "operator", "or": [
            {"type": "gender", "oneOf": ["female"]}, {"type": "age", "gte": "age_20"}]}},
        "limit": {"max": 100, "upToRemainingQuota": True}})
    response = s.api.narrowcast_with_http_info(request, x_line_retry_key=str(uuid.uuid4()))
    assert response.status_code == 202
    request_id = response.headers["x-line-request-id"]
    s.api.get_narrowcast_progress(request_id)
    s.emu.advance(3600)
    s.api.get_narrowcast_progress(request_id)
    s.expect_status(404, s.api.get_narrowcast_progress, "0" * 36)


@step("validatePush", "validateReply", "validateMulticast", "validateNarrowcast",
      "validateBroadcast")
def validate_messages(s):
    request = msg.ValidateMessageRequest(messages=[text(), link_template(), flex()])
    for call in (s.api.validate_push, s.api.validate_reply, s.api.validate_multicast,
                 s.api.validate_narrowcast, s.api.validate_broadcast):
        call(request)
    bad = s.http("POST", "/v2/bot/message/validate/push", expect_invalid=True,
                 json={"messages": [{"type": "text"}]})
    assert bad.status_code == 400, bad.text


@step("getMessageQuota", "getMessageQuotaConsumption")
def quota(s):
    s.api.get_message_quota()
    s.api.get_message_quota_consumption()


@step("getNumberOfSentReplyMessages", "getNumberOfSentPushMessages",
      "getNumberOfSentMulticastMessages", "getNumberOfSentBroadcastMessages")
def sent_message_counts(s):
    for call in (s.api.get_number_of_sent_reply_messages, s.api.get_number_of_sent_push_messages,
                 s.api.get_number_of_sent_multicast_messages,
                 s.api.get_number_of_sent_broadcast_messages):
        call(DATE)


@step("getProfile")
def profile(s):
    s.api.get_profile(s.aiko.user_id)
    s.api.get_profile(s.ben.user_id)
    s.expect_status(404, s.api.get_profile, "U" + "0" * 32)


@step("getFollowers")
def followers(s):
    page = s.api.get_followers(limit=1)
    assert page.user_ids and page.next, page
    s.api.get_followers(start=page.next, limit=1000)


@step("getBotInfo")
def bot_info(s):
    s.api.get_bot_info()


@step("issueLinkToken")
def link_tokens_and_account_link(s):
    token = s.api.issue_link_token(s.aiko.user_id).link_token
    s.aiko.account_link(token, "n0nce-aiko-0123456789")  # accountLink ok
    other = s.api.issue_link_token(s.aiko.user_id).link_token
    s.ben.account_link(other, "n0nce-ben-0123456789")  # not Ben's token: accountLink failed
    s.expect_status(404, s.api.issue_link_token, "U" + "0" * 32)


@step("getAggregationUnitUsage", "getAggregationUnitNameList")
def aggregation_units(s):
    s.api.get_aggregation_unit_usage()
    s.api.get_aggregation_unit_name_list(limit="10")


@step("getNumberOfFollowers")
def insight_followers(s):
    s.insight.get_number_of_followers(var_date=DATE)


@step("getNumberOfMessageDeliveries")
def insight_deliveries(s):
    s.insight.get_number_of_message_deliveries(var_date=DATE)


@step("getStatisticsPerUnit")
def insight_per_unit(s):
    s.insight.get_statistics_per_unit("autumn_sale", DATE, "20261102")


@step("getWebhookEndpoint", "setWebhookEndpoint", "testWebhookEndpoint")
def webhook_endpoint(s):
    s.api.get_webhook_endpoint()
    s.api.set_webhook_endpoint(msg.SetWebhookEndpointRequest(endpoint=s.sink.url))
    s.api.test_webhook_endpoint(msg.TestWebhookEndpointRequest(endpoint=s.sink.url))
    s.api.test_webhook_endpoint()


def _rich_menu(name, switch_to=None):
    right = ({"type": "richmenuswitch", "richMenuAliasId": switch_to, "data": "switch"}
             if switch_to else {"type": "uri", "uri": "https://example.com/my/line"})
    return msg.RichMenuRequest.from_dict({
        "size": {"width": 2500, "height": 1686}, "selected": True, "name": name,
        "chatBarText": "メニュー", "areas": [
            {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 1686},
             "action": {"type": "postback", "data": "action=link", "displayText": "連携する"}},
            {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 1686}, "action": right}]})


@step("validateRichMenuObject", "createRichMenu", "getRichMenu", "getRichMenuList",
      "deleteRichMenu")
def rich_menus(s):
    s.api.validate_rich_menu_object(_rich_menu("unlinked"))
    s.ctx["menu_unlinked"] = s.api.create_rich_menu(_rich_menu("unlinked")).rich_menu_id
    s.ctx["menu_linked"] = s.api.create_rich_menu(_rich_menu("linked")).rich_menu_id
    s.api.get_rich_menu(s.ctx["menu_unlinked"])
    assert len(s.api.get_rich_menu_list().richmenus) == 2
    bad = s.http("POST", "/v2/bot/richmenu", expect_invalid=True,
                 json=_rich_menu("too long").to_dict() | {"chatBarText": "x" * 15})
    assert bad.status_code == 400, bad.text
    s.expect_status(404, s.api.get_rich_menu, "richmenu-" + "0" * 32)
    temp = s.api.create_rich_menu(_rich_menu("temporary")).rich_menu_id
    s.api.delete_rich_menu(temp)


@step("setRichMenuImage", "getRichMenuImage", "createRichMenu")
def rich_menu_images(s):
    image = png(2500, 1686)
    for menu in ("menu_unlinked", "menu_linked"):
        s.blob.set_rich_menu_image(s.ctx[menu], image, _headers={"Content-Type": "image/png"})
    assert s.blob.get_rich_menu_image(s.ctx["menu_unlinked"]) == image
    wrong = s.http("POST", f"/v2/bot/richmenu/{s.ctx['menu_linked']}/content",
                   data=png(800, 270), headers={"Content-Type": "image/png"})
    assert wrong.status_code == 400, wrong.text


@step("setDefaultRichMenu", "getDefaultRichMenuId", "cancelDefaultRichMenu", "createRichMenu")
def default_rich_menu(s):
    s.api.set_default_rich_menu(s.ctx["menu_unlinked"])
    assert s.api.get_default_rich_menu_id().rich_menu_id == s.ctx["menu_unlinked"]
    s.api.cancel_default_rich_menu()
    s.expect_status(404, s.api.get_default_rich_menu_id)
    s.api.set_default_rich_menu(s.ctx["menu_unlinked"])


@step("linkRichMenuIdToUser", "getRichMenuIdOfUser", "unlinkRichMenuIdFromUser",
      "createRichMenu")
def per_user_rich_menu(s):
    s.api.link_rich_menu_id_to_user(s.aiko.user_id, s.ctx["menu_linked"])
    assert s.api.get_rich_menu_id_of_user(s.aiko.user_id).rich_menu_id == s.ctx["menu_linked"]
    s.api.unlink_rich_menu_id_from_user(s.aiko.user_id)
    s.expect_status(404, s.api.get_rich_menu_id_of_user, s.aiko.user_id)


@step("linkRichMenuIdToUsers", "unlinkRichMenuIdFromUsers", "createRichMenu")
def bulk_rich_menu(s):
    users = [s.aiko.user_id, s.ben.user_id]
    s.api.link_rich_menu_id_to_users(msg.RichMenuBulkLinkRequest(
        rich_menu_id=s.ctx["menu_linked"], user_ids=users))
    s.emu.advance(60)
    s.api.unlink_rich_menu_id_from_users(msg.RichMenuBulkUnlinkRequest(user_ids=users))
    s.emu.advance(60)
    too_many = s.http("POST", "/v2/bot/richmenu/bulk/link", expect_invalid=True, json={
        "richMenuId": s.ctx["menu_linked"], "userIds": [s.aiko.user_id] * 501})
    assert too_many.status_code == 400, too_many.text


@step("validateRichMenuBatchRequest", "richMenuBatch", "getRichMenuBatchProgress",
      "createRichMenu", "linkRichMenuIdToUser")
def batch_rich_menu(s):
    s.api.link_rich_menu_id_to_user(s.ben.user_id, s.ctx["menu_unlinked"])
    request = msg.RichMenuBatchRequest.from_dict({"operations": [
        {"type": "link", "from": s.ctx["menu_unlinked"], "to": s.ctx["menu_linked"]},
        {"type": "unlink", "from": s.ctx["menu_linked"]}], "resumeRequestKey": "conformance-1"})
    # unlinkAll can't be combined with other operations (LINE's reference).
    unlink_all = msg.RichMenuBatchRequest.from_dict({"operations": [{"type": "unlinkAll"}]})
    for batch in (request, unlink_all):
        s.api.validate_rich_menu_batch_request(batch)
        response = s.api.rich_menu_batch_with_http_info(batch)
        assert response.status_code == 202
        request_id = response.headers["x-line-request-id"]
        s.api.get_rich_menu_batch_progress(request_id)
        s.emu.advance(3600)
        assert s.api.get_rich_menu_batch_progress(request_id).phase == "succeeded"
    mixed = s.http("POST", "/v2/bot/richmenu/validate/batch", json={"operations": [
        {"type": "unlink", "from": s.ctx["menu_linked"]}, {"type": "unlinkAll"}]})
    assert mixed.status_code == 400, mixed.text
    bad = s.http("POST", "/v2/bot/richmenu/validate/batch", expect_invalid=True, json={
        "operations": [{"type": "link", "from": s.ctx["menu_unlinked"]}]})
    assert bad.status_code == 400, bad.text


@step("createRichMenuAlias", "getRichMenuAlias", "updateRichMenuAlias", "getRichMenuAliasList",
      "deleteRichMenuAlias", "createRichMenu", "setRichMenuImage", "linkRichMenuIdToUser")
def rich_menu_aliases(s):
    s.api.create_rich_menu_alias(msg.CreateRichMenuAliasRequest(
        rich_menu_alias_id="linked-a", rich_menu_id=s.ctx["menu_linked"]))
    s.api.create_rich_menu_alias(msg.CreateRichMenuAliasRequest(
        rich_menu_alias_id="linked-b", rich_menu_id=s.ctx["menu_unlinked"]))
    s.api.get_rich_menu_alias("linked-a")
    s.api.update_rich_menu_alias("linked-b", msg.UpdateRichMenuAliasRequest(
        rich_menu_id=s.ctx["menu_linked"]))
    assert len(s.api.get_rich_menu_alias_list().aliases) == 2
    s.expect_status(400, s.api.create_rich_menu_alias, msg.CreateRichMenuAliasRequest(
        rich_menu_alias_id="linked-a", rich_menu_id=s.ctx["menu_linked"]))
    s.api.delete_rich_menu_alias("linked-b")
    s.expect_status(404, s.api.get_rich_menu_alias, "linked-b")
    menu = s.api.create_rich_menu(_rich_menu("switcher", switch_to="linked-a")).rich_menu_id
    s.blob.set_rich_menu_image(menu, png(2500, 1686), _headers={"Content-Type": "image/png"})
    s.api.link_rich_menu_id_to_user(s.aiko.user_id, menu)
    s.aiko.tap(100, 100)  # postback area: a postback webhook
    s.aiko.tap(2000, 100)  # richmenuswitch area: a postback webhook with params


@step("createAudienceGroup", "addAudienceToAudienceGroup", "getAudienceData",
      "getAudienceGroups", "updateAudienceGroupDescription", "deleteAudienceGroup", "narrowcast")
def audiences(s):
    created = s.audience.create_audience_group(aud.CreateAudienceGroupRequest(
        description="VIP 会員", audiences=[aud.Audience(id=s.aiko.user_id)],
        upload_description="first upload"))
    group = created.audience_group_id
    s.audience.add_audience_to_audience_group(aud.AddAudienceToAudienceGroupRequest(
        audience_group_id=group, audiences=[aud.Audience(id=s.ben.user_id)],
        upload_description="second upload"))
    s.emu.advance(600)
    s.audience.get_audience_data(group)
    s.audience.get_audience_groups(page=1)
    s.audience.get_audience_groups(page=1, status=aud.AudienceGroupStatus.READY, size=10)
    s.audience.update_audience_group_description(group, aud.UpdateAudienceGroupDescriptionRequest(
        description="VIP"))
    s.ctx["audience"] = group
    s.api.narrowcast(msg.NarrowcastRequest.from_dict({
        "messages": [{"type": "text", "text": "VIP"}],
        "recipient": {"type": "audience", "audienceGroupId": group}}))
    s.audience.delete_audience_group(group)
    s.expect_status(400, s.audience.get_audience_data, group)  # AUDIENCE_GROUP_NOT_FOUND


@step("createAudienceForUploadingUserIds", "addUserIdsToAudience", "getAudienceData")
def audiences_by_file(s):
    # The SDK uploads a file by its path (and names its type from the .txt suffix).
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp, "first.txt"), Path(tmp, "second.txt")
        first.write_text(f"{s.aiko.user_id}\n{s.ben.user_id}\n")
        second.write_text(f"{s.carol.user_id}\n")
        created = s.audience_blob.create_audience_for_uploading_user_ids(
            file=str(first), description="file upload", upload_description="first file")
        s.audience_blob.add_user_ids_to_audience(
            file=str(second), audience_group_id=created.audience_group_id,
            upload_description="second file")
    s.emu.advance(600)
    s.audience.get_audience_data(created.audience_group_id)


@step("getMessageEvent", "broadcast")
def insight_message_event(s):
    # LINE keeps interaction statistics for broadcast and narrowcast messages only.
    response = s.api.broadcast_with_http_info(msg.BroadcastRequest(messages=[text("計測")]))
    s.insight.get_message_event(response.headers["x-line-request-id"])


@step("pushMessage", "multicast")
def rate_limit_and_quota_errors(s):
    """429s: the documented rate-limit answer and the monthly quota answer."""
    limiter = s.emu.limiter
    saved = limiter.limit_for("multicast")
    limiter.set_limit("multicast", 0, 3600)
    try:
        s.expect_status(429, s.api.multicast, msg.MulticastRequest(
            to=[s.aiko.user_id], messages=[text()]), x_line_retry_key=str(uuid.uuid4()))
    finally:
        limiter.set_limit("multicast", *saved)
    s.emu.config.quota = 0
    try:
        s.expect_status(429, s.api.push_message, msg.PushMessageRequest(
            to=s.aiko.user_id, messages=[text()]))
    finally:
        s.emu.config.quota = None


@step()
def webhook_redelivery(s):
    """A redelivered body (deliveryContext.isRedelivery true) is still a CallbackRequest."""
    s.emu.config.redelivery = True
    s.sink.status = 500
    try:
        s.aiko.say("届いていますか")
    finally:
        s.sink.status = 200
    s.emu.advance(15)
    s.emu.config.redelivery = False
    redelivered = [e for e in s.sink.events if e["deliveryContext"]["isRedelivery"]]
    assert redelivered, "no redelivered event reached the bot"


# The other direction: what the specs reject, the emulator must reject -----------------------
def _wrong_type(value):
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 12345
    return "x"  # lists and objects


def _mutated(root, path, how):
    copy = json.loads(json.dumps(root))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if how == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = _wrong_type(parent[path[-1]])
    return copy


def invalid_variants(root, node=None, path=(), depth=0):
    """``(description, body)``: each member of ``root`` dropped, then given a wrong type."""
    node = root if node is None else node
    if depth > 6:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                  for p in path + (key,))
            yield f"{where} dropped", _mutated(root, path + (key,), "drop")
            if value is not None:
                yield f"{where} as {_wrong_type(value)!r}", _mutated(root, path + (key,), "type")
            yield from invalid_variants(root, value, path + (key,), depth + 1)
    elif isinstance(node, list) and node:
        yield from invalid_variants(root, node[0], path + (0,), depth + 1)


def send_invalid_variants(s, spec):
    """Send every spec-invalid variant of one valid request per operation; the emulator must
    answer 400 and leave the users' inboxes as they were."""
    problems, seen = [], set()
    samples = [x for x in list(s.middleware.exchanges)
               if x["checked"] and 200 <= x["status"] < 300 and isinstance(x["body"], dict)
               and x["endpoint"] not in seen and not seen.add(x["endpoint"])]
    s.emu.limiter.enabled = False  # a 429 would hide the answer under test
    try:
        for sample in samples:
            url = sample["path"] + (f"?{sample['query']}" if sample["query"] else "")
            for description, body in invalid_variants(sample["body"]):
                if not spec.validate_request(sample["method"], sample["path"], body,
                                             operation_id=sample["endpoint"]):
                    continue  # still valid per the specs (an optional member, say)
                inboxes = sum(len(user.inbox) for user in s.emu.users.values())
                answer = s.http(sample["method"], url, expect_invalid=True, json=body)
                s.ctx["invalid_sent"] = s.ctx.get("invalid_sent", 0) + 1
                after = sum(len(user.inbox) for user in s.emu.users.values())
                if 400 < answer.status_code < 500 and after == inboxes:
                    # A 404 that the valid request gets too: the resource is gone since.
                    original = s.http(sample["method"], url, json=sample["body"])
                    if original.status_code == answer.status_code:
                        continue
                if answer.status_code != 400 or after != inboxes:
                    problems.append(
                        f"{sample['endpoint']} with {description}: HTTP {answer.status_code}"
                        f"{' and messages were delivered' if after != inboxes else ''} "
                        f"{answer.text[:200]}")
    finally:
        s.emu.limiter.enabled = True
    return problems
