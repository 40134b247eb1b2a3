from . import main, portal, login
