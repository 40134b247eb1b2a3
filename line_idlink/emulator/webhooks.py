"""Signed webhook delivery (sync, queued, background), attempt log and redelivery.
OWNER NOTE: stub, to be completed by the users/webhooks work."""


class WebhookDispatcher:
    def __init__(self, emu, mode="sync"):
        self.emu = emu
        self.mode = mode
        self.deliveries = []

    def run_pending(self):
        pass

    def flush(self):
        return []

    def stop(self):
        pass
