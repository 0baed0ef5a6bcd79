"""How `stackgen verify` proves the BestBox stack live: the agent service it runs and
drives, and the fault scenarios, each on its own stack: healthy traffic, a fault made with
real requests or real service settings, then the matching alert must fire."""

from __future__ import annotations

from specs.bestbox.services import agent_api, llm_server, node_exporter
from stackgen.spec import (
    FaultScenario,
    LocalProgram,
    RestartService,
    StopProgram,
    StopService,
    TrafficMix,
    VerifySettings,
)

# A first token this slow puts nearly every turn above CriticalLatency's 5 s P95.
SLOW_FIRST_TOKEN_S = "6"

# Healthy-but-noisy answers: in every 20, a burst of 3 that wait 4.5 s for their first
# token (P95 near 4.3 s, under CriticalLatency's 5 s; 15 % over the 2 s TTFT target, a
# 3x burn of its SLO, under the 6x page), and one answer in 40 fails (2.5 % of turns,
# under HighErrorRate's 5 % and the availability SLO's 6x page). Short `for` and windows
# must not page on it.
NOISY_FIRST_TOKEN_DELAYS_S = ",".join(["0.05"] * 17 + ["4.5"] * 3)
NOISY_FAIL_EVERY = "40"
# Two rate windows of CriticalLatency plus its `for`: long enough for noise to show.
NOISY_FOR_S = 180.0

# Away from the production ports so a local run never collides with a real stack.
LOCAL_PORTS = {
    agent_api.name: 18000,
    "prometheus": 19090,
    "alertmanager": 19093,
    "otel-collector": 18888,
    "otel-collector-exporter": 18889,
}

SCENARIOS = (
    FaultScenario(
        name="noisy-healthy",
        title="healthy but noisy (bursts of 4.5 s first tokens, 1 turn in 40 fails)",
        # The scripted model, paced in bursts and failing now and then; 3 users, so a
        # burst holds every one of them at once.
        fault=RestartService(
            environment={
                "LLM_BASE_URL": "",
                "SCRIPTED_FIRST_TOKEN_DELAY_S": NOISY_FIRST_TOKEN_DELAYS_S,
                "SCRIPTED_FAIL_EVERY": NOISY_FAIL_EVERY,
            },
            workers=3,
        ),
        max_wait_s=NOISY_FOR_S,
    ),
    FaultScenario(
        name="agent-down",
        title="the agent service down",
        alert="ServiceDown",
        fault=StopService(),
        quick=True,
        service_records=False,  # the agent is the service that is down
        at_scale=True,
    ),
    FaultScenario(
        name="error-ratio",
        title="high error ratio (LLM server unreachable)",
        alert="HighErrorRate",
        # The service pointed at a port nobody listens on: every LLM call is refused
        # and every turn ends in an error.
        fault=RestartService(
            environment={
                "LLM_BASE_URL": "http://127.0.0.1:{free_port}/v1",
                "LLM_CONNECT_TIMEOUT_S": "1",
            }
        ),
        slos=("request-availability",),
        at_scale=True,
    ),
    FaultScenario(
        name="slow-ttft",
        title="LLM slow to first token (6 s)",
        alert="CriticalLatency",
        # 6 users instead of 2: slow turns arrive about as often as the fast ones did
        # (a slow LLM does not make users ask less), yet under the 8-session capacity
        # alert (HighConcurrentSessions) that a pile-up would rightly fire.
        fault=RestartService(
            # The scripted model (no LLM_BASE_URL), paced slow: a real server cannot be.
            environment={"LLM_BASE_URL": "", "SCRIPTED_FIRST_TOKEN_DELAY_S": SLOW_FIRST_TOKEN_S},
            workers=6,
        ),
        also_allowed=("HighTTFTP95",),
        slos=("ttft-under-2s",),
        at_scale=True,
    ),
    FaultScenario(
        name="tool-errors",
        title="burst of tool errors (legacy-01 status checks)",
        alert="HighToolErrorRate",
        fault=TrafficMix(mix="tool-errors"),
        slos=("tool-success",),
        quick=True,
        at_scale=True,
    ),
    FaultScenario(
        name="low-satisfaction",
        title="low satisfaction (every answer rated thumbs down)",
        alert="LowUserSatisfaction",
        fault=TrafficMix(mix="negative-feedback"),
        slos=("user-satisfaction",),
        # Its spec allows 30 min (a full hour of history); from a fresh start the 1h
        # window fills with thumbs down at once, leaving its `for: 5m` plus delivery.
        max_wait_s=9 * 60,
        # Not at scale: once the fault ends it resolves only when the hour of thumbs
        # down has left its window.
    ),
    FaultScenario(
        name="llm-down",
        title="the LLM server stopped (llama-server killed)",
        alert="ServiceDown",
        fault=StopProgram(program=llm_server.name),
        # Every turn fails while it is down: the error ratio and the availability SLO
        # burn too.
        also_allowed=("HighErrorRate",),
        slos=("request-availability",),
        # Chat answers at once with an error naming the unreachable server.
        failures_must_be_clean=True,
    ),
    FaultScenario(
        name="collector-down",
        title="the OpenTelemetry collector down (spans cannot be exported)",
        alert="CollectorDown",
        fault=StopProgram(program="otelcol"),
        quick=True,
        requests_must_succeed=True,
    ),
    FaultScenario(
        name="jaeger-down",
        title="Jaeger down (the collector cannot deliver spans)",
        alert="TraceExportFailing",
        fault=StopProgram(program="jaeger"),
        quick=True,
        requests_must_succeed=True,
    ),
)

# The real llama-server (built by the tools step) serving the tiny generated model, and a
# real node_exporter: the agent talks to the one, Prometheus scrapes both. The model's
# answers are nonsense, but every token is really decoded and streamed. Its tokenizer is
# byte-level, so each slot gets 4096 tokens of context for a turn's prompt.
PROGRAMS = (
    LocalProgram(
        service=llm_server.name,
        program="llama-server",
        args=(
            *("--model", "{tiny_model}", "--host", "127.0.0.1", "--port", "{port}"),
            *("--metrics", "--threads", "1", "--parallel", "4", "--ctx-size", "16384"),
            *("--n-predict", "24"),
        ),
        ready_path="/health",
        service_environment={"LLM_BASE_URL": "{url}/v1", "LLM_MODEL": "tiny-llama"},
    ),
    LocalProgram(
        service=node_exporter.name,
        program="node_exporter",
        args=("--web.listen-address=127.0.0.1:{port}",),
    ),
)

VERIFY = VerifySettings(
    service=agent_api.name,
    # The agent service's own span attributes: bestbox.message_id, bestbox.route.agent.
    span_attribute_prefix="bestbox",
    scenarios=SCENARIOS,
    programs=PROGRAMS,
)
