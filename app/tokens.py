"""Development tokens signed with the configured shared secret (CLI banner, GraphiQL)."""

from __future__ import annotations

from app.settings import ConfigError, Settings
from auth.verifier import mint_token

DEMO_USER = "demo-user"
DEMO_EMAIL = "demo@example.com"
DEMO_NAME = "Demo User"
DAY_SECONDS = 24 * 3600


def mint_dev_token(settings: Settings, user_id: str, *, email: str | None = None,
                   name: str | None = None, ttl: int = DAY_SECONDS) -> str:
    """An HS256 token for ``user_id`` that this service accepts (issuer/audience included)."""
    if settings.better_auth_secret is None:
        raise ConfigError("BETTER_AUTH_SECRET is needed to mint tokens")
    claims = {k: v for k, v in {"email": email, "name": name}.items() if v}
    issuer_claims = {k: v for k, v in {"iss": settings.issuer, "aud": settings.audience}.items()
                     if v}
    return mint_token(settings.better_auth_secret.get_secret_value(), user_id, ttl_seconds=ttl,
                      **claims, **issuer_claims)


def demo_token(settings: Settings) -> str | None:
    """The demo user's token in development (None in production or without a shared secret)."""
    if settings.is_production or settings.better_auth_secret is None:
        return None
    return mint_dev_token(settings, DEMO_USER, email=DEMO_EMAIL, name=DEMO_NAME)
