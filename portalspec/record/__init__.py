"""Recording through mitmproxy: the addons and the ``portalspec record`` command."""
