"""Writes the tiny llama-architecture GGUF model that the tests serve with llama-server.

Random weights from a fixed seed, a byte-level vocabulary (``<unk>``, ``<s>``, ``</s>``,
``▁`` and the 256 byte tokens ``<0x00>``..``<0xFF>``) and a chat template: its answers are
nonsense, but they are real tokens decoded and streamed by a real llama.cpp server, and the
file is the same bytes every time (nothing is downloaded).

    python tools/llm/make_tiny_model.py OUTPUT.gguf
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, TokenType

SEED = 20261201
EMBEDDING = 64
FEED_FORWARD = 128
LAYERS = 2
HEADS = 4
CONTEXT = 2048
# A ChatML-style template: llama-server renders the OpenAI messages with it.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<s>' + message['role'] + '\n' + message['content'] + '</s>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<s>assistant\n' }}{% endif %}"
)


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>", "\u2581"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.NORMAL]
    tokens += [f"<0x{byte:02X}>" for byte in range(256)]
    types += [TokenType.BYTE] * 256
    scores = [0.0] * len(tokens)
    return tokens, scores, [int(t) for t in types]


def write_model(path: Path) -> None:
    rng = np.random.default_rng(SEED)
    tokens, scores, types = vocabulary()

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def norm() -> np.ndarray:
        return np.ones(EMBEDDING, dtype=np.float32)

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("stackgen-tiny")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(EMBEDDING)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(EMBEDDING // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHAT_TEMPLATE)

    # numpy shapes are (rows, columns): llama.cpp's ne reversed.
    writer.add_tensor("token_embd.weight", weights(len(tokens), EMBEDDING))
    for layer in range(LAYERS):
        block = f"blk.{layer}"
        writer.add_tensor(f"{block}.attn_norm.weight", norm())
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{name}.weight", weights(EMBEDDING, EMBEDDING))
        writer.add_tensor(f"{block}.ffn_norm.weight", norm())
        writer.add_tensor(f"{block}.ffn_gate.weight", weights(FEED_FORWARD, EMBEDDING))
        writer.add_tensor(f"{block}.ffn_up.weight", weights(FEED_FORWARD, EMBEDDING))
        writer.add_tensor(f"{block}.ffn_down.weight", weights(EMBEDDING, FEED_FORWARD))
    writer.add_tensor("output_norm.weight", norm())
    writer.add_tensor("output.weight", weights(len(tokens), EMBEDDING))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the .gguf file to write")
    args = parser.parse_args(argv)
    partial = args.output.with_suffix(".partial")
    write_model(partial)
    partial.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
