#!/usr/bin/python3
"""The copy probe (src/core/eval/copy-probe.ts) measured with an independent PyTorch forward pass
(scripts/maintain/pretrain_torch.py's), on the same fixed texts (tests/fixtures/copy-probe.json):

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/probes/copy_probe.py [MODEL_DIR ...]

Prints one JSON line per model folder (default: the shipped character models in public/models).
"""
import json, os, sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "maintain"))
import pretrain_torch as pt  # noqa: E402


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        arch = json.load(f)["arch"]
    # the whole arch, so that every layout pretrain_torch.forward knows (llama, qkvConv) reaches it
    a = {"mlpRatio": 4, "layerNormEps": 1e-5, **arch}
    return pt.read_safetensors(os.path.join(folder, "model.safetensors")), a


@torch.no_grad()
def probe(p, a, probe_set):
    first = second = 0.0
    n_first = n_second = 0
    for r in probe_set["repeat"]:
        ids = torch.tensor([pt.encode(r["text"])])
        nll = F.cross_entropy(pt.forward(p, a, ids[:, :-1])[0], ids[0, 1:], reduction="none")  # nll[i]: id i+1
        (s1, e1), (s2, e2) = r["first"], r["second"]
        first += nll[s1:e1 - 1].sum().item()  # characters s1+1 .. e1-1
        n_first += e1 - 1 - s1
        second += nll[s2 - 1:e2 - 1].sum().item()  # characters s2 .. e2-1
        n_second += e2 - s2
    right = {"forward": [0, 0], "backward": [0, 0]}
    stop = (pt.EOS, pt.TO_ID["\n"])
    for q in probe_set["recall"]:
        out = pt.greedy_ids(p, a, pt.encode(q["prompt"]), 8, stop)
        text = "".join(pt.CHARS[i - 2] if i >= 2 else "?" for i in out)
        norm = lambda s: s.strip().removesuffix(".").strip().lower()
        right[q["direction"]][0] += norm(text) == norm(q["answer"])
        right[q["direction"]][1] += 1
    return {"firstCopy": round(first / n_first, 4), "secondCopy": round(second / n_second, 4),
            "recallForward": round(right["forward"][0] / right["forward"][1], 4),
            "recallBackward": round(right["backward"][0] / right["backward"][1], 4)}


def main():
    torch.set_num_threads(1)
    with open(os.path.join(pt.ROOT, "tests/fixtures/copy-probe.json")) as f:
        probe_set = json.load(f)
    folders = sys.argv[1:] or [os.path.join(pt.ROOT, "public/models", n) for n in sorted(os.listdir(os.path.join(pt.ROOT, "public/models")))]
    for folder in folders:
        p, a = load(folder)
        print(json.dumps({"model": os.path.basename(folder.rstrip("/")), **probe(p, a, probe_set)}), flush=True)


if __name__ == "__main__":
    main()
