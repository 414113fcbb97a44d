"""Training a LoRA on the examples: peft on the dense base, a plain torch loop on the CPU.

The examples are rendered with the chat template pmem itself uses at inference and tokenized by llama.cpp's
own tokenizer (a vocab-only load), so the adapter learns exactly the token sequences it will see; the loss
covers the answer tokens only. A plain loop (not HF ``Trainer``) keeps the dependency surface small and
lets every step check whether the user is waiting on the model, in which case training steps aside.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmem.core.distill.dataset import Example
from pmem.core.engine.base import ChatMessage
from pmem.core.engine.llama import common_prefix
from pmem.core.errors import Interrupted

IGNORE = -100


@dataclass
class Tokenized:
    input_ids: list[int]
    labels: list[int]


@dataclass
class TrainResult:
    model: Any
    losses: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0

    @property
    def first_loss(self) -> float | None:
        return self.losses[0] if self.losses else None

    @property
    def final_loss(self) -> float | None:
        tail = self.losses[-max(1, len(self.losses) // 10) :]
        return sum(tail) / len(tail) if tail else None


def chat_for(example: Example, system: str) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": example.question})
    return messages


def tokenize(examples: Sequence[Example], vocab: Any, system: str, max_tokens: int = 256) -> list[Tokenized]:
    """Token ids and labels (prompt masked) for each example; ``vocab`` is a (vocab-only) LlamaCppEngine."""
    return tokenize_chats([(chat_for(example, system), example.answer) for example in examples], vocab, max_tokens)


def tokenize_chats(chats: Sequence[tuple[list[ChatMessage], str]], vocab: Any, max_tokens: int = 256) -> list[Tokenized]:
    """Token ids and labels of each (messages, answer): the answer after the rendered messages, the prompt masked.
    An example whose answer would not fit in ``max_tokens`` is left out (its prompt alone teaches nothing)."""
    out: list[Tokenized] = []
    for messages, answer in chats:
        prompt = vocab.tokenize_text(vocab.render(messages))
        full = vocab.tokenize_text(vocab.render([*messages, {"role": "assistant", "content": answer}], add_generation_prompt=False))
        cut = common_prefix(prompt, full)
        if cut < len(prompt) - 2 or len(full) <= cut or cut >= max_tokens - 1:
            continue  # a template that rewrites earlier turns once a reply follows, or no room for the answer
        full = full[:max_tokens]
        out.append(Tokenized(full, [IGNORE] * cut + full[cut:]))
    return out


def train_lora(
    base: Any,
    data: Sequence[Tokenized],
    *,
    rank: int,
    alpha: float,
    epochs: int,
    learning_rate: float,
    threads: int,
    batch_size: int = 4,
    seed: int = 0,
    pad_id: int = 0,
    on_step: Callable[[int, int, float], None] | None = None,
    wait_while: Callable[[], bool] | None = None,
    cancelled: Callable[[], bool] | None = None,
    checkpointing: bool = True,
    target_modules: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
) -> TrainResult:
    """Fit a LoRA on ``target_modules`` of ``base`` (default: all its linear projections) in ``layers`` (default:
    every layer; fewer adapted tensors decode faster); ``on_step(step, total, loss)`` reports progress,
    ``wait_while()`` true makes it pause between steps (the user is waiting on the model)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from pmem.core.distill.export import TARGET_MODULES

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    config = LoraConfig(
        r=rank, lora_alpha=alpha, target_modules=list(target_modules or TARGET_MODULES), lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
        layers_to_transform=list(layers) if layers else None, layers_pattern="layers" if layers else None,
    )
    if checkpointing and hasattr(base, "gradient_checkpointing_enable"):
        # Keep each layer's input only and recompute the rest in the backward pass: a third more compute for a
        # fraction of the activations' memory.
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(base, config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    order = list(range(len(data)))
    rng = random.Random(seed)
    per_epoch = (len(order) + batch_size - 1) // batch_size
    total = per_epoch * epochs
    result = TrainResult(model)
    started = time.perf_counter()
    step = 0
    for _epoch in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            if cancelled is not None and cancelled():
                raise Interrupted("training cancelled")
            while wait_while is not None and wait_while():
                time.sleep(0.2)
            optimizer.zero_grad(set_to_none=True)
            value = _accumulated_backward(model, [data[i] for i in order[start : start + batch_size]], pad_id)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            step += 1
            result.losses.append(value)
            if on_step is not None:
                on_step(step, total, value)
    model.eval()
    result.steps = step
    result.seconds = time.perf_counter() - started
    return result


def lora_state(model: Any) -> dict[str, Any]:
    from peft import get_peft_model_state_dict

    return dict(get_peft_model_state_dict(model, save_embedding_layers=False))


def _batch_loss(model: Any, batch: Sequence[Tokenized], pad_id: int) -> Any:
    """The causal-LM loss of ``batch`` (mean NLL over its answer tokens), padded to one width."""
    import torch

    ids, labels, mask = _pad(batch, pad_id)
    logits, target = _answer_logits(model, torch.tensor(ids), torch.tensor(mask), torch.tensor(labels))
    return torch.nn.functional.cross_entropy(logits.float(), target)


def _accumulated_backward(model: Any, batch: Sequence[Tokenized], pad_id: int, scale: float = 1.0) -> float:
    """The batch's gradient, one example at a time: each example's summed token loss over the batch's answer
    tokens, so the gradient is the batch's (mean over all its answer tokens) while only one example's activations
    are held at once (a 4-example batch held ~1.2 GB of them for SmolLM2-135M). No padding is computed either.
    ``scale`` weights the gradient (the batch's loss as one term of a larger one). Returns the batch's loss."""
    import torch

    tokens = sum(1 for t in batch for x in t.labels[1:] if x != IGNORE)
    total = 0.0
    for one in batch:
        ids, labels, mask = _pad([one], pad_id)
        logits, target = _answer_logits(model, torch.tensor(ids), torch.tensor(mask), torch.tensor(labels))
        if target.numel() == 0:
            continue
        loss = torch.nn.functional.cross_entropy(logits.float(), target, reduction="sum") / max(1, tokens)
        (loss * scale).backward()
        total += float(loss.detach())
    return total


def _answer_logits(model: Any, ids: Any, mask: Any, labels: Any) -> tuple[Any, Any]:
    """The logits of the positions that predict an answer token, and those tokens (flattened, in order).

    Only the answer tokens carry a loss, so the vocabulary projection runs only there: the full
    [batch, length, vocabulary] logits (49,152 per position for SmolLM2), their softmax and their gradient were
    most of a training step's memory. Models whose head does more than a projection (logit soft-capping or
    scaling) take the plain path."""
    target = labels[:, 1:]
    keep = target != IGNORE
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    plain_head = (
        hasattr(base, "model") and hasattr(base, "lm_head")
        and not getattr(config, "final_logit_softcapping", None) and getattr(config, "logits_scaling", 1) in (1, None)
    )
    if not plain_head:
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1, :]
        return logits[keep], target[keep]
    hidden = base.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1, :]
    return base.lm_head(hidden[keep]), target[keep]


def _pad(batch: Sequence[Tokenized], pad_id: int) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    width = max(len(t.input_ids) for t in batch)
    ids = [t.input_ids + [pad_id] * (width - len(t.input_ids)) for t in batch]
    labels = [t.labels + [IGNORE] * (width - len(t.labels)) for t in batch]
    mask = [[1] * len(t.input_ids) + [0] * (width - len(t.input_ids)) for t in batch]
    return ids, labels, mask



# --------------------------------------------------------------------------- the preference stage (DPO)


@dataclass
class PairTokens:
    chosen: Tokenized
    rejected: Tokenized


def tokenize_pairs(pairs: Sequence[tuple[str, str, str]], vocab: Any, system: str, max_tokens: int = 256) -> list[PairTokens]:
    """``(prompt, chosen, rejected)`` as two answers to one prompt, each with its prompt masked."""
    out: list[PairTokens] = []
    for prompt, chosen, rejected in pairs:
        both = tokenize([Example(prompt, chosen), Example(prompt, rejected)], vocab, system, max_tokens)
        if len(both) == 2:
            out.append(PairTokens(both[0], both[1]))
    return out


def _sequence_logps(model: Any, batch: Sequence[Tokenized], pad_id: int) -> Any:
    """Sum of the log-probabilities of each sequence's labelled (answer) tokens."""
    import torch

    ids, labels, mask = _pad(batch, pad_id)
    labels_t = torch.tensor(labels)
    logits, target = _answer_logits(model, torch.tensor(ids), torch.tensor(mask), labels_t)
    logps = torch.log_softmax(logits.float(), dim=-1).gather(1, target.unsqueeze(-1)).squeeze(-1)
    # Back to one sum per sequence: row i of the batch owns the answer positions flattened from it.
    rows = (labels_t[:, 1:] != IGNORE).nonzero(as_tuple=True)[0]
    return torch.zeros(len(batch), dtype=logps.dtype).index_add(0, rows, logps)


def train_preferences(
    model: Any,
    data: Sequence[PairTokens],
    *,
    beta: float,
    epochs: int,
    learning_rate: float,
    threads: int,
    nll_weight: float = 0.0,
    replay: Sequence[Tokenized] = (),
    replay_weight: float = 0.0,
    batch_size: int = 4,
    seed: int = 0,
    pad_id: int = 0,
    on_step: Callable[[int, int, float], None] | None = None,
    wait_while: Callable[[], bool] | None = None,
) -> TrainResult:
    """DPO on the LoRA of ``model`` (a peft model): the loss is ``-log σ(β·((π_c − ref_c) − (π_r − ref_r)))``
    over sequence log-probabilities, the reference being the model as the fact stage left it (adapter on,
    frozen copy of its scores) rather than the base model, which knows none of the facts. ``nll_weight`` adds
    the chosen answers' likelihood (RPO); ``replay_weight`` adds the fact stage's own loss on a batch of its
    examples each step: that, not the reference, is what keeps the facts (``bench/alignment_eval.py``: fact
    accuracy 0.875 with it, 0.75 without it whichever the reference)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, threads))
    model.eval()
    with torch.no_grad():
        reference = [
            (_sequence_logps(model, [p.chosen], pad_id)[0].item(), _sequence_logps(model, [p.rejected], pad_id)[0].item()) for p in data
        ]
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    order = list(range(len(data)))
    rng = random.Random(seed)
    total = ((len(order) + batch_size - 1) // batch_size) * epochs
    result = TrainResult(model)
    started = time.perf_counter()
    step = 0
    replayed = list(range(len(replay)))
    rng.shuffle(replayed)
    next_replay = 0
    for _epoch in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            while wait_while is not None and wait_while():
                time.sleep(0.2)
            picked = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            value = 0.0
            for i in picked:  # one pair's activations at a time; the loss is a mean over pairs, so is its gradient
                chosen = _sequence_logps(model, [data[i].chosen], pad_id)[0]
                rejected = _sequence_logps(model, [data[i].rejected], pad_id)[0]
                margin = (chosen - reference[i][0]) - (rejected - reference[i][1])
                loss = -torch.nn.functional.logsigmoid(beta * margin)
                if nll_weight:
                    # RPO: the chosen answers' own likelihood too, so that greedy answers move towards them and
                    # not only away from the rejected ones.
                    tokens = max(1, sum(1 for x in data[i].chosen.labels if x != IGNORE))
                    loss = loss + nll_weight * (-chosen / tokens)
                (loss / len(picked)).backward()
                value += float(loss.detach()) / len(picked)
            if replay and replay_weight:
                batch = [replay[replayed[(next_replay + k) % len(replay)]] for k in range(min(batch_size, len(replay)))]
                next_replay += len(batch)
                value += replay_weight * _accumulated_backward(model, batch, pad_id, scale=replay_weight)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            step += 1
            result.losses.append(value)
            if on_step is not None:
                on_step(step, total, value)
    model.eval()
    result.steps = step
    result.seconds = time.perf_counter() - started
    return result


def mean_loss(model: Any, data: Sequence[Tokenized], pad_id: int = 0, batch_size: int = 8) -> float:
    """The fact stage's loss (mean token NLL of the answers) over ``data``, without training: how well the
    adapter still knows its facts after the preference stage."""
    import torch

    if not data:
        return 0.0
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            batch = data[start : start + batch_size]
            tokens = sum(1 for t in batch for x in t.labels[1:] if x != IGNORE)  # the loss is over shifted labels
            total, count = total + float(_batch_loss(model, batch, pad_id)) * tokens, count + tokens
    return total / max(1, count)


def preference_accuracy(model: Any, data: Sequence[PairTokens], pad_id: int = 0) -> float:
    """How often the model finds the chosen answer more likely than the rejected one, per answer token (so that
    a shorter answer is not favoured for its length alone): about 0.5 for a model that has no preference."""
    import torch

    if not data:
        return 0.0
    wins = 0
    with torch.no_grad():
        for pair in data:
            scores = []
            for answer in (pair.chosen, pair.rejected):
                tokens = max(1, sum(1 for label in answer.labels if label != IGNORE))
                scores.append(_sequence_logps(model, [answer], pad_id)[0].item() / tokens)
            wins += scores[0] > scores[1]
    return wins / len(data)
