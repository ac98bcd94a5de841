"""Use cases of Marktplatz: the only code that writes; storage is reached through ports."""
