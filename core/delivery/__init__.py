"""The delivery engine: the outbox, rendering, the transport protocol, and the worker."""
