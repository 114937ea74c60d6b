"""The executable schema: one module-level instance to export, one per app with its limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.operations import Mutation, Query
from schema.scalars import SCALARS

CACHED_DOCUMENTS = 256
"""Distinct query texts whose parse and validation each process keeps (LRU, bounded)."""


@dataclass(frozen=True)
class Limits:
    """What an operation may ask for before it is refused, and whether introspection is on."""

    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    introspection: bool = True


class TodoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: ErrorCodes logs the unexpected errors and codes the others."""


class DocumentCache(ParserCache):
    """ParserCache that leaves syntax errors to Strawberry's own parse, which reports them."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options)
        yield


def build_schema(extensions: list[Callable[[], SchemaExtension]] | None = None) -> TodoSchema:
    return TodoSchema(query=Query, mutation=Mutation, extensions=extensions or [],
                      config=StrawberryConfig(scalar_map=SCALARS))


def schema_for(limits: Limits) -> TodoSchema:
    """The schema enforcing ``limits``.

    The limit rules are built once, not per request, so that a query seen before skips both
    parsing and validation (the caches key on the document and the rule classes).
    """
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], Any]] = [
        ErrorCodes,
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(AddValidationRules, rules),
        partial(DocumentCache, maxsize=CACHED_DOCUMENTS),
        partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
    ]
    return build_schema(extensions)


schema = build_schema()
"""The schema as exported to schema.graphql (limits do not change the SDL)."""


def sdl() -> str:
    """schema.graphql's content, exactly as ``strawberry export-schema`` writes it."""
    return print_schema(schema) + "\n"
