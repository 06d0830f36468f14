"""``manage.py consent_records``: the ``python -m consentgate records`` commands (show,
export, stats, purge) on the store that ``CONSENTGATE["records"]`` names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand

from ....records import cli as records_cli
from ...conf import current


class Command(BaseCommand):
    help = "Show, export, count or purge the consent records (--help lists the commands)."

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand everything after the command's name to the records' own parser, so that
        ``--help`` and each command's options are theirs."""
        run(argv[2:], f"{os.path.basename(argv[0])} {argv[1]}")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("args", nargs="*", help="a records command and its options")

    def handle(self, *args: str, **options: Any) -> None:
        """For ``call_command("consent_records", "stats", "--since", "2026-01-01")``."""
        run(args, "consent_records")


def run(args: Sequence[str], prog: str) -> None:
    """Run a records command on the site's store; exit with its code when not 0."""
    settings = current().gate.settings
    code = records_cli.main(args, settings.records, settings.max_age_days, prog=prog)
    if code:
        raise SystemExit(code)
