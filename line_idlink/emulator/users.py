"""Simulated LINE users (follow, block, talk, tap the rich menu, open the account-link dialog,
consent to LINE Login). OWNER NOTE: stub, to be completed by the users/webhooks work."""


class SimUser:
    def __init__(self, emu, user):
        self.emu = emu
        self.record = user

    @property
    def user_id(self):
        return self.record.user_id

    @property
    def inbox(self):
        return self.record.inbox
