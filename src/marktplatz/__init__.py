"""Marktplatz: an open touchpoint platform that lets a city centre work as one marketplace."""

__version__ = "0.1.0"
