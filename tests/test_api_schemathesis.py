"""Property-based run of the integration API against its own OpenAPI document: every
operation, a bounded number of generated requests each, with a valid token. No request may
end in a server error, and every answer must be documented (status, content type, body)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                                response_headers_conformance,
                                                response_schema_conformance,
                                                status_code_conformance)

from app.api.tokens import create_token
from cases.services import IntakeData, register_case
from conftest import TODAY, person

MAX_EXAMPLES = 25
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app, world):
    """The document as the app serves it, over WSGI (no server), a token and a few cases."""
    numbers = []
    for source, ref in (("walk_in", "W-1"), ("court_delegated", "（2026）闽0102民初1号")):
        numbers.append(register_case(IntakeData(
            centre_id=world.county.id, source=source, source_ref=ref, category="neighbour",
            facts="楼上漏水。", claims="赔偿。",
            parties=[person(), person("respondent", "李四", "110105198001010032")]),
            world.clerk, today=TODAY).number)
    _, secret = create_token("schemathesis", world.county)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), secret, numbers


def test_every_operation_answers_as_documented(api_schema):
    # schemathesis' pytest integration (parametrize / from_fixture) does not run on pytest 9
    # yet, so each operation's strategy is driven by Hypothesis directly.
    schema, secret, numbers = api_schema
    headers = {"Authorization": f"Bearer {secret}"}
    failures, runs = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        # Random case numbers (404 mostly), then the numbers of real cases in the scope, so
        # that transitions are tried on live cases (200, 409 and 422 answers).
        variants = [None] + ([{"number": n} for n in numbers]
                             if "{number}" in operation.path else [])
        for path_parameters in variants:
            runs += 1
            strategy = operation.as_strategy(path_parameters=path_parameters)

            @given(case=strategy)
            @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
                      database=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as error:  # noqa: BLE001 - every failure is reported
                failures[f"{operation.label} {path_parameters or ''}"] = str(error)[:2000]
    assert runs >= 50
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
