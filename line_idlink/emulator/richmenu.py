"""Rich menus: objects, images (api-data paths), default and per-user menus, bulk and batch
operations, aliases. OWNER NOTE: stub, to be completed by the rich-menu work."""


class RichMenuState:
    def __init__(self, emu):
        self.emu = emu

    def run_pending(self):
        pass
