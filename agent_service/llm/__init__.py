"""Chat models that stream the answer: a built-in scripted model and an OpenAI-compatible
streaming client (llama-server, vLLM, Ollama)."""

from agent_service.llm.base import ChatModel, LLMError
from agent_service.llm.factory import model_from_env
from agent_service.llm.openai import OpenAIChatModel
from agent_service.llm.scripted import ScriptedModel

__all__ = ["ChatModel", "LLMError", "OpenAIChatModel", "ScriptedModel", "model_from_env"]
