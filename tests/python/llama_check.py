#!/usr/bin/env python3
"""The Llama layout against the real libraries: tiny random LlamaForCausalLM (GQA, untied head, sharded weights) and
Qwen2ForCausalLM (GQA, q/k/v biases, tied head), each with a byte-level BPE tokenizer trained here; nothing is
downloaded. Driven by tests/unit/python-llama.test.ts in two phases:

  make DIR    writes, per family F in DIR/F/:
                base/                   save_pretrained model + tokenizer (config.json, safetensors, tokenizer.json ...)
                py_adapter/             a PEFT LoRA on all seven projections (random B, a rank and alpha pattern)
                expected.json           input ids, base logits, the adapter's logits, tokenizer ids of TEXT
  fixture DIR writes the llama family's base/ alone: tests/fixtures/llama-tiny (the CLI test's model, no Python needed)
  check DIR   reads DIR/F/ours/{adapter,merged,logits.json} (our exports) and writes DIR/check.json: max |logit
              difference| of PeftModel(ours adapter), AutoModelForCausalLM(ours merged) and merge_and_unload against
              our logits

Run: .venv/bin/python tests/python/llama_check.py make|check DIR   (CPU, one thread)
"""

import json
import os
import sys

import torch

torch.set_num_threads(1)

import peft  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, Qwen2Config  # noqa: E402

# Multilingual, with emoji, accents, CJK, numbers and odd spacing: the ids must equal ours.
TEXT = "Hello world! Grüße aus Köln, 東京は晴れ。 Ça va? 🙂👍🏽 x=3.14  tabs\tand\nnew lines — naïve café 🇫🇷"
CORPUS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Kai is a farmer. Who is the farmer? Kai.",
    "Grüße aus Köln und München. Ça va très bien, merci.",
    "東京は晴れ。大阪は雨。",
    "Numbers: 1 22 333 4444 3.14159, emoji 🙂👍🏽🇫🇷",
]

FAMILIES = {
    # untied head, GQA 4 query heads over 2 kv heads, rope_theta as Llama 3's, weights in three shards
    "llama": dict(
        cls=LlamaConfig,
        kw=dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=500000.0,
                tie_word_embeddings=False),
        shard="40KB",
    ),
    # q/k/v biases, tied head, GQA 4 over 1
    "qwen2": dict(
        cls=Qwen2Config,
        kw=dict(hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=1, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0,
                tie_word_embeddings=True, use_sliding_window=False),
        shard=None,
    ),
}
# Chat templates in the two common styles: ChatML (Qwen2, SmolLM2) and Llama 3's headers; the conversation is
# rendered by transformers' apply_chat_template here and by @huggingface/jinja in our engine.
CHATML = ("{% for m in messages %}{% if loop.first and m['role'] != 'system' %}<|im_start|>system\nYou are helpful.<|im_end|>\n{% endif %}"
          "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
LLAMA3 = ("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<eos>{% endfor %}"
          "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
CHAT = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Who is the farmer? Kai is a farmer. 🙂"},
        {"role": "assistant", "content": "Kai."}]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def tokenizer_for(d, chat_template=None):
    """A byte-level BPE (GPT-2/Llama 3/Qwen2 style) trained on CORPUS, saved as a fast tokenizer with <eos>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<eos>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>", bos_token="<eos>")
    if chat_template:
        fast.chat_template = chat_template
    fast.save_pretrained(d)
    return fast


def logits_of(model, ids):
    model.eval()
    with torch.no_grad():
        return model(ids).logits.flatten()


def randomize(model, seed):
    """Weights far from init (std 0.02 would hide a wrong norm or rotation), norms around 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def fixture(d):
    """The llama family's base folder, for tests that run without Python (written once, committed)."""
    spec = FAMILIES["llama"]
    tok = tokenizer_for(d)
    cfg = spec["cls"](vocab_size=len(tok), eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, **spec["kw"])
    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_config(cfg)
    randomize(model, 7)
    model.save_pretrained(d, safe_serialization=True, max_shard_size=spec["shard"])


def make(d):
    for fam, spec in FAMILIES.items():
        where = os.path.join(d, fam)
        base = os.path.join(where, "base")
        tok = tokenizer_for(base, CHATML if fam == "qwen2" else LLAMA3)
        cfg = spec["cls"](vocab_size=len(tok), eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id,
                          attn_implementation="eager", **spec["kw"])
        torch.manual_seed(1)
        model = AutoModelForCausalLM.from_config(cfg)
        randomize(model, 7)
        model.save_pretrained(base, safe_serialization=True, **({"max_shard_size": spec["shard"]} if spec["shard"] else {}))
        ids = torch.tensor([tok(CORPUS[1], add_special_tokens=False)["input_ids"][:12], list(range(3, 15))])
        expected = {
            "input_ids": ids.tolist(),
            "logits": logits_of(model, ids).tolist(),
            "text": TEXT,
            "text_ids": tok(TEXT, add_special_tokens=False)["input_ids"],
            "decoded": tok.decode(tok(TEXT, add_special_tokens=False)["input_ids"]),
            "files": sorted(os.listdir(base)),
            "chat": CHAT,
            "chat_full": tok.apply_chat_template(CHAT, tokenize=False),
            "chat_prompt": tok.apply_chat_template(CHAT[:-1], tokenize=False, add_generation_prompt=True),
        }
        torch.manual_seed(3)
        lcfg = LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, rank_pattern={"down_proj": 2}, alpha_pattern={"gate_proj": 5},
                          lora_dropout=0.0, init_lora_weights=False, bias="none", task_type="CAUSAL_LM")
        adapted = get_peft_model(model, lcfg)
        adapted.save_pretrained(os.path.join(where, "py_adapter"))
        expected["py_adapter_logits"] = logits_of(adapted, ids).tolist()
        expected["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
        with open(os.path.join(where, "expected.json"), "w") as f:
            json.dump(expected, f)


def max_diff(a, b):
    return float((a.double() - torch.tensor(b, dtype=torch.float64)).abs().max())


def check(d):
    result = {}
    for fam in FAMILIES:
        where = os.path.join(d, fam)
        with open(os.path.join(where, "expected.json")) as f:
            ids = torch.tensor(json.load(f)["input_ids"])
        with open(os.path.join(where, "ours", "logits.json")) as f:
            ours = json.load(f)
        base = lambda: AutoModelForCausalLM.from_pretrained(os.path.join(where, "base"), attn_implementation="eager")  # noqa: E731
        adapted = PeftModel.from_pretrained(base(), os.path.join(where, "ours", "adapter"))
        modules = sorted(n for n, m in adapted.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A)
        merged = AutoModelForCausalLM.from_pretrained(os.path.join(where, "ours", "merged"), attn_implementation="eager")
        result[fam] = {
            "adapter": max_diff(logits_of(adapted, ids), ours),
            "merged": max_diff(logits_of(merged, ids), ours),
            "peft_merge_and_unload": max_diff(logits_of(adapted.merge_and_unload(), ids), ours),
            "merged_class": type(merged).__name__,
            "modules": len(modules),
        }
    # our exported train.py (DIR/llama/project) for its few steps, then PEFT's logits with the adapter it wrote
    import runpy

    project = os.path.join(d, "llama", "project")
    with open(os.path.join(d, "llama", "expected.json")) as f:
        ids = torch.tensor(json.load(f)["input_ids"])
    cwd = os.getcwd()
    os.chdir(project)
    try:
        runpy.run_path("train.py", run_name="__main__")
    finally:
        os.chdir(cwd)
    final = os.path.join(project, "run", "final")
    states = sorted(x for x in os.listdir(os.path.join(project, "run")) if x.startswith("checkpoint-"))
    with open(os.path.join(project, "run", states[-1], "trainer_state.json")) as f:
        state = json.load(f)
    base = AutoModelForCausalLM.from_pretrained(os.path.join(d, "llama", "base"), attn_implementation="eager")
    trained = PeftModel.from_pretrained(base, final)
    result["train"] = {
        "dir": final,
        "global_step": state["global_step"],
        "losses": [e["loss"] for e in state["log_history"] if "loss" in e],
        "logits": logits_of(trained, ids).tolist(),
        "modules": sorted(n for n, m in trained.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A),
    }
    with open(os.path.join(d, "check.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    {"make": make, "check": check, "fixture": fixture}[sys.argv[1]](sys.argv[2])
