"""/openapi.json tells the truth: real responses of every REST operation validate against it."""

from __future__ import annotations

import importlib
import json
import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import example as explicit_example
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from resolvers.domain import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH
from resolvers.errors import ValidationFailed
from resolvers.inputs import CompletionRequest, NewTask, TaskChanges, parse
from rest_compat.openapi import install_openapi, json_body
from tests.support import ALICE, BOB, auth, make_task

pytestmark = pytest.mark.anyio

SPEC = "urn:todo-api:openapi"
# Statuses every operation documents but no single request here can cause; each is reached by
# the test named (rate limiting and outages happen before or below the surface, the same for all
# eighteen operations), or, for 500, by nothing: that no input reaches it is what the fuzzers
# (test_fuzz_rest, test_hostile_inputs) check, and its body is the published example.
REACHED_ELSEWHERE = {
    "429": ("tests.test_operations", "test_list_tasks_over_user_budget_is_429_with_headers"),
    "503": ("tests.test_operations", "test_unreachable_database_is_503_with_retry_after"),
    "500": ("tests.test_openapi", "test_examples_validate_against_their_schemas"),
    "409": ("tests.test_task_limit", "test_creating_one_more_than_the_limit_is_409_on_every_door"),
}
UNTRIGGERABLE = set(REACHED_ELSEWHERE)
SURFACE_PREFIXES = ("/api/{user_id}/tasks", "/api/v1/{user_id}/tasks", "/api/tasks")
TAGS = ["Tasks", "Tasks, user from the token", "Tasks v1 (envelope)", "Health"]
# Each REST family's tag, operation id suffix, error schema and validation status.
FAMILIES = {
    "Tasks": ("", "ErrorBody", "400"),
    "Tasks, user from the token": ("FromToken", "ErrorBody", "422"),
    "Tasks v1 (envelope)": ("V1", "ErrorEnvelope", "422"),
}
ERASURE = "/api/{user_id}"
TOO_LARGE = b'{"title": "big", "description": "' + b"x" * (1024 * 1024) + b'"}'


class Published:
    """The document served at /openapi.json, and checks of real responses against it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(SPEC, resource)

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(template, method, operation)
                for template, methods in self.document["paths"].items()
                if template.startswith(SURFACE_PREFIXES) or template == ERASURE
                for method, operation in methods.items()]

    def validate(self, instance: Any, pointer: str) -> None:
        """``instance`` is valid against the schema at ``pointer`` in the document."""
        validator = Draft202012Validator({"$ref": f"{SPEC}#{pointer}"}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        validator.validate(instance)

    def accepts(self, instance: Any, template: str, method: str) -> bool:
        """``instance`` is valid against the operation's request body schema."""
        path = template.replace("~", "~0").replace("/", "~1")
        validator = Draft202012Validator(
            {"$ref": f"{SPEC}#/paths/{path}/{method}/requestBody/content/application~1json/schema"},
            registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return bool(validator.is_valid(instance))

    def check(self, template: str, method: str, response: httpx.Response) -> None:
        """The response's status is documented for the operation, and its body has that schema."""
        responses = self.document["paths"][template][method]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method} {template} answered undocumented {status}"
        documented = responses[status]
        for name, header in documented.get("headers", {}).items():
            if header.get("required"):
                assert name.lower() in response.headers, (method, template, name)
        if "content" not in documented:
            assert response.content == b""
            return
        path = template.replace("~", "~0").replace("/", "~1")
        self.validate(response.json(),
                      f"/paths/{path}/{method}/responses/{status}/content/application~1json/schema")


@pytest.fixture
async def published(client: httpx.AsyncClient) -> Published:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return Published(response.json())


# ---------------------------------------------------------------- the document itself


async def test_every_operation_has_tag_id_security_and_error_responses(published: Published):
    operations = published.operations()
    assert len(operations) == 19  # six operations on each of surfaces A, B and C; erasure
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(set(ids)) == len(ids)
    for template, method, operation in operations:
        assert len(operation["tags"]) == 1, (method, template)
        assert operation["security"] == [{"bearerAuth": []}]
        assert operation["summary"]
        statuses = set(operation["responses"])
        assert {"401", "429", "500", "503"} <= statuses, (method, template)
        assert any(s.startswith("2") for s in statuses)
        if "{user_id}" in template:
            assert "403" in statuses
        if "{task_id}" in template:
            assert "404" in statuses
    tags = {operation["tags"][0] for *_, operation in operations}
    assert tags == set(FAMILIES)


async def test_operation_ids_say_what_they_do_and_which_family(published: Published):
    ids = {(operation["tags"][0], operation["operationId"])
           for *_, operation in published.operations()}
    verbs = ("listTasks", "createTask", "getTask", "updateTask", "deleteTask")
    expected = {(tag, f"{verb}{suffix}") for tag, (suffix, *_) in FAMILIES.items()
                for verb in (*verbs, "toggleTask" if suffix == "V1" else "completeTask")}
    assert ids == expected | {("Tasks", "eraseMyData")}
    health = published.document["paths"]
    assert (health["/health"]["get"]["operationId"], health["/ready"]["get"]["operationId"]) == (
        "getHealth", "getReadiness")


async def test_tags_are_described_primary_first(published: Published):
    tags = published.document["tags"]
    assert [tag["name"] for tag in tags] == TAGS
    assert all(len(tag["description"]) > 80 for tag in tags)
    used = {tag for methods in published.document["paths"].values()
            for operation in methods.values() for tag in operation["tags"]}
    assert used == set(TAGS)


async def test_public_text_speaks_the_users_words(published: Published):
    text = json.dumps(published.document)
    assert not re.search(r"surfaces? [ABC]\b|seed \d|section \d", text, re.IGNORECASE)
    assert published.document["info"]["summary"]


async def test_request_bodies_are_named_component_schemas(published: Published):
    bodies = {operation["operationId"]: operation["requestBody"]
              for *_, operation in published.operations() if "requestBody" in operation}
    names = {operation_id: body["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]
             for operation_id, body in bodies.items()}
    assert names == {
        "createTask": "TaskCreate", "createTaskFromToken": "TaskCreate",
        "updateTask": "TaskUpdate", "updateTaskFromToken": "TaskUpdate",
        "completeTask": "TaskCompletion", "completeTaskFromToken": "TaskCompletion",
        "createTaskV1": "TaskCreateV1", "updateTaskV1": "TaskUpdateV1",
    }
    schemas = published.document["components"]["schemas"]
    for name in set(names.values()):
        assert schemas[name]["title"] == name
        assert schemas[name]["description"]
    assert not bodies["completeTask"]["required"]
    assert schemas["TaskCreate"]["properties"]["status"]["anyOf"][0] == {
        "$ref": "#/components/schemas/TaskStatus"}
    assert "x-schemas" not in json.dumps(published.document)


def test_two_different_bodies_under_one_name_are_refused():
    app = FastAPI()

    @app.post("/a", openapi_extra=json_body("Body", NewTask, {"title": "x"}))
    async def first() -> None: ...

    @app.post("/b", openapi_extra=json_body("Body", CompletionRequest, {}))
    async def second() -> None: ...

    install_openapi(app)
    with pytest.raises(ValueError, match="two different schemas are published as 'Body'"):
        app.openapi()


async def test_security_scheme_is_bearer_jwt_and_health_stays_open(published: Published):
    schemes = published.document["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                      "description": schemes["bearerAuth"]["description"]}}
    for path in ("/health", "/ready"):
        assert "security" not in published.document["paths"][path]["get"]


async def test_error_responses_use_each_familys_schema(published: Published):
    for _, _, operation in published.operations():
        _, error_schema, validation = FAMILIES[operation["tags"][0]]
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{error_schema}"}
                assert response["content"]["application/json"]["example"]["code"]
        wrong = {"400", "422"} - {validation}
        if operation["operationId"] == "createTask":  # an Idempotency-Key sent with another body
            wrong.remove("422")
            reused = operation["responses"]["422"]["content"]["application/json"]["example"]
            assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert not wrong & set(operation["responses"]), operation["operationId"]
    assert "HTTPValidationError" not in published.document["components"]["schemas"]


async def test_examples_validate_against_their_schemas(published: Published):
    for template, method, operation in published.operations():
        path = f"/paths/{template.replace('/', '~1')}/{method}"
        if "requestBody" in operation:
            media = operation["requestBody"]["content"]["application/json"]
            published.validate(media["example"], f"{path}/requestBody/content/application~1json"
                                                 "/schema")
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json", {})
            if "example" in media:
                published.validate(media["example"],
                                   f"{path}/responses/{status}/content/application~1json/schema")
    task_schema = published.document["components"]["schemas"]["Task"]
    for example in task_schema["examples"]:
        published.validate(example, "/components/schemas/Task")


async def test_docs_page_is_served_offline(client: httpx.AsyncClient):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
    assert "cdn" not in response.text.lower()


# ---------------------------------------------------------------- real responses


def _validation_trigger(template: str, method: str, operation: dict[str, Any]
                        ) -> dict[str, Any]:
    """A request the operation answers with its validation status, read from its parameters."""
    parameters = {p["name"]: p for p in operation.get("parameters", [])}
    if template == ERASURE:
        return {"user_id": "u" * (parameters["user_id"]["schema"]["maxLength"] + 1)}
    if parameters.get("task_id", {}).get("schema", {}).get("format") == "uuid":
        return {"task_id": "not-a-uuid"}
    if method in ("post", "put"):
        return {"json": {"title": ""}}
    if method == "patch":
        return {"json": {"completed": "yes"}}
    assert "{task_id}" not in template, (method, template)  # no query, no body: nothing to fail
    return {"query": "?limit=0"}


async def _call(client: httpx.AsyncClient, template: str, method: str, *, user_id: str = ALICE,
                task_id: str | None = None, token_user: str | None = ALICE, query: str = "",
                **kwargs: Any) -> httpx.Response:
    if task_id is None and "{task_id}" in template:
        task_id = (await make_task(client, ALICE))["id"]
    url = template.replace("{user_id}", user_id).replace("{task_id}", task_id or "") + query
    headers = {**(auth(token_user) if token_user else {}), **kwargs.pop("headers", {})}
    if method in ("post", "put") and "json" not in kwargs and "content" not in kwargs:
        kwargs["json"] = {"title": "valid"}
    return await client.request(method.upper(), url, headers=headers, **kwargs)


async def _trigger(client: httpx.AsyncClient, template: str, method: str,
                   operation: dict[str, Any], status: str) -> httpx.Response:
    """A real request that the operation answers with ``status``."""
    match status:
        case "401":
            return await _call(client, template, method, token_user=None)
        case "403":
            return await _call(client, template, method, user_id=BOB)
        case "404":
            return await _call(client, template, method, task_id=str(uuid.uuid4()))
        case "422" if method == "post" and template.startswith("/api/{user_id}/tasks"):
            key = {"headers": {"Idempotency-Key": str(uuid.uuid4())}}
            await _call(client, template, method, json={"title": "first"}, **key)
            return await _call(client, template, method, json={"title": "second"}, **key)
        case "400" | "422":
            trigger = _validation_trigger(template, method, operation)
            return await _call(client, template, method, **trigger)
        case "304":
            first = await _call(client, template, method)
            return await _call(client, template, method, task_id=_task_id_of(first),
                               headers={"If-None-Match": first.headers["etag"]})
        case "412":
            return await _call(client, template, method, headers={"If-Match": '"99"'})
        case "413":
            return await _call(client, template, method, content=TOO_LARGE)
    return await _call(client, template, method)


def _task_id_of(response: httpx.Response) -> str | None:
    """The task a read answered (None for a list), to read it again."""
    body = response.json()
    if isinstance(body, dict):
        task = body.get("data", {}).get("task", body)
        return str(task["id"]) if "id" in task else None
    return None


async def test_real_responses_match_the_published_schemas(client: httpx.AsyncClient,
                                                          published: Published):
    exercised = 0
    for template, method, operation in published.operations():
        for status in sorted(set(operation["responses"]) - UNTRIGGERABLE):
            response = await _trigger(client, template, method, operation, status)
            assert str(response.status_code) == status, (operation["operationId"], response.text)
            published.check(template, method, response)
            exercised += 1
    assert exercised >= 18 * 4


async def test_every_documented_status_is_reached_here_or_by_a_named_test(published: Published):
    for status, (module, name) in REACHED_ELSEWHERE.items():
        assert callable(getattr(importlib.import_module(module), name)), (status, name)
    documented = {s for *_, operation in published.operations() for s in operation["responses"]}
    triggered = {"200", "201", "204", "304", "400", "401", "403", "404", "412", "413", "422"}
    assert documented == triggered | UNTRIGGERABLE  # a new status needs a trigger or a test


async def test_a_full_page_with_link_header_matches_the_schema(client: httpx.AsyncClient,
                                                               published: Published):
    for _ in range(3):
        await make_task(client, ALICE, description="d", due_date="2030-01-01T00:00:00Z",
                        completed=True)
    for template in SURFACE_PREFIXES:
        response = await _call(client, template, "get", query="?limit=2")
        assert response.status_code == 200
        published.check(template, "get", response)


async def test_undocumented_status_is_caught(published: Published):
    request = httpx.Request("GET", "http://testserver/api/tasks")
    teapot = httpx.Response(418, json={}, request=request)
    with pytest.raises(AssertionError, match="undocumented 418"):
        published.check("/api/tasks", "get", teapot)


async def test_undocumented_field_is_caught(client: httpx.AsyncClient, published: Published):
    await make_task(client, ALICE)
    response = await _call(client, "/api/tasks", "get")
    tampered = httpx.Response(200, json=[{**response.json()[0], "secret": 1}],
                              headers={"X-Total-Count": "1", "ETag": response.headers["etag"]},
                              request=response.request)
    with pytest.raises(ValidationError, match="secret"):
        published.check("/api/tasks", "get", tampered)


# Bodies on either side of every rule a request schema publishes (schemathesis found that the
# schemas allowed blank titles, NUL, overlong descriptions, status/completed contradictions
# and updates that change nothing, all of which the API rejects).
_SPACES = "\t\n\x0b\x0c\r\x1c\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
CREATE_SAMPLES: list[dict[str, Any]] = [
    {"title": "ok"}, {"title": ""}, {"title": _SPACES}, {"title": f"{_SPACES}x{_SPACES}"},
    {"title": "\ufeff"}, {"title": "a\u0000"}, {"title": "x" * 200}, {"title": "x" * 201},
    {"title": " " + "x" * 255 + " "}, {"title": "x" * 256},
    {"title": "ok", "description": "x" * 10_000}, {"title": "ok", "description": "x" * 10_001},
    {"title": "ok", "description": "\u0000"}, {"title": "ok", "description": None},
    {"title": "ok", "status": "completed", "completed": True},
    {"title": "ok", "status": "completed", "completed": False},
    {"title": "ok", "status": "in_progress", "completed": True},
    {"title": "ok", "status": "pending", "completed": False},
    {"title": "ok", "status": None, "completed": True},
]
UPDATE_SAMPLES: list[dict[str, Any]] = [
    {}, {"colour": "red"}, {"version": 3}, {"title": "new"}, {"description": None},
    {"completed": True}, {"status": "pending", "completed": True}, {"title": " "},
]


async def test_request_schemas_accept_exactly_what_the_api_accepts(client: httpx.AsyncClient,
                                                                   published: Published):
    for template, method, operation in published.operations():
        if method not in ("post", "put"):
            continue
        samples = CREATE_SAMPLES if method == "post" else UPDATE_SAMPLES
        for body in samples:
            response = await _call(client, template, method, json=body)
            accepted = response.status_code in (200, 201)
            assert accepted == published.accepts(body, template, method), (
                operation["operationId"], body, response.text)


# Bodies mixing every field of a task with values on both sides of each rule. Lone surrogates
# are left out: a JSON Schema pattern cannot refuse them, the API does (must be valid UTF-8).
_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": _TEXT | st.none() | st.integers() | st.sampled_from(
        ["", " ", "\u3000t\u2029", "a\x00b", "x" * MAX_TITLE_LENGTH, "x" * (MAX_TITLE_LENGTH + 1),
         f" {'x' * MAX_TITLE_LENGTH}\n"]),
    "description": _TEXT | st.none() | st.booleans() | st.sampled_from(
        ["a\x00", "x" * MAX_DESCRIPTION_LENGTH, "x" * (MAX_DESCRIPTION_LENGTH + 1)]),
    "status": st.sampled_from(["pending", "in_progress", "completed", "done", None, 1]),
    "priority": st.sampled_from(["low", "medium", "high", "urgent", None]),
    "due_date": st.sampled_from(["2030-01-31T17:00:00Z", "2030-01-31T19:00:00+02:00",
                                 "tomorrow", None, 5]),
    "completed": st.sampled_from([True, False, None, "true", 0]),
    "colour": st.just("red"),
}


@given(body=st.fixed_dictionaries({}, optional=_FIELD_VALUES))
@explicit_example(body={"title": "x" * (MAX_TITLE_LENGTH + 1)}).via("one past the longest title")
@explicit_example(body={"title": f" {'x' * MAX_TITLE_LENGTH}\n"}).via("the longest title, padded")
@explicit_example(body={"title": " "}).via("blank once trimmed")
@explicit_example(body={"title": "\u3000t\u2029"}).via("trimmed of Unicode spaces")
@explicit_example(body={"title": "\x1c"}).via("blank: str.strip() removes U+001C")
@explicit_example(body={"title": "t", "status": "completed", "completed": False}).via("disagree")
@explicit_example(body={"title": "t", "status": "completed", "completed": True}).via("agree")
@explicit_example(body={"status": "in_progress", "completed": True}).via("disagree, no title")
@explicit_example(body={"title": "t", "description": "a\x00"}).via("NUL in the description")
@explicit_example(body={"description": "x" * (MAX_DESCRIPTION_LENGTH + 1)}).via("too long")
@explicit_example(body={"title": "t", "completed": None}).via("null where only a value may be sent")
def test_each_input_models_schema_accepts_exactly_what_the_model_accepts(body: dict[str, Any]):
    """The rules published with each body schema (title pattern, never null, status and
    completed agreeing, at least one change) are the rules the API enforces."""
    for model in (NewTask, TaskChanges, CompletionRequest):
        validator = Draft202012Validator(model.model_json_schema(),
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        try:
            parsed = parse(model, body)
        except ValidationFailed:
            accepted = False
        else:  # then the resolvers refuse a status and a completion that disagree, and no change
            status, completed = body.get("status"), body.get("completed")
            agree = None in (status, completed) or completed == (status == "completed")
            accepted = (model is CompletionRequest
                        or (agree and (model is NewTask or bool(parsed.sent))))
        assert validator.is_valid(body) == accepted, (model.__name__, body)


def test_every_published_default_is_a_value_its_own_schema_accepts():
    for model in (NewTask, TaskChanges, CompletionRequest):
        schema = model.model_json_schema()
        for name, prop in schema["properties"].items():
            if "default" in prop:
                field_schema = {**prop, "$defs": schema.get("$defs", {})}
                assert Draft202012Validator(field_schema).is_valid(prop["default"]), (
                    model.__name__, name)
