from . import models, controllers
