"""The real llama.cpp engine on the embedded SmolLM2: streaming, reproducibility, KV reuse, cancel, templates."""

from __future__ import annotations

import threading

import pytest

from pmem.core.engine.base import GenerationParams
from pmem.core.errors import ModelError
from pmem.core.templates import TEMPLATES, choose_template

GREEDY = GenerationParams(temperature=0.0, max_tokens=24)
pytestmark = pytest.mark.slow


def test_stream_is_incremental_and_greedy_is_reproducible(engine) -> None:  # type: ignore[no-untyped-def]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name three fruits."}]
    first = list(engine.stream(messages, GREEDY))
    second = list(engine.stream(messages, GREEDY))
    assert len(first) > 3, "the reply should arrive in several pieces"
    assert "".join(first).strip()
    assert first == second
    assert engine.last_stats.completion_tokens > 0 and engine.last_stats.tokens_per_s > 0


def test_identical_long_system_prompt_is_reused_from_the_kv_cache(engine) -> None:  # type: ignore[no-untyped-def]
    system = "You are a helpful assistant. " + " ".join(f"Note {i}: the user owns {i} books." for i in range(60))
    engine.llama.reset()
    list(engine.stream([{"role": "system", "content": system}, {"role": "user", "content": "Hi!"}], GREEDY))
    cold = engine.last_stats
    list(engine.stream([{"role": "system", "content": system}, {"role": "user", "content": "Name a colour."}], GREEDY))
    warm = engine.last_stats
    assert cold.prompt_tokens > 500
    assert cold.prompt_eval_tokens >= cold.prompt_tokens - 1
    assert cold.extra["llama_n_p_eval"] >= cold.prompt_tokens - 1  # llama.cpp's own counter agrees
    # Only the new user message and the assistant header are evaluated on the second turn.
    assert warm.prompt_eval_tokens < 40, warm
    assert warm.extra["llama_n_p_eval"] < 40, warm


def test_cancel_stops_the_stream(engine) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    pieces = []
    params = GenerationParams(temperature=0.0, max_tokens=200)
    for piece in engine.stream([{"role": "user", "content": "Write a long story about a dragon."}], params, cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    assert engine.last_stats.finish_reason == "cancelled"


def test_count_tokens_uses_the_model_tokenizer(engine) -> None:  # type: ignore[no-untyped-def]
    assert engine.count_tokens("hello") >= 1
    long = engine.count_tokens("hello " * 100)
    assert 90 <= long <= 110
    messages = [{"role": "user", "content": "hello"}]
    assert engine.count_prompt_tokens(messages) > engine.count_tokens("hello")


def test_json_schema_constrains_the_output(engine) -> None:  # type: ignore[no-untyped-def]
    import json

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["city", "year"],
    }
    params = GenerationParams(temperature=0.0, max_tokens=60, json_schema=schema)
    text = engine.complete([{"role": "user", "content": "Where and when were the 2012 Olympics? Answer in JSON."}], params)
    data = json.loads(text)
    assert set(data) == {"city", "year"} and isinstance(data["year"], int)


def test_named_chat_format_overrides_the_gguf_template(embedded_model) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.engine.llama import LlamaCppEngine

    eng = LlamaCppEngine(embedded_model, n_ctx=512, n_threads=2, chat_format="llama-3")
    try:
        prompt = eng.render([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
        assert "<|start_header_id|>system<|end_header_id|>" in prompt and "<|im_start|>system" not in prompt
    finally:
        eng.close()


# ---------------------------------------------------------------- template choice (no model needed)


def test_a_gguf_without_template_and_ambiguous_architecture_is_refused() -> None:
    with pytest.raises(ModelError, match="set model.chat_format"):
        choose_template(gguf_template=None, architecture="llama", requested="", model_name="x.gguf")


def test_architecture_fallback_and_named_templates() -> None:
    assert choose_template(gguf_template=None, architecture="qwen2", requested="", model_name="q").name == "chatml"
    assert choose_template(gguf_template="{{x}}", architecture="llama", requested="", model_name="m").name == "gguf"
    assert choose_template(gguf_template="{{x}}", architecture="llama", requested="mistral", model_name="m").name == "mistral"
    with pytest.raises(ModelError, match="unknown chat format 'vicuna'"):
        choose_template(gguf_template=None, architecture="llama", requested="vicuna", model_name="m")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_fallback_template_keeps_the_system_message(name: str) -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    rendered = env.from_string(TEMPLATES[name].source).render(
        messages=[
            {"role": "system", "content": "SYSTEM-TEXT"},
            {"role": "user", "content": "USER-ONE"},
            {"role": "assistant", "content": "REPLY-ONE"},
            {"role": "user", "content": "USER-TWO"},
        ],
        add_generation_prompt=True,
        bos_token="<s>",
        eos_token="</s>",
    )
    positions = [rendered.index(s) for s in ("SYSTEM-TEXT", "USER-ONE", "REPLY-ONE", "USER-TWO")]
    assert positions == sorted(positions)


LOADS_WHILE_PRINTING = """
import sys, threading
from pathlib import Path
from pmem.core.engine.llama import LlamaCppEngine

engines = [LlamaCppEngine(Path(sys.argv[1]), n_ctx=256, n_threads=1) for _ in range(3)]
threads = [threading.Thread(target=e.load) for e in engines]
for t in threads:
    t.start()
n = 0
while any(t.is_alive() for t in threads) or n < 50:
    sys.stdout.write(f"line {n}\\n")
    sys.stdout.flush()
    n += 1
for t in threads:
    t.join()
for e in engines:
    e.close()
print(f"end {n}")
"""


def test_models_loading_on_other_threads_do_not_swallow_what_the_main_thread_prints(embedded_model) -> None:  # type: ignore[no-untyped-def]
    """llama-cpp-python points stdout/stderr at /dev/null while it loads a model; pmem loads its extraction
    model on a thread while the chat prints, and two loads at once left stdout at /dev/null for good."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", LOADS_WHILE_PRINTING, str(embedded_model)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    printed = int(lines[-1].split()[1])
    assert lines == [f"line {i}" for i in range(printed)] + [f"end {printed}"]
    assert proc.stderr == ""  # llama.cpp's own log still goes to pmem's callback, not the terminal


def test_kv_cache_types_with_and_without_flash_attention(embedded_model, pmem_home) -> None:  # type: ignore[no-untyped-def]
    """A quantized KV cache loads and answers with flash attention; a quantized V cache without it is one clear
    error before llama.cpp is asked."""
    from pmem.core.engine.llama import LlamaCppEngine
    from tests.conftest import assert_one_line_error, run_pmem

    quantized = LlamaCppEngine(embedded_model, n_ctx=512, n_threads=2, flash_attn=True, cache_types=("q8_0", "q8_0"))
    answer = "".join(quantized.stream([{"role": "user", "content": "Name a fruit."}], GREEDY))
    assert answer.strip() and quantized.last_stats.completion_tokens > 0
    quantized.close()

    proc = run_pmem("ask", "hi", home=pmem_home, env={"PMEM_MODEL_CACHE_TYPE_V": "q8_0", "PMEM_MODEL_FLASH_ATTN": "false"})
    assert_one_line_error(proc, "model.cache_type_v", "model.flash_attn")
