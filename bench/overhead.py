"""Telemetry fully on vs fully off, the same bounded traffic against both, interleaved.

"On" is the production configuration: catalog metrics, spans exported over OTLP/HTTP
(to a stand-in receiver on 127.0.0.1), and the audit log (spool with an fsync per
group, then PostgreSQL). "Off" is ``BESTBOX_TELEMETRY=off``: no metrics recorded, no
spans, no audit rows. Both services run as separate processes for the whole run and
are measured in alternating rounds (on, off, off, on, ...), so machine noise falls on
both sides alike. Two latencies a turn, as the client sees them: the whole streamed
answer (request sent to ``[DONE]``) and the time to first token (TTFT: request sent to
the first server-sent event carrying answer text).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import percentile, scratch_database, service
from tests.agent_service.servers import stand_in_collector

QUESTIONS = (
    "status of invoice INV-1001",
    "is the mail server up?",
    "show customer ACME's open deals",
    "how many vacation days do I have left?",
)

# A chunk carrying answer text (the first chunk only names the role).
_CONTENT = '"delta": {"content": '


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    first_tokens: list[float] = field(default_factory=list)
    busy_s: float = 0.0  # wall time of this side's rounds
    failures: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.busy_s if self.busy_s else float("nan")


async def _round(base: str, concurrency: int, per_worker: int, side: Side) -> None:
    body = {"stream": True}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker(index: int) -> None:
            for n in range(per_worker):
                question = QUESTIONS[(index + n) % len(QUESTIONS)]
                payload = {**body, "messages": [{"role": "user", "content": question}]}
                started = time.perf_counter()
                first_token: float | None = None
                try:
                    async with client.stream("POST", "/v1/chat/completions", json=payload) as reply:
                        async for line in reply.aiter_lines():
                            if first_token is None and _CONTENT in line:
                                first_token = time.perf_counter() - started
                        ok = reply.status_code == 200 and first_token is not None
                except httpx.HTTPError:
                    ok = False
                if ok:
                    assert first_token is not None
                    side.latencies.append(time.perf_counter() - started)
                    side.first_tokens.append(first_token)
                else:
                    side.failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        side.busy_s += time.perf_counter() - started


def measure(
    label: str,
    first_token_s: float,
    token_s: float,
    *,
    rounds: int,
    concurrency: int,
    per_worker: int,
) -> dict[str, float]:
    model = {
        "SCRIPTED_FIRST_TOKEN_DELAY_S": str(first_token_s),
        "SCRIPTED_TOKEN_DELAY_S": str(token_s),
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        scratch_database() as database_url,
        stand_in_collector() as collector,
    ):
        folder = Path(tmp)
        on_env = {
            **model,
            "DATABASE_URL": database_url,
            "AUDIT_SPOOL_DIR": str(folder / "spool"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        }
        off_env = {**model, "BESTBOX_TELEMETRY": "off", "AUDIT_SPOOL_DIR": "none"}
        (folder / "on").mkdir()
        (folder / "off").mkdir()
        with service(on_env, folder / "on") as on_url, service(off_env, folder / "off") as off_url:
            sides = {"on": Side(), "off": Side()}
            urls = {"on": on_url, "off": off_url}
            # Warm-up (imports, connection pools, first spool segment), not counted.
            for name in ("on", "off"):
                asyncio.run(_round(urls[name], concurrency, 2, Side()))
            for index in range(rounds):
                order = ("on", "off") if index % 2 == 0 else ("off", "on")
                for name in order:
                    asyncio.run(_round(urls[name], concurrency, per_worker, sides[name]))
    on, off = sides["on"], sides["off"]
    figures = {
        "requests_per_side": float(len(on.latencies)),
        "failures": float(on.failures + off.failures),
        "on_rps": on.throughput,
        "off_rps": off.throughput,
        "on_p50_ms": percentile(on.latencies, 50) * 1000,
        "off_p50_ms": percentile(off.latencies, 50) * 1000,
        "on_p99_ms": percentile(on.latencies, 99) * 1000,
        "off_p99_ms": percentile(off.latencies, 99) * 1000,
        "on_ttft_p50_ms": percentile(on.first_tokens, 50) * 1000,
        "off_ttft_p50_ms": percentile(off.first_tokens, 50) * 1000,
        "on_ttft_p99_ms": percentile(on.first_tokens, 99) * 1000,
        "off_ttft_p99_ms": percentile(off.first_tokens, 99) * 1000,
    }
    figures["throughput_ratio"] = figures["on_rps"] / figures["off_rps"]
    figures["p50_ratio"] = figures["on_p50_ms"] / figures["off_p50_ms"]
    figures["p99_ratio"] = figures["on_p99_ms"] / figures["off_p99_ms"]
    for q in ("p50", "p99"):
        on_ms, off_ms = figures[f"on_ttft_{q}_ms"], figures[f"off_ttft_{q}_ms"]
        figures[f"ttft_{q}_ratio"] = on_ms / off_ms
        figures[f"ttft_{q}_added_ms"] = on_ms - off_ms
    print(f"\n## Telemetry on vs off: {label}")
    print(
        f"   {len(on.latencies)} streamed turns a side, {concurrency} concurrent, "
        f"{rounds} alternating rounds, failures: {on.failures + off.failures}"
    )
    print(f"   {'':12} {'on':>10} {'off':>10} {'on/off':>8} {'added':>9}")
    print(
        f"   {'req/s':12} {figures['on_rps']:10.1f} {figures['off_rps']:10.1f} "
        f"{figures['throughput_ratio']:8.3f}"
    )
    for q in ("p50", "p99"):
        on_ms, off_ms = figures[f"on_{q}_ms"], figures[f"off_{q}_ms"]
        print(
            f"   {q + ' (ms)':12} {on_ms:10.1f} {off_ms:10.1f} {on_ms / off_ms:8.3f} "
            f"{on_ms - off_ms:+9.1f}"
        )
    for q in ("p50", "p99"):
        print(
            f"   {'TTFT ' + q + ' (ms)':12} {figures[f'on_ttft_{q}_ms']:10.1f} "
            f"{figures[f'off_ttft_{q}_ms']:10.1f} {figures[f'ttft_{q}_ratio']:8.3f} "
            f"{figures[f'ttft_{q}_added_ms']:+9.1f}"
        )
    return figures
