"""Pure rules and value objects of Marktplatz: no I/O, no frameworks."""
