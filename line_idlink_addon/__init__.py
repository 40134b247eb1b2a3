from . import controllers, lib, models, wizard
