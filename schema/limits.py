"""Abuse limits on a GraphQL document, checked in one linear pass before any other rule runs.

Each fragment is measured once, and that measure is reused wherever the fragment is spread,
so the work is linear in the document however far its fragments would expand. Passing these
limits also bounds what graphql-core's own rules do next: their work grows with the document
once its fragments are expanded (capped by ``selections``), and OverlappingFieldsCanBeMerged
compares every pair of fields that share a response key (capped by ``merged``).

How a document is counted:

- depth: how deeply fields nest in an operation (top-level fields are 0; introspection fields
  and what they select do not count);
- aliases and selections (fields, fragment spreads, inline fragments): over the whole document
  with every fragment spread replaced by the fragment's selections;
- cost: a field with a ``first`` argument returns up to ``first`` nodes (its default when not
  given) and what it selects counts once per node; a field with an ``id`` argument fetches one
  node; an operation's cost is the sum;
- list fields: the fields with a ``first`` argument in an operation, fragments expanded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

CEILING = 10**18
"""Counts stop growing here: far past every limit, and cheap to add and multiply."""
DEFAULT_FIRST = 50
"""Nodes counted for a list field whose ``first`` has no default in the schema."""
MERGED_SELECTIONS = 20
"""Most fields sharing one response key, or fragments spread, in one merged selection set."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The most a document may ask for before it is refused."""

    depth: int
    aliases: int
    selections: int
    cost: int
    list_fields: int
    merged: int = MERGED_SELECTIONS


@dataclass(frozen=True, slots=True)
class Measure:
    """A selection set once its fragments are expanded: its depth, counts and cost."""

    depth: int = 0
    aliases: int = 0
    selections: int = 0
    cost: int = 0
    list_fields: int = 0


EMPTY = Measure()


@dataclass(frozen=True, slots=True)
class LimitReport:
    """The limits a document exceeds, and whether that depends on the request's variables."""

    errors: list[GraphQLError]
    uses_variables: bool


def check_limits(schema: GraphQLSchema, document: DocumentNode, limits: Limits,
                 variables: Mapping[str, Any] | None = None) -> LimitReport:
    """Every limit ``document`` exceeds (one error per limit at most); none when within all."""
    measurer = _Measurer(schema, document, variables or {})
    errors = list(_measure_errors(measurer, limits))
    if not errors:  # only now is the expanded document known to be small enough to walk
        errors.extend(_crowded(measurer, limits.merged))
    return LimitReport(errors, measurer.uses_variables)


def _measure_errors(measurer: _Measurer, limits: Limits) -> Iterator[GraphQLError]:
    operations = [(op, measurer.operation(op)) for op in measurer.operations]
    if over := _first_over(operations, "depth", limits.depth):
        name, _, node = over
        yield GraphQLError(f"'{name}' exceeds maximum operation depth of {limits.depth}", node)
    if over := _first_over(operations, "cost", limits.cost):
        name, cost, node = over
        yield GraphQLError(f"'{name}' may return {_count(cost)} nodes (each list counts its "
                           f"first, multiplied through nesting). Allowed: {limits.cost}", node)
    if over := _first_over(operations, "list_fields", limits.list_fields):
        name, lists, node = over
        yield GraphQLError(f"'{name}' selects {_count(lists)} lists. "
                           f"Allowed: {limits.list_fields}", node)
    counted = [measure for _, measure in operations] + measurer.unused_measures()
    aliases = min(sum(m.aliases for m in counted), CEILING)
    if aliases > limits.aliases:
        yield GraphQLError(f"{_count(aliases)} aliases found. Allowed: {limits.aliases}")
    selections = min(sum(m.selections for m in counted), CEILING)
    if selections > limits.selections:
        yield GraphQLError(f"{_count(selections)} selections found once fragments are "
                           f"expanded. Allowed: {limits.selections}")


def _first_over(operations: list[tuple[OperationDefinitionNode, Measure]], attribute: str,
                limit: int) -> tuple[str, int, OperationDefinitionNode] | None:
    """The first operation whose ``attribute`` is over ``limit``: its name and that amount."""
    for operation, measure in operations:
        amount: int = getattr(measure, attribute)
        if amount > limit:
            return (operation.name.value if operation.name else "anonymous"), amount, operation
    return None


def _count(value: int) -> str:
    return f"more than {CEILING - 1}" if value >= CEILING else str(value)


class _Measurer:
    """Measures a document's operations, each fragment once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.operations = [d for d in document.definitions
                           if isinstance(d, OperationDefinitionNode)]
        definitions = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        self.fragments = {d.name.value: d for d in definitions}  # the last one wins
        self.spreads = {name: list(_spreads(f.selection_set)) for name, f in self.fragments.items()}
        # Fragments no operation spreads, and shadowed duplicates: graphql-core's rules still
        # go through them, so the limits count them too.
        used = self.reachable([op.selection_set for op in self.operations])
        self.unused = [d for d in definitions
                       if d.name.value not in used or self.fragments[d.name.value] is not d]
        self.defaults = _variable_defaults(self.operations)
        self.uses_variables = False
        self.memo: dict[str, Measure] = {}
        for name in _dependency_order(self.spreads):
            self.memo[name] = self.definition(self.fragments[name])

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(OperationType(operation.operation))
        return self.selection_set(operation.selection_set, root)

    def definition(self, fragment: FragmentDefinitionNode) -> Measure:
        condition = self.schema.get_type(fragment.type_condition.name.value)
        return self.selection_set(fragment.selection_set, condition)

    def unused_measures(self) -> list[Measure]:
        return [self.memo[d.name.value] if self.fragments[d.name.value] is d
                else self.definition(d) for d in self.unused]

    def reachable(self, roots: list[SelectionSetNode]) -> set[str]:
        """Names of the fragments spread from ``roots``, directly or through other fragments."""
        reached: set[str] = set()
        pending = [name for root in roots for name in _spreads(root)]
        while pending:
            name = pending.pop()
            if name not in reached and name in self.fragments:
                reached.add(name)
                pending.extend(self.spreads[name])
        return reached

    def selection_set(self, selection_set: SelectionSetNode,
                      parent: GraphQLNamedType | None) -> Measure:
        depth = aliases = selections = cost = list_fields = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.selection_set(
                    selection.selection_set,
                    self.schema.get_type(condition.name.value) if condition else parent)
                measure = replace(inner, selections=inner.selections + 1)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                spread = self.memo.get(selection.name.value, EMPTY)  # unknown, or a cycle
                measure = replace(spread, selections=spread.selections + 1)
            depth = max(depth, measure.depth)
            aliases += measure.aliases
            selections += measure.selections
            cost += measure.cost
            list_fields += measure.list_fields
        return Measure(depth, min(aliases, CEILING), min(selections, CEILING),
                       min(cost, CEILING), min(list_fields, CEILING))

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = _field_definition(parent, node.name.value)
        inner = EMPTY
        if node.selection_set is not None:
            returns = get_named_type(definition.type) if definition else None
            inner = self.selection_set(node.selection_set, returns)
        nested = node.selection_set is not None and not node.name.value.startswith("__")
        cost, list_fields = inner.cost, inner.list_fields
        if definition is not None and "first" in definition.args:
            first = self.first(node, definition)
            cost, list_fields = first + first * cost, list_fields + 1
        elif definition is not None and "id" in definition.args:
            cost += 1
        return Measure(depth=1 + inner.depth if nested else 0,
                       aliases=inner.aliases + (node.alias is not None),
                       selections=min(inner.selections + 1, CEILING),
                       cost=min(cost, CEILING), list_fields=min(list_fields, CEILING))

    def first(self, node: FieldNode, definition: GraphQLField) -> int:
        """The ``first`` a list field was given: a literal, a variable, or its default."""
        default = definition.args["first"].default_value
        value = default if _is_int(default) else DEFAULT_FIRST
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = _int_literal(argument.value)
            elif isinstance(argument.value, VariableNode):
                self.uses_variables = True
                name = argument.value.name.value
                given = self.variables.get(name)
                value = given if _is_int(given) else self.defaults.get(name, value)
        return min(max(value, 0), CEILING)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_literal(node: IntValueNode) -> int:
    """The literal's value; huge literals are not converted (that costs time per digit)."""
    return int(node.value) if len(node.value) < len(str(CEILING)) else CEILING


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None


def _variable_defaults(operations: list[OperationDefinitionNode]) -> dict[str, int]:
    """The largest integer default each variable name has in any operation."""
    defaults: dict[str, int] = {}
    for operation in operations:
        for definition in operation.variable_definitions or ():
            if isinstance(definition.default_value, IntValueNode):
                name = definition.variable.name.value
                value = _int_literal(definition.default_value)
                defaults[name] = max(defaults.get(name, value), value)
    return defaults


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread in ``selection_set`` and below (not through fragments)."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


def _dependency_order(spreads: dict[str, list[str]]) -> list[str]:
    """Fragment names, each after the fragments it spreads; a spread closing a cycle is cut."""
    order: list[str] = []
    done: set[str] = set()
    for root in spreads:
        if root in done:
            continue
        path = [(root, iter(spreads[root]))]
        on_path = {root}
        while path:
            name, pending = path[-1]
            for spread in pending:
                if spread in spreads and spread not in done and spread not in on_path:
                    path.append((spread, iter(spreads[spread])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
    return order


def _crowded(measurer: _Measurer, most: int) -> Iterator[GraphQLError]:
    """An error when a merged selection set has too many fields on one key, or fragments.

    Fields that share a response key merge into one result and their selections merge in
    turn; each merged selection set is walked once, each fragment once per set.
    """
    groups = [[op.selection_set] for op in measurer.operations]
    groups += [[d.selection_set] for d in measurer.unused]
    while groups:
        fields: dict[str, list[FieldNode]] = {}
        spread: set[str] = set()
        pending = groups.pop()
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    same_key = fields.setdefault(key, [])
                    same_key.append(selection)
                    if len(same_key) > most:
                        yield GraphQLError(f"'{key}' is selected more than {most} times in one "
                                           "selection set", selection)
                        return
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode) and (
                        selection.name.value not in spread):
                    spread.add(selection.name.value)
                    if len(spread) > most:
                        yield GraphQLError(f"More than {most} fragments are spread into one "
                                           "selection set", selection)
                        return
                    fragment = measurer.fragments.get(selection.name.value)
                    if fragment is not None:
                        pending.append(fragment.selection_set)
        for same_key in fields.values():
            selection_sets = [f.selection_set for f in same_key if f.selection_set is not None]
            if selection_sets:
                groups.append(selection_sets)
