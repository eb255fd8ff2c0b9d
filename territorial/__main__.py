"""``python -m territorial``: the command-line interface."""

import os
import sys

from territorial.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # output piped into a reader that stopped early (``| head``)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
raise SystemExit(code)
