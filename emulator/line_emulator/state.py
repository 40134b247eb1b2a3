"""Plain records the emulator keeps: the channel pair (Messaging API + LINE Login) and users.

One emulator instance is one LINE *provider* with one Messaging API channel and one LINE Login
channel, so a user has the same userId on both (as on LINE under one provider). Run several
instances for several channels.
"""

from dataclasses import dataclass, field


@dataclass
class ChannelConfig:
    channel_id: str
    channel_secret: str
    access_token: str
    bot_user_id: str  # the webhook `destination`
    login_channel_id: str
    login_channel_secret: str
    liff_id: str
    webhook_url: str = None
    webhook_enabled: bool = True
    redelivery: bool = False  # LINE's "Webhook redelivery" console switch
    login_callback_urls: list = field(default_factory=list)  # empty: any http(s) URL is accepted
    quota: int = None  # monthly message quota; None is LINE's quota type "none"

    def public(self, base_url=None):
        """What the CLI prints and what a client needs to talk to this emulator."""
        data = {
            "channel_id": self.channel_id,
            "channel_secret": self.channel_secret,
            "access_token": self.access_token,
            "bot_user_id": self.bot_user_id,
            "login_channel_id": self.login_channel_id,
            "login_channel_secret": self.login_channel_secret,
            "liff_id": self.liff_id,
        }
        if base_url is not None:
            data = {"base_url": base_url, **data}
        return data


FRIEND, BLOCKED, STRANGER = "friend", "blocked", "none"


@dataclass
class User:
    user_id: str
    display_name: str
    language: str = "ja"
    picture_url: str = None
    status_message: str = None
    friendship: str = STRANGER  # "none" (never added), "friend", "blocked"
    ever_followed: bool = False
    inbox: list = field(default_factory=list)  # {"api", "message", "requestId", "messageId", "timestamp"}
    rich_menu_id: str = None  # per-user rich menu link (None: the default menu applies)
    last_message_at: float = None  # 1:1 message time, for push to non-friends (7 days)

    @property
    def is_friend(self):
        return self.friendship == FRIEND

    def profile(self):
        data = {"displayName": self.display_name, "userId": self.user_id, "language": self.language}
        if self.picture_url:
            data["pictureUrl"] = self.picture_url
        if self.status_message:
            data["statusMessage"] = self.status_message
        return data
