"""Mimamori's composition root: the ``mimamori`` command line."""
