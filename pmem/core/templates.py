"""Chat templates for GGUFs that carry none.

llama-cpp-python silently falls back to the llama-2 format when a GGUF has no template, and its
gemma handler drops the system message. pmem never guesses: it uses the GGUF's own template, a
template known to be right for the architecture, or one the user names; otherwise it stops and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmem.core.errors import ModelError

_SYSTEM_SPLIT = (
    "{% if messages and messages[0]['role'] == 'system' %}"
    "{% set sys = messages[0]['content'] %}{% set msgs = messages[1:] %}"
    "{% else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}"
)


@dataclass(frozen=True)
class ChatTemplate:
    name: str
    source: str
    """A Jinja2 template over ``messages``, ``bos_token``, ``eos_token`` and ``add_generation_prompt``."""
    stop: tuple[str, ...] = ()
    """Strings that end a reply besides the model's EOS token."""


TEMPLATES: dict[str, ChatTemplate] = {
    t.name: t
    for t in (
        ChatTemplate(
            "chatml",
            "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            ("<|im_end|>",),
        ),
        ChatTemplate(
            "llama-3",
            "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
            "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
            ("<|eot_id|>",),
        ),
        ChatTemplate(
            "llama-2",
            _SYSTEM_SPLIT + "{% for m in msgs %}{% if m['role'] == 'user' %}{{ bos_token }}[INST] "
            "{% if loop.first and sys %}<<SYS>>\n{{ sys }}\n<</SYS>>\n\n{% endif %}{{ m['content'] | trim }} [/INST]"
            "{% else %} {{ m['content'] | trim }} {{ eos_token }}{% endif %}{% endfor %}",
        ),
        ChatTemplate(
            "mistral",
            _SYSTEM_SPLIT + "{{ bos_token }}{% for m in msgs %}{% if m['role'] == 'user' %}[INST] "
            "{% if loop.first and sys %}{{ sys }}\n\n{% endif %}{{ m['content'] | trim }} [/INST]"
            "{% else %}{{ m['content'] | trim }}{{ eos_token }}{% endif %}{% endfor %}",
        ),
        ChatTemplate(
            # Gemma has no system role: the system text is kept by prefixing it to the first user turn.
            "gemma",
            _SYSTEM_SPLIT + "{{ bos_token }}{% for m in msgs %}<start_of_turn>"
            "{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
            "{% if loop.first and sys %}{{ sys }}\n\n{% endif %}{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
            "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
            ("<end_of_turn>",),
        ),
        ChatTemplate(
            "phi-3",
            "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
            ("<|end|>",),
        ),
    )
}

#: Architectures whose chat format is unambiguous. "llama" is deliberately absent: it covers
#: llama-2, llama-3, mistral and SmolLM fine-tunes with different formats.
ARCHITECTURE_TEMPLATES: dict[str, str] = {
    "qwen2": "chatml",
    "qwen3": "chatml",
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "phi3": "phi-3",
}


def choose_template(
    *, gguf_template: str | None, architecture: str, requested: str, model_name: str
) -> ChatTemplate:
    """The template to use: the user's choice, else the GGUF's own, else the architecture's; never a guess."""
    if requested:
        if requested not in TEMPLATES:
            names = ", ".join(TEMPLATES)
            raise ModelError(f"unknown chat format '{requested}' (model.chat_format); choose one of: {names}")
        return TEMPLATES[requested]
    if gguf_template:
        stops = tuple(s for t in TEMPLATES.values() for s in t.stop if s in gguf_template)
        return ChatTemplate("gguf", gguf_template, stops)
    if architecture in ARCHITECTURE_TEMPLATES:
        return TEMPLATES[ARCHITECTURE_TEMPLATES[architecture]]
    names = ", ".join(TEMPLATES)
    raise ModelError(
        f"{model_name} has no chat template and its architecture '{architecture}' does not determine one; "
        f"set model.chat_format (or --chat-format) to one of: {names}"
    )
