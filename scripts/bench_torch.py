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
    "small-world": dict(vocab=99, block=128, n_layer=4, n_head=4, n_embd=128),
    "ref-0.8M": dict(vocab=99, block=64, n_layer=4, n_head=4, n_embd=128),
    "gpt-135M": dict(vocab=49152, block=128, n_layer=30, n_head=9, n_embd=576, batch=2),
    # SmolLM2-135M's shape in the Llama layout: 9 query heads over 3 kv heads, SwiGLU 1536, tied head; LoRA r8 on q, v
    "llama-135M": dict(vocab=49152, block=128, n_layer=30, n_head=9, n_embd=576, batch=2, llama=dict(kv=3, inter=1536, theta=100000.0), rank=8, alpha=16.0),
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
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf")).softmax(-1)
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
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1), device=idx.device))
        for b in self.h:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


class Lora(nn.Module):
    """A linear layer's output plus s·(x·A)·B."""

    def __init__(self, d_in, d_out, rank, alpha):
        super().__init__()
        self.A = nn.Parameter(torch.empty(d_in, rank).uniform_(-1 / math.sqrt(d_in), 1 / math.sqrt(d_in)))
        self.B = nn.Parameter(torch.zeros(rank, d_out))
        self.scale = alpha / rank

    def forward(self, x, out):
        return out + (x @ self.A) @ self.B * self.scale


def rope(x, theta):
    """transformers' apply_rotary_pos_emb: x [B, H, T, hd]."""
    T, hd = x.shape[2], x.shape[3]
    inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float32, device=x.device) / hd)
    ang = torch.outer(torch.arange(T, dtype=torch.float32, device=x.device), inv)
    emb = torch.cat([ang, ang], -1)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
    return x * emb.cos() + torch.cat([-x2, x1], -1) * emb.sin()


class LlamaBlock(nn.Module):
    def __init__(self, c, lora):
        super().__init__()
        C, L = c["n_embd"], c["llama"]
        self.nh, self.nkv, self.theta = c["n_head"], L["kv"], L["theta"]
        kv = C // self.nh * self.nkv
        self.n1, self.n2 = RMSNorm(C), RMSNorm(C)
        self.q, self.k, self.v, self.o = (nn.Linear(C, d, bias=False) for d in (C, kv, kv, C))
        self.gate, self.up = nn.Linear(C, L["inter"], bias=False), nn.Linear(C, L["inter"], bias=False)
        self.down = nn.Linear(L["inter"], C, bias=False)
        self.lq = Lora(C, C, c["rank"], c["alpha"]) if lora else None
        self.lv = Lora(C, kv, c["rank"], c["alpha"]) if lora else None

    def forward(self, x):
        B, T, C = x.shape
        hd = C // self.nh
        h = self.n1(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        if self.lq is not None:
            q, v = self.lq(h, q), self.lv(h, v)
        q = rope(q.view(B, T, self.nh, hd).transpose(1, 2), self.theta)
        k = rope(k.view(B, T, self.nkv, hd).transpose(1, 2), self.theta).repeat_interleave(self.nh // self.nkv, 1)
        v = v.view(B, T, self.nkv, hd).transpose(1, 2).repeat_interleave(self.nh // self.nkv, 1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, C))
        m = self.n2(x)
        return x + self.down(F.silu(self.gate(m)) * self.up(m))


class RMSNorm(nn.Module):
    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(C)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Llama(nn.Module):
    def __init__(self, c, lora):
        super().__init__()
        self.wte = nn.Embedding(c["vocab"], c["n_embd"])
        self.h = nn.ModuleList([LlamaBlock(c, lora) for _ in range(c["n_layer"])])
        self.norm = RMSNorm(c["n_embd"])
        for name, p in self.named_parameters():
            if p.dim() == 2 and not name.endswith((".A", ".B")):
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        x = self.wte(idx)
        for b in self.h:
            x = b(x)
        logits = self.norm(x) @ self.wte.weight.t()  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def bench(size, method, steps, device="cpu"):
    c = SIZES[size]
    B = c.get("batch", BATCH)
    torch.manual_seed(1)
    model = (Llama if "llama" in c else GPT)(c, lora=method == "lora").to(device)
    if method == "lora":
        for name, p in model.named_parameters():
            p.requires_grad = ".lora." in name or name.endswith((".A", ".B"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=3e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator().manual_seed(3)
    times, cpu = [], []
    for _ in range(steps):
        ids = torch.randint(0, c["vocab"], (B, c["block"] + 1), generator=g).to(device)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(ids[:, :-1], ids[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        loss.item()  # waits for the step (on CUDA too: the value comes back to the host)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    ms = statistics.median(times[WARMUP:])
    return dict(size=size, method=method, params=sum(p.numel() for n, p in model.named_parameters() if ".lora." not in n and not n.endswith((".A", ".B"))), trainable=sum(p.numel() for p in params),
                batch=B, seqLen=c["block"], msPerStep=round(ms, 1), tokensPerSec=round(B * c["block"] * 1000 / ms),
                cpuMsPerStep=round(statistics.median(cpu[WARMUP:]), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--sizes", default="tiny-world,ref-0.8M")
    ap.add_argument("--methods", default="lora,full")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU bench (scripts/bench-gpu.ts)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 products, as WebGPU computes them
    rows = [bench(s, m, max(a.steps, WARMUP + 1), a.device) for s in a.sizes.split(",") for m in a.methods.split(",")]
    card = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    print(json.dumps(dict(engine=f"torch {torch.__version__}", device=card, threads=a.threads, steps=a.steps, warmupExcluded=WARMUP, rows=rows)))


if __name__ == "__main__":
    main()
