"""What counts as a failed request in the scenarios where users must not notice the
fault (the collector or Jaeger down)."""

from __future__ import annotations

from stackgen.verify.traffic import failed_outcomes


def test_answers_the_mix_expects_are_no_failure() -> None:
    healthy = {
        "turn 200": 40,
        "turn 200, feedback 200": 30,
        "GET /health 200": 5,
        "GET /v1/models 200": 5,
        "GET /nowhere 404": 5,  # deliberate
    }
    assert failed_outcomes(healthy) == {}


def test_no_answer_and_server_errors_are_failures() -> None:
    outcomes = {
        "turn 200": 40,
        "client error: ConnectError": 2,
        "client error: ReadTimeout": 1,
        "turn 502": 3,
        "turn 200, feedback 503": 1,
        "GET /health 500": 1,
    }
    assert failed_outcomes(outcomes) == {
        "GET /health 500": 1,
        "client error: ConnectError": 2,
        "client error: ReadTimeout": 1,
        "turn 200, feedback 503": 1,
        "turn 502": 3,
    }
