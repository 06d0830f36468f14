"""``python -m consentgate COMMAND``: the site owner's commands.

Each command lives in its own module, which provides ``add_parser(subparsers)``; the
parser it adds sets ``run`` (a function of the parsed arguments returning the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Modules that each add one command.
COMMANDS: tuple[str, ...] = ("consentgate.records.cli", "consentgate.scan.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command it names; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m consentgate")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        importlib.import_module(module).add_parser(commands)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
