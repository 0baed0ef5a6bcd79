"""The host's exporters as the stack declares them: a real node_exporter (built by the
tools step at the version compose pins) on 127.0.0.1 exposes every memory metric of
the catalog with its type. The GPU exporter needs a GPU and is not run here."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from specs.bestbox import stack as bestbox
from stackgen.check.live import check_live
from stackgen.verify.ports import free_ports
from stackgen.verify.processes import ProcessSet
from tests.conftest import tool_path


def test_node_exporter_exposes_the_catalogued_memory_metrics(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    processes = ProcessSet(log_dir=tmp_path)
    try:
        child = processes.start(
            "node_exporter",
            [tool_path("node_exporter"), f"--web.listen-address=127.0.0.1:{port}"],
        )
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 30
        while True:
            assert child.running(), child.log_tail()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, child.log_tail()
            time.sleep(0.1)
        declared = [m.name for m in bestbox.metrics if m.service == "llm-host"]
        assert declared == ["node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes"]
        assert check_live(bestbox, url, service="llm-host") == []
    finally:
        processes.stop_all()
