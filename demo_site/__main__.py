"""Serve the demo site: ``python -m demo_site [--host HOST] [--port PORT] [--mode MODE]``.

Defaults to http://127.0.0.1:5000/ in opt-in mode; ``DEMO_HOST``, ``DEMO_PORT``
and ``DEMO_CONSENT_MODE`` change the defaults, the options override them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence

from . import create_app
from .settings import MODE_ENV


def parse_args(argv: Sequence[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    """Read ``--host``/``--port``, with defaults from the environment.

    :param argv: the arguments, without the program name (``None``: sys.argv).
    :param environ: where ``DEMO_HOST`` and ``DEMO_PORT`` are looked up.
    """
    parser = argparse.ArgumentParser(
        prog="python -m demo_site", description="Serve the Erasmus+ Key Action 2 demo site."
    )
    parser.add_argument(
        "--host",
        default=environ.get("DEMO_HOST", "127.0.0.1"),
        help="interface to listen on (default: $DEMO_HOST or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=port,
        default=environ.get("DEMO_PORT", "5000"),
        help="port to listen on (default: $DEMO_PORT or 5000)",
    )
    parser.add_argument(
        "--mode",
        choices=("opt-in", "opt-out"),
        default=environ.get(MODE_ENV) or "opt-in",
        help=f"consent mode: opt-in (EU, UK) or opt-out (US states) (default: ${MODE_ENV} or "
        "opt-in)",
    )
    return parser.parse_args(argv)


def port(value: str) -> int:
    """A TCP port number; argparse turns the ValueError into a usage error."""
    number = int(value)
    if not 0 < number < 65536:
        raise ValueError(value)
    return number


def main(argv: Sequence[str] | None = None) -> None:
    """Start the development server."""
    args = parse_args(argv, os.environ)
    create_app({"CONSENTGATE_MODE": args.mode}).run(host=args.host, port=args.port)


if __name__ == "__main__":
    main()
