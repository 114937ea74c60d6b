"""Who is calling: the user a verified token speaks for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    email: str | None = None
    name: str | None = None
