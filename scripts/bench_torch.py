"""PyTorch anchor for scripts/bench.ts: the same model and training step, timed on the CPU with one thread.

GPT-2 layout (learned positions, pre-LayerNorm, tanh-GELU, biases, output head tied to wte), AdamW (lr 3e-3,
betas 0.9/0.999, eps 1e-8, no weight decay), gradient clipping at norm 1, batch 16 of random tokens.
LoRA: rank 4, alpha 8 on q and v (their column slices of c_attn), base frozen; full: every weight trains.
Prints one JSON object: {"rows": [{size, method, msPerStep, tokensPerSec, cpuMsPerStep, ...}]}, medians after 4 warm-up
steps; cpuMsPerStep is the process's CPU time per step (steadier than wall time on a shared machine).

  /usr/bin/python3 scripts/bench_torch.py [--steps 12] [--sizes tiny-world,ref-0.8M] [--methods lora,full] [--threads 1]
(Debian: python3-torch and libopenblas0-pthread; without OpenBLAS torch falls back to a ~20x slower BLAS.)
"""

import argparse
import json
import math
import os
import statistics
import sys
import time


def _threads_arg():
    """--threads, read before torch loads: OpenBLAS sizes its own pool from the environment at load time."""
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# torch.set_num_threads(1) does not reach Debian's libopenblas0-pthread: without these its matmuls ran on every core
# (CPU time twice the wall time on the 2-core dev machine), so the "one thread" anchor was really two
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = _threads_arg()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SIZES = {  # must match SIZES in scripts/bench.ts
    "tiny-world": dict(vocab=99, block=128, n_layer=4, n_head=4, n_embd=64),
    "ref-0.8M": dict(vocab=99, block=64, n_layer=4, n_head=4, n_embd=128),
    "gpt-135M": dict(vocab=49152, block=128, n_layer=30, n_head=9, n_embd=576, batch=2),
}
BATCH = 16
WARMUP = 4  # as scripts/bench.ts


class LoraSlice(nn.Module):
    """s·(x·A)·B added to one column slice [offset, offset + out) of a fused projection's output."""

    def __init__(self, d_in, d_out, offset, rank=4, alpha=8.0):
        super().__init__()
        self.A = nn.Parameter(torch.empty(d_in, rank).uniform_(-1 / math.sqrt(d_in), 1 / math.sqrt(d_in)))
        self.B = nn.Parameter(torch.zeros(rank, d_out))
        self.offset, self.d_out, self.scale = offset, d_out, alpha / rank

    def delta(self, x, width):
        d = (x @ self.A) @ self.B * self.scale
        return F.pad(d, (self.offset, width - self.offset - self.d_out))


class Block(nn.Module):
    def __init__(self, c, lora):
        super().__init__()
        C = c["n_embd"]
        self.n_head = c["n_head"]
        self.ln_1, self.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        self.lora = nn.ModuleList([LoraSlice(C, C, 0), LoraSlice(C, C, 2 * C)]) if lora else None

    def forward(self, x):
        B, T, C = x.shape
        h = self.ln_1(x)
        qkv = self.c_attn(h)
        if self.lora is not None:
            for ad in self.lora:
                qkv = qkv + ad.delta(h, 3 * C)
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, c, lora):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(c["vocab"], c["n_embd"]), nn.Embedding(c["block"], c["n_embd"])
        self.h = nn.ModuleList([Block(c, lora) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=1e-5)
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() == 2 and ".lora" not in name:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def bench(size, method, steps):
    c = SIZES[size]
    B = c.get("batch", BATCH)
    torch.manual_seed(1)
    model = GPT(c, lora=method == "lora")
    if method == "lora":
        for name, p in model.named_parameters():
            p.requires_grad = ".lora." in name
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=3e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator().manual_seed(3)
    times, cpu = [], []
    for _ in range(steps):
        ids = torch.randint(0, c["vocab"], (B, c["block"] + 1), generator=g)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(ids[:, :-1], ids[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    ms = statistics.median(times[WARMUP:])
    return dict(size=size, method=method, params=sum(p.numel() for n, p in model.named_parameters() if ".lora." not in n), trainable=sum(p.numel() for p in params),
                batch=B, seqLen=c["block"], msPerStep=round(ms, 1), tokensPerSec=round(B * c["block"] * 1000 / ms),
                cpuMsPerStep=round(statistics.median(cpu[WARMUP:]), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--sizes", default="tiny-world,ref-0.8M")
    ap.add_argument("--methods", default="lora,full")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = [bench(s, m, max(a.steps, WARMUP + 1)) for s in a.sizes.split(",") for m in a.methods.split(",")]
    print(json.dumps(dict(engine=f"torch {torch.__version__}", threads=a.threads, steps=a.steps, warmupExcluded=WARMUP, rows=rows)))


if __name__ == "__main__":
    main()
