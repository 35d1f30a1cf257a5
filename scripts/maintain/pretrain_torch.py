#!/usr/bin/python3
"""Pretrains the built-in "small-world" character GPT in PyTorch and writes it in our format.

The model is the engine's GPT-2 layout exactly (src/core/model/gpt.ts): token + learned position embeddings,
pre-LayerNorm blocks, fused c_attn, tanh-GELU MLP, final LayerNorm, head tied to wte; weights stored [in, out]
under Hugging Face GPT-2 names in model.safetensors. Seeded; resumable from --ckpt. Run by us, never by CI:

  npm run model:torch -- [--steps 4500] [--out DIR] [--force]    (Debian's /usr/bin/python3 with python3-torch)

On a CUDA machine (--device cuda) it trains the same model with a larger batch (--batch), on the shipped train.txt
plus the further text of `make-corpus-v2.ts --extra` (--extra FILE), for a fixed number of steps or as many as fit a
time budget (--budget-min: the steps are fixed from the speed of steps 101-300, and recorded and checkpointed; the
budget counts training steps only, not the held-out and QA checks every --every steps). Attention there uses
PyTorch's fused causal kernel and matrix products may use TF32; the golden logits are always computed on the CPU in
full float32 from the final weights.

It refuses to overwrite an existing public/models/small-world/ unless --force (or an explicit --out) is given.
Besides the model it writes tests/fixtures/small-world-golden.json: logits of the saved weights for a fixed
input, which tests/unit/small-world.test.ts checks our engine against.
"""
import argparse, collections, json, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "small-world"
ARCH = dict(vocabSize=99, blockSize=128, nLayer=4, nHead=4, nEmbd=128, mlpRatio=4, layerNormEps=1e-5)
HP = dict(lr=3e-3, warmup=200, min_lr_ratio=0.1, weight_decay=0.1, beta1=0.9, beta2=0.95, clip=1.0, batch=16, aligned=0.5, seed=1234)
GOLDEN_TEXT = 'Mia has a red kite and a blue cup. What colour is the cup?\nA: The cup is blue.'


# ---------------------------------------------------------------- tokenizer (src/core/tokenizer/char.ts) -----
CHARS = ["\t", "\n"] + [chr(c) for c in range(32, 127)]
EOS, UNK = 0, 1
TO_ID = {ch: i + 2 for i, ch in enumerate(CHARS)}


def encode(text):
    return [TO_ID.get(ch, UNK) for ch in text]


def document_stream(text):
    """Documents (separated by blank lines) joined by <eos>: doc <eos> doc <eos> ... Returns ids and doc starts.
    (Vectorised: each blank line, the two characters "\n\n", becomes one <eos>, and one <eos> closes the text.)"""
    table = np.full(256, UNK, dtype=np.int64)
    for ch, i in TO_ID.items():
        table[ord(ch)] = i
    raw = np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)
    ids = table[raw]
    nl = raw == 10
    sep = np.flatnonzero(nl[:-1] & nl[1:])  # first "\n" of each blank line (the corpus never holds three in a row)
    ids[sep] = EOS
    keep = np.ones(len(ids), dtype=bool)
    keep[sep + 1] = False
    ids = np.append(ids[keep], EOS)
    eos_at = np.flatnonzero(ids == EOS)
    starts = np.concatenate([[0], eos_at[:-1] + 1])
    return torch.from_numpy(ids), starts.tolist()


# ---------------------------------------------------------------- model (src/core/model/gpt.ts) --------------
def llama_layout(a):
    """Arch a in the engine's Llama layout at about small-world's parameter count (SwiGLU 344 wide), in place."""
    a.update(mlpRatio=344 / a["nEmbd"], llama=dict(nKvHead=a["nHead"], intermediateSize=344, ropeTheta=10000.0, qkvBias=False, tiedHead=True))
    return a


def llama_shapes(a):
    """The engine's Llama layout (src/core/model/llama.ts): projections [in, out] under transformers' names sans "model."."""
    C, L = a["nEmbd"], a["llama"]
    kv, I = C // a["nHead"] * L["nKvHead"], L["intermediateSize"]
    shapes = [("embed_tokens.weight", [a["vocabSize"], C])]
    for i in range(a["nLayer"]):
        p = f"layers.{i}."
        shapes += [(p + "input_layernorm.weight", [C]), (p + "self_attn.q_proj.weight", [C, C]), (p + "self_attn.k_proj.weight", [C, kv]),
                   (p + "self_attn.v_proj.weight", [C, kv]), (p + "self_attn.o_proj.weight", [C, C]), (p + "post_attention_layernorm.weight", [C]),
                   (p + "mlp.gate_proj.weight", [C, I]), (p + "mlp.up_proj.weight", [C, I]), (p + "mlp.down_proj.weight", [I, C])]
    return shapes + [("norm.weight", [C])] + ([] if L["tiedHead"] else [("lm_head.weight", [a["vocabSize"], C])])


def param_shapes(a):
    if a.get("llama"):
        return llama_shapes(a)
    C, H = a["nEmbd"], a["mlpRatio"] * a["nEmbd"]
    shapes = [("wte.weight", [a["vocabSize"], C]), ("wpe.weight", [a["blockSize"], C])]
    for i in range(a["nLayer"]):
        p = f"h.{i}."
        shapes += [(p + "ln_1.weight", [C]), (p + "ln_1.bias", [C]), (p + "attn.c_attn.weight", [C, 3 * C]), (p + "attn.c_attn.bias", [3 * C]),
                   (p + "attn.c_proj.weight", [C, C]), (p + "attn.c_proj.bias", [C]), (p + "ln_2.weight", [C]), (p + "ln_2.bias", [C]),
                   (p + "mlp.c_fc.weight", [C, H]), (p + "mlp.c_fc.bias", [H]), (p + "mlp.c_proj.weight", [H, C]), (p + "mlp.c_proj.bias", [C])]
        if a.get("qkvConv"):  # the short convolution on q, k, v (an experiment: --qkv-conv)
            shapes.append((p + "attn.conv.weight", [3 * C, a["qkvConv"]]))
    return shapes + [("ln_f.weight", [C]), ("ln_f.bias", [C])]


def init_params(a, gen):
    """GPT-2 initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 nLayer), LayerNorm (1, 0)."""
    params = {}
    for name, shape in param_shapes(a):
        if name.endswith(("ln_1.weight", "ln_2.weight", "norm.weight")) or name == "ln_f.weight":
            t = torch.ones(shape)
        elif name.endswith("attn.conv.weight"):  # starts as the identity: the tap on the position itself is 1
            t = torch.zeros(shape)
            t[:, -1] = 1.0
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            resid = name.endswith(("c_proj.weight", "o_proj.weight", "down_proj.weight"))
            std = 0.02 / math.sqrt(2 * a["nLayer"]) if resid else 0.02
            t = torch.randn(shape, generator=gen) * std
        params[name] = t.requires_grad_(True)
    return params


def gelu(x):  # GPT-2's "gelu_new", 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), fused; the engine computes it as x * sigmoid(2u)
    return F.gelu(x, approximate="tanh")


def llama_forward(p, a, ids):
    """The engine's Llama layout: RMSNorm, rotary q/k (rotate_half), grouped-query attention, SwiGLU. ids [B, T] -> [B, T, V]."""
    B, T = ids.shape
    C, nh, L = a["nEmbd"], a["nHead"], a["llama"]
    hd, nkv = C // nh, L["nKvHead"]
    inv = 1.0 / (L["ropeTheta"] ** (torch.arange(0, hd, 2, device=ids.device).float() / hd))
    ang = torch.arange(T, device=ids.device).float()[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    rot = lambda t: t * cos + torch.cat([-t[..., hd // 2:], t[..., : hd // 2]], -1) * sin
    rms = lambda t, n: t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + a["layerNormEps"]) * p[n]
    x = p["embed_tokens.weight"][ids]
    for i in range(a["nLayer"]):
        h = f"layers.{i}."
        x1 = rms(x, h + "input_layernorm.weight")
        q = rot((x1 @ p[h + "self_attn.q_proj.weight"]).view(B, T, nh, hd).transpose(1, 2))
        k = rot((x1 @ p[h + "self_attn.k_proj.weight"]).view(B, T, nkv, hd).transpose(1, 2)).repeat_interleave(nh // nkv, 1)
        v = (x1 @ p[h + "self_attn.v_proj.weight"]).view(B, T, nkv, hd).transpose(1, 2).repeat_interleave(nh // nkv, 1)
        if ids.is_cuda:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
            y = torch.softmax((q / math.sqrt(hd)) @ k.transpose(-1, -2) + mask, dim=-1) @ v
        x = x + y.transpose(1, 2).reshape(B, T, C) @ p[h + "self_attn.o_proj.weight"]
        x2 = rms(x, h + "post_attention_layernorm.weight")
        x = x + (F.silu(x2 @ p[h + "mlp.gate_proj.weight"]) * (x2 @ p[h + "mlp.up_proj.weight"])) @ p[h + "mlp.down_proj.weight"]
    return rms(x, "norm.weight") @ p["lm_head.weight" if "lm_head.weight" in p else "embed_tokens.weight"].t()


def forward(p, a, ids):
    """ids [B, T] -> logits [B, T, V]."""
    if a.get("llama"):
        return llama_forward(p, a, ids)
    B, T = ids.shape
    C, nh = a["nEmbd"], a["nHead"]
    hd = C // nh
    x = p["wte.weight"][ids] + p["wpe.weight"][:T]  # [B, T, C]
    ln = lambda t, n: F.layer_norm(t, (C,), p[n + ".weight"], p[n + ".bias"], a["layerNormEps"])
    for i in range(a["nLayer"]):
        h = f"h.{i}."
        x1 = ln(x, h + "ln_1")
        qkv = x1 @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]  # [B, T, 3C]
        if a.get("qkvConv"):  # causal depthwise convolution over time: each q, k, v mixes those of the W-1 positions before
            w = p[h + "attn.conv.weight"]  # [3C, W], the last tap on the position itself
            qkv = F.conv1d(F.pad(qkv.transpose(1, 2), (w.shape[1] - 1, 0)), w[:, None, :], groups=3 * C).transpose(1, 2)
        q, k, v = (t.view(B, T, nh, hd).transpose(1, 2) for t in qkv.split(C, dim=2))  # [B, nh, T, hd]
        if ids.is_cuda:  # the same softmax(q k^T / sqrt(hd) + causal mask) v, fused
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        else:
            mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
            att = torch.softmax((q / math.sqrt(hd)) @ k.transpose(-1, -2) + mask, dim=-1)  # [B, nh, T, T]
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        x2 = ln(x, h + "ln_2")
        x = x + gelu(x2 @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"]) @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ p["wte.weight"].t()  # tied head


# ---------------------------------------------------------------- safetensors (src/core/model/safetensors.ts) -
def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # keep the data 8-byte aligned
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def read_safetensors(path):
    """The F32 tensors write_safetensors wrote (a model folder's model.safetensors), by name, as trainable leaves."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header, base = json.loads(raw[8:8 + n]), 8 + n
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        s, e = v["data_offsets"]
        t = torch.from_numpy(np.frombuffer(raw[base + s:base + e], dtype=np.float32).copy()).view(v["shape"])
        out[name] = t.requires_grad_(True)
    return out


# ---------------------------------------------------------------- training -----------------------------------
def lr_at(step, total, schedule=None, anneal=0):
    """1. linear warmup to lr; 2. cosine decay towards lr * min_lr_ratio at step `schedule` (default: total);
    3. over the last `anneal` steps, linear decay from where the cosine is to lr * min_lr_ratio at `total`."""
    schedule = schedule or total

    def cosine(s):
        if s < HP["warmup"]:
            return HP["lr"] * (s + 1) / HP["warmup"]
        progress = min(1.0, (s - HP["warmup"]) / max(1, schedule - HP["warmup"]))
        return HP["lr"] * (HP["min_lr_ratio"] + (1 - HP["min_lr_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress)))

    start = total - anneal
    if anneal <= 0 or step < start:
        return cosine(step)
    low = HP["lr"] * HP["min_lr_ratio"]
    return cosine(start) + (low - cosine(start)) * (step - start + 1) / anneal


def batch_at(step, ids, starts, T):
    """B windows of T+1 tokens from Generator(seed + step): half start at a document's first character."""
    g = torch.Generator().manual_seed(HP["seed"] + 1 + step)
    rows = []
    for _ in range(HP["batch"]):
        if torch.rand(1, generator=g).item() < HP["aligned"]:
            s = starts[torch.randint(len(starts), (1,), generator=g).item()]
            s = min(s, len(ids) - T - 1)
        else:
            s = torch.randint(len(ids) - T - 1, (1,), generator=g).item()
        rows.append(ids[s:s + T + 1])
    b = torch.stack(rows)
    return b[:, :-1], b[:, 1:]


def batch_vectorised(step, ids, starts_t, T, batch):
    """The same mix as batch_at (half the windows at a document's start), drawn in one go: for the large batches
    of a GPU run, where one Python call per row would cost more than the step."""
    g = torch.Generator().manual_seed(HP["seed"] + 1 + step)
    aligned = torch.rand(batch, generator=g) < HP["aligned"]
    doc = starts_t[torch.randint(len(starts_t), (batch,), generator=g)].clamp(max=len(ids) - T - 1)
    anywhere = torch.randint(len(ids) - T - 1, (batch,), generator=g)
    s = torch.where(aligned, doc, anywhere)
    b = ids[(s[:, None] + torch.arange(T + 1)[None, :]).to(ids.device)]
    return b[:, :-1], b[:, 1:]


@torch.no_grad()
def eval_loss(p, a, ids, T):
    """Mean next-token loss over non-overlapping windows of T+1 tokens (each target counted once)."""
    dev = next(iter(p.values())).device
    total, n = 0.0, 0
    for s in range(0, len(ids) - 1, T):
        w = ids[s:s + T + 1].to(dev)
        if len(w) < 2:
            break
        lg = forward(p, a, w[None, :-1])
        total += F.cross_entropy(lg[0], w[1:], reduction="sum").item()
        n += len(w) - 1
    return total / n


@torch.no_grad()
def greedy_ids(p, a, ids, n, stop):
    """The greedy continuation of token ids: up to n new ids, ending before the first id in `stop`."""
    dev = next(iter(p.values())).device
    ids, out = list(ids), []
    for _ in range(n):
        nxt = forward(p, a, torch.tensor([ids[-a["blockSize"]:]], device=dev))[0, -1].argmax().item()
        if nxt in stop:
            break
        ids.append(nxt)
        out.append(nxt)
    return out


def greedy(p, a, prompt, n=24):
    """Greedy continuation up to <eos>, a newline or n characters."""
    return "".join(CHARS[i - 2] if i >= 2 else "?" for i in greedy_ids(p, a, encode(prompt), n, (EOS, TO_ID["\n"])))


def adamw(p, lr):
    """AdamW as GPT-2 trains: weight decay on the matrices, not on the embeddings, biases or LayerNorms (nor on the
    experimental q/k/v convolution, which starts as the identity and would decay towards zero)."""
    decayed = lambda n, t: t.dim() >= 2 and n not in ("wte.weight", "wpe.weight", "embed_tokens.weight", "lm_head.weight") and not n.endswith("attn.conv.weight")
    groups = [{"params": [t for n, t in p.items() if decayed(n, t)], "weight_decay": HP["weight_decay"]},
              {"params": [t for n, t in p.items() if not decayed(n, t)], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(HP["beta1"], HP["beta2"]), eps=1e-8)


def qa_zero_shot(p, a, rows):
    """The base model, no fine-tuning, on qa-context questions in the corpus's own formats: the short answer after
    "\nAnswer: " equal to the expected one, and the full sentence after "\nA: " naming it (a quick check of the
    lookup the QA lessons need; the card's figure is measured by our engine after the LoRA recipe)."""
    short = qa_short(p, a, rows)
    sentence = 0
    for r in rows:
        words = greedy(p, a, r["prompt"] + "\nA: ", 40).rstrip(".").split(" ")
        sentence += r["completion"].split(" ")[-1] in words
    return round(short / len(rows), 4), round(sentence / len(rows), 4)


def qa_short(p, a, rows):
    """How many qa rows the model answers exactly after "\nAnswer: " (greedy, up to a newline or <eos>)."""
    return sum(greedy(p, a, r["prompt"] + "\nAnswer: ").strip() == r["completion"] for r in rows)


@torch.no_grad()
def sample(p, a, prompt, n=160, temperature=0.5, top_k=10, seed=7):
    g = torch.Generator().manual_seed(seed)
    ids = encode(prompt)
    out = ""
    for _ in range(n):
        lg = forward(p, a, torch.tensor([ids[-a["blockSize"]:]], device=next(iter(p.values())).device))[0, -1].cpu() / temperature
        v, ix = torch.topk(lg, top_k)
        nxt = ix[torch.multinomial(torch.softmax(v, -1), 1, generator=g)].item()
        if nxt == EOS:
            break
        ids.append(nxt)
        out += CHARS[nxt - 2] if nxt >= 2 else "?"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4500)
    ap.add_argument("--out", default=None, help="model folder to write (default public/models/small-world, which must not exist unless --force)")
    ap.add_argument("--force", action="store_true", help="overwrite the shipped model folder")
    ap.add_argument("--ckpt", default=os.path.join(ROOT, ".pretrain-torch"), help="checkpoint folder (resumes from it)")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    ap.add_argument("--schedule-steps", type=int, default=0, help="length of the cosine schedule (default: --steps)")
    ap.add_argument("--anneal", type=int, default=0, help="decay the lr linearly to its floor over the last N steps")
    ap.add_argument("--every", type=int, default=500, help="steps between checkpoints and held-out evaluations")
    ap.add_argument("--time-only", type=int, default=0, help="time this many steps, print ms/step and exit (writes nothing)")
    ap.add_argument("--export-only", action="store_true", help="write the checkpoint's weights to --out (with its golden logits there) without training")
    ap.add_argument("--device", default="cpu", help="cpu (default, one thread) or cuda")
    ap.add_argument("--batch", type=int, default=HP["batch"], help=f"windows per step (default {HP['batch']})")
    ap.add_argument("--lr", type=float, default=HP["lr"], help=f"peak learning rate (default {HP['lr']})")
    ap.add_argument("--warmup", type=int, default=HP["warmup"], help=f"warmup steps (default {HP['warmup']})")
    ap.add_argument("--extra", default=None, help="more training text, appended to train.txt (make-corpus-v2.ts --extra)")
    ap.add_argument("--budget-min", type=float, default=0, help="train as many steps as fit in this many minutes (at most --steps)")
    ap.add_argument("--layers", type=int, default=ARCH["nLayer"], help=f"transformer blocks (default {ARCH['nLayer']})")
    ap.add_argument("--layout", choices=["gpt2", "llama"], default="gpt2", help="gpt2 (the shipped layout) or llama (RMSNorm, rotary positions, SwiGLU 344 wide: about as many parameters)")
    ap.add_argument("--qkv-conv", type=int, default=0, help="an experiment (GPT-2 layout only): a causal depthwise convolution of this width on q, k and v in every block (scripts/probes/mqar_torch.py --conv); the engine cannot load it, so it needs --out")
    ap.add_argument("--golden", default=None, help="where the golden logits go (default tests/fixtures/small-world-golden.json; with --export-only, OUT/golden.json)")
    args = ap.parse_args()
    if args.every <= 0 or args.every % 100:
        sys.exit("--every must be a positive multiple of 100 (the training loss is logged every 100 steps)")
    if args.budget_min and args.warmup < 300:
        sys.exit("--budget-min needs --warmup 300 or more: the run's length, and so its cosine, is fixed at step 300")
    HP.update(batch=args.batch, lr=args.lr, warmup=args.warmup)
    ARCH["nLayer"] = args.layers
    if args.layout == "llama":
        llama_layout(ARCH)
    if args.qkv_conv:
        if args.layout != "gpt2" or args.out is None:
            sys.exit("--qkv-conv is an experiment on the GPT-2 layout that the engine cannot load: pass --out DIR (not public/models)")
        ARCH["qkvConv"] = args.qkv_conv
    out = args.out or os.path.join(ROOT, "public", "models", NAME)
    if args.out is None and os.path.exists(os.path.join(out, "model.safetensors")) and not args.force and not args.time_only:
        sys.exit(f"{out} already holds a model; pass --force to overwrite it or --out DIR to write elsewhere")
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_num_threads(1)  # 2 threads were slower than 1 on these 2-core machines
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    a = ARCH
    T = a["blockSize"]
    with open(os.path.join(ROOT, "public/corpus/small-world/train.txt")) as f:
        train_text = f.read()
    if args.extra:
        with open(args.extra) as f:
            train_text += "\n\n" + f.read()
    ids, starts = document_stream(train_text)
    del train_text
    if dev.type != "cpu":
        ids = ids.to(dev)  # windows are cut on the device
    starts_t = torch.tensor(starts, dtype=torch.long)
    with open(os.path.join(ROOT, "public/corpus/small-world/heldout.txt")) as f:
        held_text = f.read()
    held_ids, _ = document_stream(held_text)
    held_plain = torch.tensor(encode(held_text), dtype=torch.long)  # the file as the engine's chunkText reads it
    with open(os.path.join(ROOT, "public/datasets/qa-context.jsonl")) as f:
        qa_rows = [json.loads(l) for l in f if l.strip()][:200]
    print(f"training text: {len(ids):,} tokens, {len(starts):,} documents; device {dev}, batch {HP['batch']}, lr {HP['lr']}", flush=True)

    torch.manual_seed(HP["seed"])
    p = init_params(a, torch.Generator().manual_seed(HP["seed"]))
    if dev.type != "cpu":
        p = {n: t.detach().to(dev).requires_grad_(True) for n, t in p.items()}
    opt = adamw(p, HP["lr"])
    step, wall, log = 0, 0.0, []
    ck = os.path.join(args.ckpt, "state.pt")
    if os.path.exists(ck) and not args.fresh and not args.time_only:
        st = torch.load(ck, map_location=dev)
        with torch.no_grad():
            for n, t in p.items():
                t.copy_(st["params"][n])
        opt.load_state_dict(st["opt"])
        step, wall, log = st["step"], st["wall"], st["log"]
        print(f"resumed at step {step}", flush=True)

    total = args.time_only or args.steps
    if step and "total" in st and args.budget_min:
        total = st["total"]  # a budgeted run resumes with the length it fixed
    if args.export_only:
        if args.out is None:
            sys.exit("--export-only needs --out DIR (the shipped folder is written only by a finished run)")
        total = step
    golden = args.golden or (os.path.join(out, "golden.json") if args.export_only else os.path.join(ROOT, "tests/fixtures/small-world-golden.json"))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    budgeted = bool(args.budget_min) and step == 0
    recent, last_logged = 0.0, step
    window = collections.deque(maxlen=100)  # the last 100 training losses, for the record's final_train_loss
    while step < total:
        t0 = time.time()
        if dev.type == "cpu":
            x, y = batch_at(step, ids, starts, T)
        else:
            x, y = batch_vectorised(step, ids, starts_t, T, HP["batch"])
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step, total, args.schedule_steps, args.anneal)
        loss = F.cross_entropy(forward(p, a, x).reshape(-1, a["vocabSize"]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), HP["clip"])
        opt.step()
        step += 1
        if step % 100 == 0 or step == total or args.time_only:
            sync()
        wall += time.time() - t0
        if budgeted and step == 100:
            wall_100 = wall
        if budgeted and step == 300:  # fix the run's length from the speed of steps 101-300 (past the warm-up)
            per = (wall - wall_100) / 200
            total = max(step, min(args.steps, 300 + int((args.budget_min * 60 - wall) / per)))
            print(f"{1000 * per:.1f} ms/step: {total} steps fit {args.budget_min} min", flush=True)
        if args.time_only:
            print(f"step {step} {1000 * (time.time() - t0):.0f} ms", flush=True)
            continue
        recent = recent + loss.detach()
        window.append(loss.detach())
        entry = {"step": step}
        if step % 100 == 0 or step == total:  # the mean training loss of the steps since the last entry
            entry["loss"] = round(recent.item() / (step - last_logged), 5)
            recent, last_logged = 0.0, step
        if step % args.every == 0 or step == total:
            entry["heldout"] = round(eval_loss(p, a, held_ids, T), 5)
            entry["qa_zero_shot"] = qa_zero_shot(p, a, qa_rows[:60])
            os.makedirs(args.ckpt, exist_ok=True)
            torch.save({"params": {n: t.detach() for n, t in p.items()}, "opt": opt.state_dict(), "step": step, "wall": wall, "log": log + [entry], "total": total}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
        if "loss" in entry:
            log.append(entry)
        if "loss" in entry:
            print(f"step {step}/{total} loss {entry['loss']:.4f}" + (f" heldout {entry['heldout']:.4f} qa(short, sentence) {entry['qa_zero_shot']}" if "heldout" in entry else "") + f" lr {lr_at(step - 1, total, args.schedule_steps, args.anneal):.2e} wall {wall / 60:.1f} min", flush=True)
    if args.time_only:
        return

    # ---- write the model folder, the golden logits and the pretraining record (on the CPU, in full float32) ----
    p = {n: t.detach().cpu() for n, t in p.items()}
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), {n: p[n] for n, _ in param_shapes(a)}, {"format": "pt", "steps": str(total), "script": "scripts/maintain/pretrain_torch.py"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"name": NAME, "tokenizer": "char", "description": f"A {a['nLayer']}-layer character-level {'Llama-layout transformer' if a.get('llama') else 'GPT'} (width {a['nEmbd']}) pretrained in PyTorch on the small-world corpus.", "arch": a}, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        f.write(json.dumps({"kind": "char", "specials": ["<eos>", "<unk>"], "chars": CHARS}, separators=(",", ":")) + "\n")
    gids = encode(GOLDEN_TEXT)
    with torch.no_grad():
        lg = forward(p, a, torch.tensor([gids]))[0]
    os.makedirs(os.path.dirname(golden) or ".", exist_ok=True)
    with open(golden, "w") as f:
        json.dump({"script": "scripts/maintain/pretrain_torch.py", "model": NAME, "text": GOLDEN_TEXT, "ids": gids,
                   "logits": [[round(v, 6) for v in row] for row in lg.tolist()]}, f)
    record = {"steps": total, "schedule_steps": args.schedule_steps or total, "anneal": args.anneal, "hp": HP, "arch": a, "device": str(dev),
              "device_name": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu, 1 thread", "extra": os.path.basename(args.extra) if args.extra else None,
              "wall_min": round(wall / 60, 2), "train_chars": len(ids), "tokens_seen": total * HP["batch"] * T,
              "final_train_loss": round(torch.stack(list(window)).mean().item(), 4) if window else (log[-1]["loss"] if log else None),  # mean of the last 100 steps
              "heldout_eos": round(eval_loss(p, a, held_ids, T), 4), "heldout_plain": round(eval_loss(p, a, held_plain, T), 4),
              "qa_zero_shot_200": qa_zero_shot(p, a, qa_rows),
              "torch": torch.__version__, "log": [e for e in log if "heldout" in e],
              "samples": {pr: sample(p, a, pr) for pr in ["One snowy Monday, ", '"Hello, Tom," said ', "This is Mia. ", "Shopping list for Ben:\n", "Kate has a pink cup and a white hat. What colour is the hat?\nA: "]}}
    with open(os.path.join(out, "pretrain-log.json"), "w") as f:
        json.dump(record, f, indent=1)
    print(json.dumps({k: v for k, v in record.items() if k != "log"}, indent=1))


if __name__ == "__main__":
    main()
