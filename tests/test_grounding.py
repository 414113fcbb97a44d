"""The grounding adapter: the embedded model, with the shipped LoRA, answers from what pmem put in its prompt.

Real llama.cpp, the embedded SmolLM2-135M-Instruct and the adapter file as it ships; greedy answers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_pmem
from tests.test_distill import _kl, _last_logits

pytestmark = pytest.mark.slow

DONT_KNOW = re.compile(r"don't know|do not know|haven't told|not sure|nothing i remember", re.IGNORECASE)


def test_the_shipped_adapter_is_whole_and_made_for_the_embedded_model(embedded_model: Path) -> None:
    from pmem.core.engine.grounding import grounding_for, shipped
    from pmem.core.models import model_fingerprint

    adapter = shipped()
    assert adapter is not None, "pmem/core/engine/grounding/ must hold the adapter and its manifest"
    assert adapter.base_fingerprint == model_fingerprint(embedded_model)
    assert grounding_for(embedded_model) == adapter
    assert 1e6 < adapter.path.stat().st_size < 20e6  # a few MB of LoRA, not a model


def test_a_fresh_home_told_about_its_dog_answers_its_name_and_says_what_it_does_not_know(pmem_home: Path) -> None:
    told = run_pmem("ask", "--temperature", "0", "--max-tokens", "24", "I have a border collie called Pepper.", home=pmem_home)
    assert told.returncode == 0, told.stderr
    assert not DONT_KNOW.search(told.stdout.replace("’", "'")), told.stdout  # told something, it takes it in
    asked = run_pmem("ask", "--temperature", "0", "--max-tokens", "24", "What is my dog's name?", home=pmem_home)
    assert asked.returncode == 0, asked.stderr
    assert "Pepper" in asked.stdout, asked.stdout
    # Something never said. The adapter does not say so every time (bench/README: the absent-answer set), but it
    # must for a plain one; without the adapter the model invents an answer here too.
    never = run_pmem("ask", "--temperature", "0", "--max-tokens", "24", "What is my favourite film?", home=pmem_home)
    assert never.returncode == 0, never.stderr
    assert DONT_KNOW.search(never.stdout.replace("’", "'")), never.stdout
    bare = run_pmem("ask", "--temperature", "0", "--max-tokens", "24", "--no-memory", "What is my dog's name?", home=pmem_home,
                    env={"PMEM_MODEL_GROUNDING_ADAPTER": "false"})
    assert bare.returncode == 0 and "Pepper" not in bare.stdout  # the answer came from memory, not from the adapter


def test_the_adapter_is_applied_only_to_the_model_it_was_made_for(pmem_home: Path, tmp_path: Path, embedded_model: Path) -> None:
    from dataclasses import replace

    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.engine import create_engine

    settings = load_settings(resolve_paths())
    grounded = create_engine(settings)
    assert [p.name for p, _ in grounded.base_adapters] == ["smollm2-135m-instruct-grounding.gguf"]  # type: ignore[attr-defined]
    assert create_engine(replace(settings, model=replace(settings.model, grounding_adapter=False))).base_adapters == ()  # type: ignore[attr-defined]
    # The same weights in another file (a re-download, a fine-tune, a re-quantization differ the same way): not it.
    other = tmp_path / "other.gguf"
    shutil.copyfile(embedded_model, other)
    with other.open("ab") as fh:
        fh.write(b"\0" * 64)
    foreign = create_engine(settings, str(other))
    assert foreign.base_adapters == ()  # type: ignore[attr-defined]
    doctor = run_pmem("doctor", home=pmem_home, env={"PMEM_MODEL_PATH": str(other)})
    assert "made for the embedded SmolLM2-135M only" in doctor.stdout, doctor.stdout
    doctor = run_pmem("doctor", home=pmem_home)
    assert "grounding" in doctor.stdout and "on: smollm2-135m-instruct-grounding.gguf" in doctor.stdout, doctor.stdout


def test_the_grounding_merged_into_the_dense_base_is_what_llama_cpp_applies(tmp_path: Path, embedded_model: Path) -> None:
    """``pmem distill`` trains the user's adapter on the base with the grounding merged in: that base must be the
    model llama.cpp runs with the grounding adapter (rope permutation of q/k undone, alpha / rank applied)."""
    import torch

    from pmem.core.distill.base import load_dense_base
    from pmem.core.distill.export import merge_adapter
    from pmem.core.engine.grounding import shipped
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import model_fingerprint

    adapter = shipped()
    assert adapter is not None
    base, _ = load_dense_base(embedded_model, tmp_path, model_fingerprint(embedded_model))
    engine = LlamaCppEngine(embedded_model, n_ctx=512, base_adapters=((adapter.path, adapter.scale),))
    bare = LlamaCppEngine(embedded_model, n_ctx=512)
    prompt = engine.tokenize_prompt([{"role": "user", "content": "I have a border collie called Pepper. What is my dog's name?"}])

    try:
        with torch.no_grad():
            before = base(input_ids=torch.tensor([prompt])).logits[0, -1].double().numpy()
            assert merge_adapter(base, adapter.path, scale=adapter.scale) == 30 * 7
            after = base(input_ids=torch.tensor([prompt])).logits[0, -1].double().numpy()
        grounded, plain = _last_logits(engine.llama, prompt), _last_logits(bare.llama, prompt)
    finally:
        engine.close()
        bare.close()
    agree = _kl(after, grounded)
    assert agree < 0.05, agree  # the quantized GGUF differs from the dense weights by ~0.005 nats
    assert _kl(before, grounded) > 4 * agree  # and the merge did change the dense model as the adapter does
    assert _kl(plain, grounded) > 4 * agree
