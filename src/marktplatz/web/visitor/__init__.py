"""Visitor pages: the city's start page and shop pages."""
