"""The LINE channel: the conversation spoken through the /hooks/line webhook (adapter) and the notices pushed or multicast (transport)."""
