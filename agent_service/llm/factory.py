"""Pick the chat model from the environment."""

from __future__ import annotations

from collections.abc import Mapping

from agent_service.llm.base import ChatModel
from agent_service.llm.openai import OpenAIChatModel
from agent_service.llm.scripted import ScriptedModel

__all__ = ["model_from_env"]


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{key} must be >= 0, got {raw!r}")
    return value


def _delay_cycle(env: Mapping[str, str], key: str, default: float) -> tuple[float, ...]:
    """One delay, or a comma-separated cycle of them (``0.05,0.05,4.5``)."""
    raw = env.get(key, "").strip()
    if "," not in raw:
        return (_seconds(env, key, default),)
    return tuple(_seconds({key: part}, key, default) for part in raw.split(","))


def _count(env: Mapping[str, str], key: str) -> int:
    raw = env.get(key, "").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"{key} must be a whole number >= 0, got {raw!r}")
    return int(raw)


def model_from_env(env: Mapping[str, str]) -> ChatModel:
    """``LLM_BASE_URL`` set -> OpenAIChatModel(LLM_BASE_URL, LLM_MODEL or "default")
    (optional LLM_API_KEY, LLM_TIMEOUT_S, LLM_CONNECT_TIMEOUT_S, LLM_PROVIDER for the
    spans' gen_ai.provider.name, default llama.cpp); otherwise the
    ScriptedModel paced by SCRIPTED_FIRST_TOKEN_DELAY_S (one delay, or a comma-separated
    cycle of them, answer after answer) / SCRIPTED_TOKEN_DELAY_S, failing every
    SCRIPTED_FAIL_EVERY-th answer (0 or unset: never)."""
    base_url = env.get("LLM_BASE_URL", "").strip()
    if base_url:
        return OpenAIChatModel(
            base_url,
            env.get("LLM_MODEL", "").strip() or "default",
            timeout_s=_seconds(env, "LLM_TIMEOUT_S", 60.0),
            connect_timeout_s=_seconds(env, "LLM_CONNECT_TIMEOUT_S", 5.0),
            api_key=env.get("LLM_API_KEY", "").strip() or None,
            provider=env.get("LLM_PROVIDER", "").strip() or "llama.cpp",
        )
    return ScriptedModel(
        first_token_delay_s=_delay_cycle(env, "SCRIPTED_FIRST_TOKEN_DELAY_S", 0.05),
        token_delay_s=_seconds(env, "SCRIPTED_TOKEN_DELAY_S", 0.01),
        fail_every=_count(env, "SCRIPTED_FAIL_EVERY"),
    )
