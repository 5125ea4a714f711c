"""mitmproxy script: record redacted portal fixtures with portalspec.

    mitmdump -s addons/record.py --set portalspec_out=captures/NAME --set portalspec_specs=DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # a checkout without install

from portalspec.record.addon import addons as _addons  # noqa: E402

addons = _addons()
