"""Before execution: parse (cached), the abuse limits, then graphql-core's validation (cached).

The limits run first and alone: a document they refuse never reaches graphql-core's rules,
some of which grow faster than the document does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.limits import Limits, check_limits

CACHED_DOCUMENTS = 256
"""Distinct query texts whose parse and validation each process keeps (LRU)."""
CACHED_QUERY_LENGTH = 4096
"""Longer query texts are parsed and validated on every request, never kept."""
CACHED_TOTAL_LENGTH = 256 * 1024
"""Characters of query text kept in all (parsed, each takes about 50 bytes of memory)."""
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
"""The rules Strawberry adds to graphql-core's for its own types, as its validation does."""


@dataclass
class CheckedDocument:
    """A parsed document and what checking it found, filled in as the checks run."""

    document: DocumentNode
    limit_errors: list[GraphQLError] | None = None  # None: not run yet, or depends on variables
    validation_errors: list[GraphQLError] | None = None


@dataclass
class DocumentStore:
    """Checked documents by query text: least recently used first out, bounded in size."""

    max_documents: int = CACHED_DOCUMENTS
    max_query_length: int = CACHED_QUERY_LENGTH
    max_total_length: int = CACHED_TOTAL_LENGTH
    _entries: OrderedDict[str, CheckedDocument] = field(default_factory=OrderedDict)
    _total_length: int = 0

    def get(self, query: str) -> CheckedDocument | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def put(self, query: str, entry: CheckedDocument) -> None:
        """Keep ``entry`` unless its query is too long; evict the oldest to stay in bounds."""
        if len(query) > self.max_query_length or query in self._entries:
            return
        self._entries[query] = entry
        self._total_length += len(query)
        while (len(self._entries) > self.max_documents
               or self._total_length > self.max_total_length):
            oldest, _ = self._entries.popitem(last=False)
            self._total_length -= len(oldest)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_length(self) -> int:
        return self._total_length


@dataclass(frozen=True)
class DocumentChecks:
    """What every document is checked against, shared by all requests to one schema."""

    limits: Limits
    rules: tuple[type[ASTValidationRule], ...] = ()
    hide_suggestions: bool = False
    store: DocumentStore = field(default_factory=DocumentStore)


class CheckedDocuments(SchemaExtension):
    """Parse through the store, refuse documents over the limits, validate the others."""

    def __init__(self, checks: DocumentChecks) -> None:
        self.checks = checks
        self.entry: CheckedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query:
            self.entry = self.checks.store.get(query)
            if self.entry is None:
                # A syntax error is left to Strawberry's own parse, which reports it.
                with suppress(GraphQLError):
                    self.entry = CheckedDocument(parse(query, **context.parse_options))
                    self.checks.store.put(query, self.entry)
            if self.entry is not None:
                context.graphql_document = self.entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        entry = self.entry if self.entry is not None else CheckedDocument(document)
        errors = self._limit_errors(entry)
        if not errors:
            if entry.validation_errors is None:
                entry.validation_errors = validate(
                    context.schema._schema, document,
                    (*context.validation_rules, *self.checks.rules, *STRAWBERRY_RULES),
                    hide_suggestions=self.checks.hide_suggestions)
            errors = entry.validation_errors
        context.pre_execution_errors = errors
        yield

    def _limit_errors(self, entry: CheckedDocument) -> list[GraphQLError]:
        if entry.limit_errors is not None:
            return entry.limit_errors
        context = self.execution_context
        report = check_limits(context.schema._schema, entry.document, self.checks.limits,
                              context.variables)
        if not report.uses_variables:
            entry.limit_errors = report.errors
        return report.errors
