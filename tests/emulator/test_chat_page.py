"""The simulated user's chat page: the bot's messages (Flex link buttons as links a browser can
follow) and a box that sends the bot a text."""

import requests


def carousel(*orders):
    return {"type": "flex", "altText": "Your orders", "contents": {"type": "carousel", "contents": [
        {"type": "bubble",
         "body": {"type": "box", "layout": "vertical", "contents": [
             {"type": "text", "text": name}, {"type": "text", "text": "¥1,200"}]},
         "footer": {"type": "box", "layout": "vertical", "contents": [
             {"type": "button", "action": {"type": "uri", "label": "Details", "uri": url}},
             {"type": "button", "action": {"type": "postback", "label": "More",
                                           "data": "action=orders"}}]}}
        for name, url in orders]}}


def test_chat_page_shows_texts_and_flex_links(emulator_server, emu):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    pushed = requests.post(f"{emulator_server.base_url}/v2/bot/message/push", timeout=5, json={
        "to": aiko.user_id, "messages": [
            {"type": "text", "text": "Hello <Aiko>"},
            carousel(("S00001", "https://shop.example/my/orders/1?access_token=a&b=1"),
                     ("S00002", "line://nv/profile"))]},
        headers={"Authorization": f"Bearer {emu.config.access_token}"})
    assert pushed.status_code == 200, pushed.text
    page = requests.get(f"{emulator_server.base_url}/__emulator__/users/{aiko.user_id}/chat",
                        timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Hello &lt;Aiko&gt;" in page.text
    assert "<p>S00001</p>" in page.text and "<p>¥1,200</p>" in page.text
    assert ('<a class="le-button" href="https://shop.example/my/orders/1?access_token=a&amp;b=1">'
            'Details</a>') in page.text
    assert "line://" not in page.text, "only http(s) links are followed"
    assert "<span class=\"le-button\">Details</span>" in page.text
    assert '<span class="le-button">More</span>' in page.text


def test_chat_page_sends_a_text_and_comes_back(emulator_server, emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    url = f"{emulator_server.base_url}/__emulator__/users/{aiko.user_id}/chat"
    sent = requests.post(url, data={"text": " 注文履歴 "}, allow_redirects=False, timeout=5)
    assert sent.status_code == 303
    page = requests.get(emulator_server.base_url + sent.headers["Location"], timeout=5)
    assert '<div class="le-msg le-sent">注文履歴</div>' in page.text
    emu.flush()
    texts = [event["message"]["text"] for event in webhook_sink.events
             if event["type"] == "message"]
    assert texts == ["注文履歴"]

    empty = requests.post(url, data={"text": "  "}, allow_redirects=False, timeout=5)
    assert empty.status_code == 400
    unknown = requests.get(url.replace(aiko.user_id, "U" + "0" * 32), timeout=5)
    assert unknown.status_code == 404
