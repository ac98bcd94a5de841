"""The city console: zones, shops, touchpoints and users of a city."""
