"""Deterministic keyword-scoring router: message -> erp | crm | it_ops | oa | general."""

from __future__ import annotations

import re
from collections.abc import Mapping

from agent_service.agents.text import content_tokens
from agent_service.domain import AgentType, RouteDecision

__all__ = ["DEFAULT_CONFIDENCE", "KEYWORDS", "PATTERNS", "Router"]

# Confidence when no keyword matches and the message falls back to the general agent.
DEFAULT_CONFIDENCE = 0.3

# Keyword -> weight, per agent. Tokens are compared after content_tokens() normalising.
KEYWORDS: Mapping[AgentType, Mapping[str, float]] = {
    "erp": {
        "invoice": 2.0,
        "inventory": 2.0,
        "stock": 2.0,
        "sku": 2.0,
        "warehouse": 1.5,
        "billing": 1.0,
        "payment": 1.0,
        "paid": 1.0,
        "unpaid": 1.5,
        "overdue": 1.5,
        "purchase": 1.0,
        "order": 1.0,
        "supplier": 1.0,
        "erp": 2.0,
        "laptop": 0.5,
        "monitor": 0.5,
        "keyboard": 0.5,
        "headset": 0.5,
    },
    "crm": {
        "lead": 2.0,
        "deal": 2.0,
        "pipeline": 2.0,
        "customer": 1.0,
        "prospect": 1.5,
        "prospecting": 1.5,
        "opportunity": 1.5,
        "sale": 1.5,
        "negotiation": 1.0,
        "proposal": 1.0,
        "crm": 2.0,
        "qualified": 1.0,
        "account": 0.5,
    },
    "it_ops": {
        "server": 2.0,
        "incident": 2.0,
        "outage": 2.0,
        "cpu": 1.5,
        "uptime": 1.5,
        "down": 1.0,
        "degraded": 1.0,
        "alert": 1.0,
        "deploy": 1.0,
        "status": 0.5,
        "latency": 1.0,
        "disk": 1.0,
        "gpu": 1.0,
        "host": 1.0,
        "sev1": 1.5,
        "sev2": 1.5,
    },
    "oa": {
        "calendar": 2.0,
        "meeting": 2.0,
        "leave": 2.0,
        "vacation": 2.0,
        "holiday": 1.5,
        "schedule": 1.5,
        "event": 1.0,
        "appointment": 1.5,
        "pto": 2.0,
        "approval": 0.5,
        "sync": 0.5,
        "review": 0.5,
        "balance": 0.5,
        "day": 0.5,
    },
    "general": {
        "policy": 1.5,
        "vpn": 2.0,
        "onboarding": 2.0,
        "password": 2.0,
        "expense": 1.5,
        "handbook": 1.5,
        "guide": 1.0,
        "help": 0.5,
        "wifi": 1.5,
        "training": 1.0,
    },
}

# Identifiers that point at one domain.
PATTERNS: Mapping[AgentType, tuple[re.Pattern[str], ...]] = {
    "erp": (re.compile(r"\binv-\d+\b"), re.compile(r"\bsku-\d+\b")),
    "crm": (re.compile(r"\blead-\d+\b"), re.compile(r"\bdeal-\d+\b")),
    "it_ops": (re.compile(r"\b(?:web|db|gpu|legacy|app)-\d+\b"), re.compile(r"\binc-\d+\b")),
    "oa": (re.compile(r"\bev-\d+\b"), re.compile(r"\blv-\d+\b")),
    "general": (re.compile(r"\bkb-\d+\b"),),
}
PATTERN_WEIGHT = 3.0


class Router:
    """Scores each agent by the weighted keywords and identifiers in the message; the best
    score wins (ties broken by the keyword tables' order). Confidence grows with the
    winner's score and its share of all scores; nothing matched -> general at
    DEFAULT_CONFIDENCE."""

    def __init__(
        self,
        keywords: Mapping[AgentType, Mapping[str, float]] = KEYWORDS,
        patterns: Mapping[AgentType, tuple[re.Pattern[str], ...]] = PATTERNS,
    ) -> None:
        self.keywords = keywords
        self.patterns = patterns

    def scores(self, message: str) -> dict[AgentType, float]:
        words = content_tokens(message)
        lowered = message.lower()
        result: dict[AgentType, float] = {}
        for agent, table in self.keywords.items():
            score = sum(table.get(word, 0.0) for word in words)
            for pattern in self.patterns.get(agent, ()):
                score += PATTERN_WEIGHT * len(pattern.findall(lowered))
            result[agent] = score
        return result

    def route(self, message: str) -> RouteDecision:
        scores = self.scores(message)
        total = sum(scores.values())
        if total <= 0:
            return RouteDecision("general", DEFAULT_CONFIDENCE)
        best: AgentType = max(scores, key=lambda agent: scores[agent])
        top = scores[best]
        share = top / total
        strength = 1.0 - 0.5**top
        confidence = round(min(1.0, 0.4 + 0.6 * share * strength), 3)
        return RouteDecision(best, confidence)
