"""Sitroom: a shared common operating picture for crisis rooms."""

__version__ = "0.1.0"
