"""The executable schema: one module-level instance to export, one per app with its limits."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.settings import Settings
from schema.documents import CheckedDocuments, DocumentChecks
from schema.errors import ErrorCodes
from schema.limits import Limits
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
    """The schema with the abuse limits and introspection switch of ``settings``.

    The checks are built once, not per request, so that a query seen before skips parsing,
    and validation too.
    """
    rules: tuple[type[ASTValidationRule], ...] = ()
    if not settings.introspection_enabled:
        rules = (NoSchemaIntrospectionCustomRule,)
    checks = DocumentChecks(limits=limits_of(settings), rules=rules,
                            hide_suggestions=not settings.introspection_enabled)
    extensions: list[Callable[[], Any]] = [
        partial(ErrorCodes, hide_suggestions=checks.hide_suggestions),
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(CheckedDocuments, checks),
    ]
    return build_schema(extensions)


def limits_of(settings: Settings) -> Limits:
    """The document limits ``settings`` sets."""
    return Limits(depth=settings.graphql_max_depth, aliases=settings.graphql_max_aliases,
                  selections=settings.graphql_max_selections, cost=settings.graphql_max_cost,
                  list_fields=settings.graphql_max_list_fields)


schema = build_schema()
"""The schema as exported to schema.graphql (limits do not change the SDL)."""


def sdl() -> str:
    """schema.graphql's content, exactly as ``strawberry export-schema`` writes it."""
    return print_schema(schema) + "\n"
