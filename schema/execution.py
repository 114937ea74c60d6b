"""A compiled completion path: plain objects are completed by a plan, not field by field.

graphql-core completes every field of every object through the same generic machinery (a
``Path``, a resolve info, the resolver, ``complete_value`` and its type tests, the leaf's
serialiser), which is most of the work of a page of tasks. An object whose selection holds only
plain leaves (each read by Strawberry's default resolver, ``getattr``, with no arguments and no
directive but @skip/@include) needs none of that: its response is a dict built from a plan of
``(response key, attribute, serialiser, non-null?)``, computed once per selection and kept with
the parsed operation (documents are cached by query text, so it serves every request).

Why the results are identical:
- The plan is built from graphql-core's own ``collect_subfields`` (fragments, aliases, repeated
  fields and @skip/@include already applied, for this operation's variables), in its order, and
  is looked up again only for the same field nodes and the same values of those variables.
- Each value is read as Strawberry's default resolver reads it and serialised by the very
  ``coerce_output_value`` graphql-core would call (for an enum member: what it answered for it).
- Whenever the generic path could do anything else (a null in a non-null field, a value that is
  an exception or awaitable, a serialiser that fails or answers null, a missing attribute), the
  plan gives up and graphql-core completes exactly the same value from the start, so every error,
  path and null is its own. The plan writes nothing before it succeeds; the generic path then
  reads the attributes again, which for plain attributes changes nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple, TypeGuard
from uuid import UUID

from graphql import (
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    GraphQLEnumType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.language import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    Node,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from graphql.type import get_nullable_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Serialiser = Callable[[Any], Any]

VALUE_TYPES: frozenset[type] = frozenset({str, int, float, bool, datetime, date, UUID})
"""Exact types whose values are never an exception nor awaitable: no need to test them."""
PLANS_PER_OPERATION = 256
"""Plans kept per operation: variables of @skip/@include multiply its selections."""
_CONDITIONS = frozenset({"skip", "include"})  # applied by collect_subfields, per operation
_COLLECTING = _CONDITIONS | {"defer", "stream"}  # their arguments decide what is collected


class LeafField(NamedTuple):
    """One entry of a plan: where a value comes from and how it is written."""

    key: str  # the response key: the alias, or the field's name
    attribute: str  # the attribute Strawberry's default resolver reads; for __typename, the name
    serialise: Serialiser | None  # None for __typename, whose value is the type's name
    non_null: bool
    enum: type | None = None  # the Python enum of an enum field: its members are plain values


class EnumNames:
    """An enum's serialiser, remembering what it answers for each member of its Python enum."""

    def __init__(self, coerce: Serialiser, members: type[Enum]) -> None:
        self.coerce = coerce
        self.members = members
        self.names: dict[Enum, Any] = {}
        for member in members:
            with suppress(Exception):  # a member it refuses is refused again, by the generic path
                self.names[member] = coerce(member)

    def __call__(self, value: Any) -> Any:
        return self.names[value] if type(value) is self.members else self.coerce(value)


def _answered(*_: Any) -> Any:
    raise RuntimeError("The operation has been answered: no field is resolved any more")


FINISHED = GraphQLResolveInfoHelpers(gather=_answered, track=_answered)
"""Resolve-info helpers of an executor that has answered (infos built before keep theirs)."""


class NotPlain(Exception):
    """The generic path must complete this value: it may answer a null or an error."""


class ObjectPlan(NamedTuple):
    """How to complete one object type for one selection of plain leaves."""

    fields: tuple[LeafField, ...]
    value_types: frozenset[type]  # VALUE_TYPES and the fields' enums

    def complete(self, source: Any, is_awaitable: Callable[[Any], bool]) -> dict[str, Any]:
        """The object's response, or NotPlain (or the exception raised) where it could differ."""
        data: dict[str, Any] = {}
        value_types = self.value_types
        for key, attribute, serialise, non_null, _ in self.fields:
            if serialise is None:
                data[key] = attribute
                continue
            value = getattr(source, attribute)
            if type(value) not in value_types:
                if value is None or value is Undefined:
                    if non_null:
                        raise NotPlain
                    data[key] = None
                    continue
                if isinstance(value, Exception) or is_awaitable(value):
                    raise NotPlain
            serialised = serialise(value)
            if serialised is None or serialised is Undefined:
                raise NotPlain
            data[key] = serialised
        return data

    def complete_list(self, items: list[Any], is_awaitable: Callable[[Any], bool], *,
                      non_null_items: bool) -> list[Any]:
        """Each item's response (a null item stays null where the list allows it)."""
        complete = self.complete
        completed: list[Any] = []
        append = completed.append
        for item in items:
            if item is None or item is Undefined:
                if non_null_items:
                    raise NotPlain
                append(None)
            elif isinstance(item, Exception) or is_awaitable(item):
                raise NotPlain
            else:
                append(complete(item, is_awaitable))
        return completed


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing objects of plain leaves by their plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # Middleware (an extension with a ``resolve`` hook) wraps every resolver, plain ones too.
        plain = manager is None or manager.get_field_resolver(getattr) is getattr
        self.plans = _plans_of(self.operation, self.fragment_definitions) if plain else None
        self.conditions: tuple[Any, ...] | None = None

    def complete_list_value(
        self, return_type: GraphQLList[GraphQLOutputType], field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any], path: Path, result: Any, position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        item_type = return_type.of_type
        non_null_items = is_non_null_type(item_type)
        object_type = get_nullable_type(item_type)
        if type(result) is list and is_object_type(object_type) and position_context is None:
            plan = self.plan(object_type, field_details_list)
            if plan is not None:
                try:
                    return plan.complete_list(result, self.is_awaitable,
                                              non_null_items=non_null_items)
                except Exception:  # noqa: S110 - the generic path answers it, errors included
                    pass
        return super().complete_list_value(return_type, field_details_list, info, path, result,
                                           position_context)

    def complete_object_value(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any], path: Path, result: Any, position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if position_context is None:
            plan = self.plan(return_type, field_details_list)
            if plan is not None:
                try:
                    return plan.complete(result, self.is_awaitable)
                except Exception:  # noqa: S110 - the generic path answers it, errors included
                    pass
        return super().complete_object_value(return_type, field_details_list, info, path, result,
                                             position_context)

    def build_response(self, data: dict[str, Any] | None
                       ) -> ExecutionResult | ExperimentalIncrementalExecutionResults:
        """The response; a final one also lets go of this executor's reference cycle.

        graphql-core's ``async_helpers`` holds bound methods of the executor, a cycle that only
        the garbage collector frees, with the whole request (context, loaders, rows) hanging
        from it. Resolve infos already built keep their own reference, and no field is resolved
        after the final response, so the executor drops its own.
        """
        response = super().build_response(data)
        if isinstance(response, ExecutionResult):
            self.async_helpers = FINISHED
        return response

    def plan(self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
             ) -> ObjectPlan | None:
        """The plan for this selection of ``object_type``, or None when it is not plain."""
        plans = self.plans
        if plans is None:
            return None
        if self.conditions is None:
            coerced = self.variable_values.coerced
            self.conditions = tuple(coerced.get(name) for name in plans.condition_variables)
        # What the collected selection depends on: the type, the field nodes (their ids are
        # unique while the operation lives) and the variables of @skip/@include/@defer.
        key = (object_type, self.conditions, *[id(d.node) for d in field_details_list])
        try:
            return plans.by_selection[key]
        except KeyError:
            plan = self._build_plan(object_type, field_details_list)
            if len(plans.by_selection) < PLANS_PER_OPERATION:
                plans.by_selection[key] = plan
            return plan

    def _build_plan(self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
                    ) -> ObjectPlan | None:
        if object_type.is_type_of is not None:
            return None
        if not all(_plain_node(d.node) and d.fragment_variable_values is None
                   for d in field_details_list):
            return None
        grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        fields: list[LeafField] = []
        for key, details in grouped_field_set.items():
            if not all(_plain_node(d.node) and not d.node.arguments
                       and d.fragment_variable_values is None and d.defer_usage is None
                       for d in details):
                return None
            leaf = _leaf_field(object_type, key, details[0].node.name.value)
            if leaf is None:
                return None
            fields.append(leaf)
        enums = {field.enum for field in fields if field.enum is not None}
        return ObjectPlan(tuple(fields), VALUE_TYPES | enums)


class OperationPlans:
    """The plans of one parsed operation, kept exactly as long as the operation is."""

    def __init__(self, operation: OperationDefinitionNode,
                 fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments  # alive with the plans: ids of their nodes are in the keys
        self.condition_variables = _condition_variables([operation, *fragments.values()])
        self.by_selection: dict[tuple[Any, ...], ObjectPlan | None] = {}


_OPERATIONS: dict[int, tuple[weakref.ref[OperationDefinitionNode], OperationPlans]] = {}


def _plans_of(operation: OperationDefinitionNode,
              fragments: dict[str, FragmentDefinitionNode]) -> OperationPlans:
    """The plans of ``operation``, shared by every request that runs its (cached) document."""
    key = id(operation)
    entry = _OPERATIONS.get(key)
    if entry is not None and entry[0]() is operation:
        return entry[1]

    def forget(ref: weakref.ref[OperationDefinitionNode]) -> None:
        if _OPERATIONS.get(key, (None,))[0] is ref:
            del _OPERATIONS[key]

    plans = OperationPlans(operation, fragments)
    _OPERATIONS[key] = (weakref.ref(operation, forget), plans)
    return plans


class _ConditionVariables(Visitor):
    """The variables in the arguments of the directives that decide which fields are collected."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)

    def enter_variable_definition(self, *_: Any) -> Any:
        return self.SKIP

    def enter_argument(self, node: Node, key: Any, parent: Any, path: Any,
                       ancestors: list[Any]) -> Any:
        directive = ancestors[-1] if ancestors else None
        if isinstance(directive, DirectiveNode) and directive.name.value in _COLLECTING:
            return None
        return self.SKIP  # a field's argument: it decides values, not which fields


def _condition_variables(definitions: list[Node]) -> tuple[str, ...]:
    """Variables of @skip, @include, @defer and @stream: they decide which fields are collected."""
    visitor = _ConditionVariables()
    for definition in definitions:
        visit(definition, visitor)
    return tuple(sorted(visitor.names))


def _plain_node(node: FieldNode) -> bool:
    """No directive that could change the field at run time (@skip/@include are applied)."""
    return all(d.name.value in _CONDITIONS for d in node.directives or ())


def _leaf_field(object_type: GraphQLObjectType, key: str, name: str) -> LeafField | None:
    """The plan's entry for field ``name``, or None unless a plain leaf read by ``getattr``."""
    if name == "__typename":
        return LeafField(key, object_type.name, None, non_null=True)
    field = object_type.fields.get(name)
    if field is None or field.args:
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not (isinstance(definition, StrawberryField) and definition.is_basic_field
            and definition.default_resolver is getattr):
        return None
    non_null = is_non_null_type(field.type)
    leaf_type = get_nullable_type(field.type)
    if not is_leaf_type(leaf_type):
        return None
    members = getattr(leaf_type, "wrapped_cls", None)  # Strawberry's enums: a Python enum
    if isinstance(leaf_type, GraphQLEnumType) and _plain_enum(members):
        names = EnumNames(leaf_type.coerce_output_value, members)
        return LeafField(key, definition.python_name, names, non_null, members)
    return LeafField(key, definition.python_name, leaf_type.coerce_output_value, non_null)


def _plain_enum(members: object) -> TypeGuard[type[Enum]]:
    """An enum whose members can be neither raised nor awaited."""
    return (isinstance(members, type) and issubclass(members, Enum)
            and not issubclass(members, BaseException) and not hasattr(members, "__await__"))

