"""Schemathesis against every REST operation of /openapi.json, on both databases.

Positive and negative cases (schemathesis' coverage and fuzzing phases) are sent with a valid
token; every built-in check runs: no 5xx, the status is documented, the body and the required
headers match the published schema, invalid input is rejected and valid input accepted.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from app.factory import create_app
from app.settings import Settings
from tests.fuzzing import APP
from tests.support import ALICE, TEST_SECRET, auth

SURFACES = r"^/api/(tasks|v1/\{user_id\}/tasks|\{user_id\}/tasks)"
MAX_EXAMPLES = 25


def _published() -> dict[str, Any]:
    """The document every app serves at /openapi.json (it does not depend on the database)."""
    offline = Settings(database_url="sqlite:///unused.db", better_auth_secret=TEST_SECRET,
                       _env_file=None)  # type: ignore[call-arg]
    return create_app(offline).openapi()


def _load_schema() -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(_published())
    loaded.app = APP
    loaded.config.generation.update(allow_extra_parameters=False)  # ignored, as the contract says
    return loaded.include(path_regex=SURFACES)


schema = _load_schema()


def _positive(case: schemathesis.Case, location: ParameterLocation) -> bool:
    meta = case.meta
    component = meta.components.get(location) if meta is not None else None
    return component is None or component.mode is GenerationMode.POSITIVE


def _a_real_task(http: asgi.ASGIClient, owner: str) -> str:
    response = http.post(f"/api/{owner}/tasks", json={"title": "fuzzed"}, headers=auth(owner))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])  # one app per operation
def test_rest_operations_keep_their_contract(case: schemathesis.Case,
                                            app_under_test: asgi.ASGIClient) -> None:
    if _positive(case, ParameterLocation.PATH):
        # The path names the caller and an existing task, so the fuzzed body and query reach
        # the resolvers instead of stopping at 403/404.
        if "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = ALICE
        if "task_id" in case.path_parameters:
            case.path_parameters["task_id"] = _a_real_task(app_under_test, ALICE)
    if _positive(case, ParameterLocation.QUERY) and case.query and "offset" in case.query:
        case.query.pop("page", None)  # documented as exclusive, which OpenAPI cannot express
    # A negative header component is a missing token: sent as generated, it must be a 401.
    token = _positive(case, ParameterLocation.HEADER)
    if token and case.headers and "Idempotency-Key" in case.headers:
        # A generated key repeats with other generated bodies (422, reused): tests/test_retries
        # covers reuse; here every valid create must be accepted.
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    case.call_and_validate(headers=auth(ALICE) if token else None)
