"""Run the `marktplatz` command with `python -m marktplatz`."""

from marktplatz.cli import main

main()
