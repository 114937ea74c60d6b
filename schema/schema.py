"""The executable schema: one module-level instance to export, one per app with its limits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext

from schema.documents import CheckedDocuments, DocumentChecks
from schema.errors import ErrorCodes
from schema.execution import CompiledExecutor
from schema.limits import Limits
from schema.operations import Mutation, Query
from schema.scalars import SCALARS


class TodoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: ErrorCodes logs the unexpected errors and codes the others."""


class CachedNames(NameConverter):
    """Strawberry's camelCase names, remembered: it converts every argument of every field
    again on each request (23 us of ten aliased ``task(id:)`` fields)."""

    @functools.lru_cache(maxsize=1024)  # noqa: B019 (one converter per schema, kept forever)
    def apply_naming_config(self, name: str) -> str:
        return super().apply_naming_config(name)


def build_schema(extensions: list[Callable[[], SchemaExtension]] | None = None) -> TodoSchema:
    return TodoSchema(query=Query, mutation=Mutation, extensions=extensions or [],
                      execution_context_class=CompiledExecutor,
                      config=StrawberryConfig(scalar_map=SCALARS, name_converter=CachedNames()))


@functools.lru_cache(maxsize=4)
def schema_for(limits: Limits, *, max_tokens: int, introspection: bool) -> TodoSchema:
    """The schema refusing documents past ``limits`` or ``max_tokens`` lexical tokens.

    The checks are built once, not per request, so that a query seen before skips parsing,
    and validation too; and the schema once per process and configuration (building it takes
    longer than the rest of an app).
    """
    rules: tuple[type[ASTValidationRule], ...] = ()
    if not introspection:
        rules = (NoSchemaIntrospectionCustomRule,)
    checks = DocumentChecks(limits=limits, rules=rules, hide_suggestions=not introspection)
    extensions: list[Callable[[], Any]] = [
        partial(ErrorCodes, hide_suggestions=checks.hide_suggestions),
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        partial(CheckedDocuments, checks),
    ]
    return build_schema(extensions)


schema = build_schema()
"""The schema as exported to schema.graphql (limits do not change the SDL)."""


def sdl() -> str:
    """schema.graphql's content, exactly as ``strawberry export-schema`` writes it."""
    return print_schema(schema) + "\n"
