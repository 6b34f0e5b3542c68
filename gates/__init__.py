"""The gate worker: a tag reader and a camera at an entrance, a spool, and the uplink to the centre."""

__version__ = "0.1.0"
