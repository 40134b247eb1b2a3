"""The routes of the control API under ``/__emulator__``:
method, path, LINE's operationId, handler."""

from ...routing import Route
from . import chat, handlers

P = "/__emulator__"

ROUTES = [
    Route("POST", P + "/users", "controlCreateUser", handlers.create_user, auth="control"),
    Route("GET", P + "/users", "controlListUsers", handlers.list_users, auth="control"),
    Route("GET", P + "/users/<userId>", "controlGetUser", handlers.get_user, auth="control"),
    Route("GET", P + "/users/<userId>/inbox", "controlUserInbox",
          handlers.user_inbox, auth="control"),
    Route("GET", P + "/users/<userId>/richmenu", "controlUserRichMenu",
          handlers.user_rich_menu, auth="control"),
    Route("POST", P + "/users/<userId>/authorize", "controlAuthorize",
          handlers.authorize, auth="control", unlocked=True),
    Route("POST", P + "/flush", "controlFlush", handlers.flush, auth="control", unlocked=True),
    Route("GET", P + "/deliveries", "controlDeliveries", handlers.deliveries, auth="control"),
    Route("GET", P + "/clock", "controlClock", handlers.clock, auth="control"),
    Route("POST", P + "/clock/advance", "controlAdvanceClock",
          handlers.advance, auth="control", unlocked=True),
    Route("POST", P + "/faults", "controlAddFault", handlers.add_fault, auth="control"),
    Route("GET", P + "/faults", "controlListFaults", handlers.list_faults, auth="control"),
    Route("DELETE", P + "/faults", "controlClearFaults", handlers.clear_faults, auth="control"),
    Route("GET", P + "/requests", "controlRequestLog", handlers.request_log, auth="control"),
    Route("GET", P + "/info", "emulatorInfo", handlers.info, auth="control"),
    Route("POST", P + "/config", "controlConfig", handlers.set_config, auth="control"),
    # A user acts (webhooks in sync mode are delivered before the answer)
    Route("POST", P + "/users/<userId>/follow", "controlFollow", handlers.follow,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/block", "controlBlock", handlers.block,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/unblock", "controlUnblock", handlers.unblock,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/messages", "controlSay", handlers.say,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/postback", "controlPostback", handlers.postback,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/tap", "controlTap", handlers.tap,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/open-url", "controlOpenUrl", handlers.open_url,
          auth="control", unlocked=True),
    Route("POST", P + "/users/<userId>/account-link", "controlAccountLink",
          handlers.account_link, auth="control", unlocked=True),
    # The user's chat as a browser page: the bot's messages, and a box to send it a text
    Route("GET", P + "/users/<userId>/chat", "controlChatPage", chat.chat_page, auth="control"),
    Route("POST", P + "/users/<userId>/chat", "controlChatSend", chat.chat_send,
          auth="control", unlocked=True),
]
