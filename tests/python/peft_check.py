#!/usr/bin/env python3
"""Our engine's exports checked by the real libraries, and adapters made by them for our engine to load.

Driven by tests/unit/python-peft.test.ts, which writes DIR (our side) and reads DIR/result.json back:
  DIR/ids.json                         input ids [B, T] (golden.json's)
  DIR/base/                            the tiny GPT-2 fixture (config.json + model.safetensors); a Hugging Face
                                       tokenizer matching the test's character tokenizer is added here
  DIR/ours/<case>/adapter/             our PEFT export      -> PeftModel.from_pretrained, logits vs ours
  DIR/ours/<case>/merged/              our merged export    -> GPT2LMHeadModel.from_pretrained, logits vs ours
  DIR/ours/<case>/logits.json          our logits with the adapter (float32, flattened [B*T*V])
  DIR/project/                         our exported Python project (train.py), run here for its few steps
and writes
  DIR/py/<case>/                       adapters made with get_peft_model + save_pretrained (random B)
  DIR/result.json                      versions, max |logit difference| per check, PEFT's logits for DIR/py/*
                                       and for the adapter train.py wrote

Run: .venv/bin/python tests/python/peft_check.py DIR   (CPU, one thread; a few seconds after the imports)
"""

import json
import os
import runpy
import sys

import torch

torch.set_num_threads(1)  # faster than 2 on the project's 2-core machines (docs/PLATFORM facts)

import accelerate  # noqa: E402
import peft  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402

# Adapters made here: (name, LoraConfig arguments). target "c_proj" catches attn.c_proj and mlp.c_proj, as
# users write it; rank/alpha patterns and layers_to_transform exercise PEFT's per-module rules.
PY_CASES = [
    ("qv", dict(r=4, lora_alpha=8, target_modules=["c_attn"])),
    ("all", dict(r=4, lora_alpha=16, target_modules=["c_attn", "c_proj", "c_fc"], rank_pattern={"c_fc": 2}, alpha_pattern={"c_fc": 5})),
    ("rslora", dict(r=3, lora_alpha=7, use_rslora=True, target_modules=["c_attn", "c_fc"], layers_to_transform=[1], layers_pattern="h")),
]


def logits_of(model, ids):
    model.eval()
    with torch.no_grad():
        return model(ids).logits.flatten()


def max_diff(a, b):
    return float((a.double() - torch.tensor(b, dtype=torch.float64)).abs().max())


def base_model(d):
    return GPT2LMHeadModel.from_pretrained(os.path.join(d, "base"))


def add_tokenizer(base_dir, chars):
    """A Hugging Face tokenizer giving the ids of the test's CharTokenizer: <eos> 0, <unk> 1, chars from 2."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, "<unk>": 1, **{ch: i + 2 for i, ch in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")  # one token per character
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", unk_token="<unk>", pad_token="<eos>").save_pretrained(base_dir)


def main(d):
    with open(os.path.join(d, "ids.json")) as f:
        spec = json.load(f)
    ids = torch.tensor(spec["input_ids"])
    result = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__, "accelerate": accelerate.__version__}}

    base_logits = logits_of(base_model(d), ids)
    result["base_vs_golden"] = max_diff(base_logits, spec["golden"])

    # 1) our exports, loaded by the libraries
    result["ours"] = {}
    for case in sorted(os.listdir(os.path.join(d, "ours"))):
        where = os.path.join(d, "ours", case)
        with open(os.path.join(where, "logits.json")) as f:
            ours = json.load(f)
        adapted = PeftModel.from_pretrained(base_model(d), os.path.join(where, "adapter"))
        modules = sorted(n for n, m in adapted.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A)
        merged = GPT2LMHeadModel.from_pretrained(os.path.join(where, "merged"))
        peft_logits = logits_of(adapted, ids)
        result["ours"][case] = {
            "adapter": max_diff(peft_logits, ours),
            "merged": max_diff(logits_of(merged, ids), ours),
            "peft_merge_and_unload": max_diff(logits_of(adapted.merge_and_unload(), ids), ours),
            "vs_base": float((peft_logits - base_logits).abs().max()),  # the adapter does something
            "modules": modules,
        }

    # 2) adapters made by PEFT, for our engine to load
    result["py"] = {}
    for i, (name, kwargs) in enumerate(PY_CASES):
        torch.manual_seed(100 + i)
        cfg = LoraConfig(lora_dropout=0.0, fan_in_fan_out=True, init_lora_weights=False, bias="none", task_type="CAUSAL_LM", **kwargs)
        model = get_peft_model(base_model(d), cfg)
        out = os.path.join(d, "py", name)
        model.save_pretrained(out)
        result["py"][name] = {"dir": out, "logits": logits_of(model, ids).tolist()}

    # 3) our exported train.py: a couple of steps on CPU, then PEFT's logits with the adapter it wrote
    add_tokenizer(os.path.join(d, "base"), spec["chars"])
    project = os.path.join(d, "project")
    cwd = os.getcwd()
    os.chdir(project)
    try:
        runpy.run_path("train.py", run_name="__main__")
    finally:
        os.chdir(cwd)
    final = os.path.join(project, spec["output_dir"], "final")
    states = sorted(x for x in os.listdir(os.path.join(project, spec["output_dir"])) if x.startswith("checkpoint-"))
    with open(os.path.join(project, spec["output_dir"], states[-1], "trainer_state.json")) as f:
        state = json.load(f)
    trained = PeftModel.from_pretrained(base_model(d), final)
    result["train"] = {
        "dir": final,
        "global_step": state["global_step"],
        "losses": [e["loss"] for e in state["log_history"] if "loss" in e],
        "logits": logits_of(trained, ids).tolist(),
        "files": sorted(os.listdir(final)),
    }

    with open(os.path.join(d, "result.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
