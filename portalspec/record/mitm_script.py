"""The script ``portalspec record`` gives mitmdump (the same as addons/record.py, inside the package)."""

from portalspec.record.addon import addons as _addons

addons = _addons()
