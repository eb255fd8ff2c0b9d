"""``python -m territorial``: the command-line interface."""

from territorial.cli import main

raise SystemExit(main())
