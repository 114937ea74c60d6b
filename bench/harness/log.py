"""Progress lines on standard error (the table goes to standard output)."""

from __future__ import annotations

import datetime as dt
import sys


def log(message: str) -> None:
    """Print ``message`` to standard error with the UTC time."""
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)
