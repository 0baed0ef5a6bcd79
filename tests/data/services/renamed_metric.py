"""A test variant of the agent service with one metric renamed: the catalog's
``user_feedback`` counter is exposed as ``user_feedbacks`` (the service keeps counting
into it; only the name changes, as a careless rename in the code would). Everything
else is the real service.

``stackgen verify --agent-command "python tests/data/services/renamed_metric.py"`` must
fail and name every panel and rule that reads ``user_feedback``.
"""

from __future__ import annotations

import uvicorn
from prometheus_client import CollectorRegistry

from agent_service.app import create_app
from agent_service.settings import Settings

RENAMED = ("user_feedback", "user_feedbacks")


def main() -> None:
    settings = Settings.from_env()
    registry = CollectorRegistry()
    app = create_app(settings, registry=registry)
    old, new = RENAMED
    counter = registry._names_to_collectors[f"{old}_total"]
    registry.unregister(counter)
    counter._name = new  # type: ignore[attr-defined]
    registry.register(counter)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
