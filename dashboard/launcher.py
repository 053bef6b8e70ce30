"""The `sitroom` entry point. Serving commands run under gevent, patched before anything else.

gevent's monkey patching must happen before Flask, SQLAlchemy, the database drivers or anything
that imports `socket` or `threading` is imported; this module imports nothing else first.
"""

import sys

SERVING = {"serve", "demo"}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in SERVING:
        from gevent import monkey

        monkey.patch_all()
    from dashboard.cli import main as cli

    cli()
