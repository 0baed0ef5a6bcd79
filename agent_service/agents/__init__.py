"""Routing, the demo dataset, the domain agents' tools and the orchestrator that prepares a
turn for the LLM. No metrics or database here: callers record from the returned timings."""

from agent_service.agents.data import DEMO_DATA, DemoData
from agent_service.agents.orchestrator import Orchestrator
from agent_service.agents.router import Router

__all__ = ["DEMO_DATA", "DemoData", "Orchestrator", "Router"]
