"""The executable schema: one module-level instance to export, one per app with its limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.settings import Settings
from schema.errors import ErrorCodes
from schema.operations import Mutation, Query
from schema.scalars import SCALARS


class TodoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: ErrorCodes logs the unexpected errors and codes the others."""


def build_schema(extensions: list[Callable[[], SchemaExtension]] | None = None) -> TodoSchema:
    return TodoSchema(query=Query, mutation=Mutation, extensions=extensions or [],
                      config=StrawberryConfig(scalar_map=SCALARS))


def schema_for(settings: Settings) -> TodoSchema:
    """The schema with the abuse limits and introspection switch of ``settings``."""
    extensions: list[Callable[[], Any]] = [
        ErrorCodes,
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
    ]
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    return build_schema(extensions)


schema = build_schema()
"""The schema as exported to schema.graphql (limits do not change the SDL)."""


def sdl() -> str:
    """schema.graphql's content, exactly as ``strawberry export-schema`` writes it."""
    return print_schema(schema) + "\n"
