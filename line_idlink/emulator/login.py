"""LINE Login v2.1 provider (authorize, token, verify, profile, userinfo, friendship, revoke,
deauthorize, JWKS). OWNER NOTE: stub, to be completed by the LINE Login work."""


class LoginState:
    def __init__(self, emu):
        self.emu = emu

    def user_for_access_token(self, token):
        return None
