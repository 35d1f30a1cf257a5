#!/usr/bin/python3
"""Sanity check: can our pretraining code learn multi-query associative recall (MQAR) at the small-world shape?

MQAR (Zoology, Arora et al. 2023): a line of key/value pairs, then the keys asked again in a new order, each followed
by its value; the loss is on the values after a query only. Keys are lowercase letters, values uppercase letters or
digits, one character each (the small-world tokenizer), drawn anew for every sequence, so every test sequence binds
pairs the model never saw together. The model, initialisation, AdamW and schedule are scripts/maintain/pretrain_torch.py's
(imported, not copied); only the data and the step count differ.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/probes/mqar_torch.py [--pairs 16] [--steps 3000] [--batch 64]

Prints held-out accuracy on the answers every --every steps and a JSON line at the end.
"""
import argparse, json, math, os, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "maintain"))
import pretrain_torch as pt  # noqa: E402

KEYS = [pt.TO_ID[c] for c in "abcdefghijklmnopqrstuvwxyz"]
VALUES = [pt.TO_ID[c] for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
SEP = pt.TO_ID["|"]


def mqar_batch(g, batch, pairs, T, backward=False, key_len=1, gap=(), ask=(), replace=False):
    """[batch, T] inputs and targets; targets are -100 except at the value after each queried key.
    backward: each pair is written value first ("Xa" for a -> X), so the query's answer stands before its key in the
    context, as in the QA lessons' facts ("Kai is a farmer ... Who is the farmer?"). key_len: keys of that many
    lowercase letters (distinct per sequence), the way a word of the QA facts is several characters. gap: characters
    written between a pair's value and key ("Kai is a farmer": the value a few characters from its key); ask:
    characters between a query's key and its answer ("Who is the farmer?\nAnswer: Kai": the key asked some way
    before the answer). Both are fixed strings of punctuation, so only their length changes the lookup. replace: the
    queries drawn with replacement instead of as a permutation of the pairs, so answering with a value not yet asked
    (the plateau's strategy, about 34% with 8 pairs) earns nothing over a blind pick among the context's values."""
    x = torch.full((batch, T), pt.EOS, dtype=torch.long)
    y = torch.full((batch, T), -100, dtype=torch.long)
    for b in range(batch):
        if key_len == 1:  # as the first runs drew them (the table in docs/LESSONS.md repeats)
            keys = [(k,) for k in torch.tensor(KEYS)[torch.randperm(len(KEYS), generator=g)[:pairs]].tolist()]
        else:
            keys = []
            while len(keys) < pairs:
                k = tuple(torch.tensor(KEYS)[torch.randint(len(KEYS), (key_len,), generator=g)].tolist())
                if k not in keys:
                    keys.append(k)
        vals = torch.tensor(VALUES)[torch.randint(len(VALUES), (pairs,), generator=g)].tolist()
        seq = []
        for k, v in zip(keys, vals):
            seq += [v, *gap, *k] if backward else [*k, *gap, v]
        seq.append(SEP)
        order = (torch.randint(pairs, (pairs,), generator=g) if replace else torch.randperm(pairs, generator=g)).tolist()
        targets = []  # (position of the query's last key character, value)
        for i in order:
            seq += list(keys[i]) + list(ask)
            targets.append((len(seq) - 1, vals[i]))
            seq.append(vals[i])
        seq = seq[: T + 1]
        n = len(seq) - 1
        x[b, :n] = torch.tensor(seq[:-1])
        for j, v in targets:
            if j < n:
                y[b, j] = v
    return x, y


def repeat_batch(g, batch, pairs, T, alphabet=VALUES, gap=(), ask=(), reverse=False):
    """The copy task with no positional shortcut: random characters with `pairs` of them (the span) at a random place,
    a separator, then the span again; targets on the second copy after its first character. Filler, span and copy
    share one alphabet and both copies move, so only matching content (an induction head) predicts the copy.
    gap/ask (--copy-hops): the first copy written with `gap` between its characters and the second with `ask`, so
    predicting the next character of the copy takes the same two hops as the recall written with --gap/--ask; the
    targets are then the copy's characters after its first, each predicted at the last filler before it. reverse: the
    second copy is the span backwards, so each character is the one written before the last one in the first copy,
    the way a backward recall's answer stands before its key ("P:-a", asked "a?>=P")."""
    L = pairs
    x = torch.full((batch, T), pt.EOS, dtype=torch.long)
    y = torch.full((batch, T), -100, dtype=torch.long)
    A = torch.tensor(alphabet)
    for b in range(batch):
        span = A[torch.randint(len(A), (L,), generator=g)].tolist()
        first, second, tpos = [], [], []
        for i, c in enumerate(span):
            first += ([*gap] if i else []) + [c]
        for i, c in enumerate(span[::-1] if reverse else span):
            if i:
                second += list(ask)
                tpos.append(len(second) - 1)  # predicts span[i]
            second.append(c)
        room = T - len(first) - len(second)  # the filler around the first copy, and the separator
        gap_n = int(torch.randint(max(room, 1), (1,), generator=g))
        filler = A[torch.randint(len(A), (gap_n,), generator=g)].tolist()
        pre_n = int(torch.randint(gap_n + 1, (1,), generator=g))
        head = filler[:pre_n] + first + filler[pre_n:] + [SEP]
        seq = head + second
        s = torch.tensor(seq[: T + 1])
        n = len(s) - 1
        x[b, :n] = s[:-1]
        for j in tpos:
            if len(head) + j < n:
                y[b, len(head) + j] = s[len(head) + j + 1]
    return x, y


@torch.no_grad()
def accuracy(p, a, x, y):
    pred = pt.forward(p, a, x).argmax(-1)
    m = y != -100
    return (pred[m] == y[m]).float().mean().item()


@torch.no_grad()
def attention_maps(p, a, ids):
    """pretrain_torch.forward's GPT layout (learned positions, no convolution), returning each block's attention
    weights [B, nh, T, T] instead of the logits: what --attn reads."""
    B, T = ids.shape
    C, nh = a["nEmbd"], a["nHead"]
    hd = C // nh
    x = p["wte.weight"][ids] + p["wpe.weight"][:T]
    ln = lambda t, n: F.layer_norm(t, (C,), p[n + ".weight"], p[n + ".bias"], a["layerNormEps"])
    mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
    maps = []
    for i in range(a["nLayer"]):
        h = f"h.{i}."
        qkv = ln(x, h + "ln_1") @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = (t.view(B, T, nh, hd).transpose(1, 2) for t in qkv.split(C, dim=2))
        att = torch.softmax((q / math.sqrt(hd)) @ k.transpose(-1, -2) + mask, dim=-1)
        maps.append(att)
        x = x + (att @ v).transpose(1, 2).reshape(B, T, C) @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        x2 = ln(x, h + "ln_2")
        x = x + pt.gelu(x2 @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"]) @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    return maps


def attention_report(p, a, x, y, ask_len):
    """Where each head looks from the positions that predict an answer (y != -100), as a share of its attention:
    'key' the character ask_len before (the asked key, or in the copy the character just copied), 'match' earlier
    positions holding that same character (the context's key; in the copy its first copy, and filler that happens to
    match), 'source' earlier positions holding the answer itself (the context's value; the copy's source character),
    'local' the position itself and the one before; and 'fetch', from the last earlier match of the key (where the
    context wrote it), the share on positions before it holding the answer (the value written before its key, or in
    the reversed copy the character before it). Also the accuracy of each answer by its rank in the line (the
    first answer after the separator cannot lean on the one before)."""
    maps = attention_maps(p, a, x)
    B, T = x.shape
    pos = torch.arange(T)
    rows = []
    bs, js = (y != -100).nonzero(as_tuple=True)
    for li, att in enumerate(maps):
        for hh in range(att.shape[1]):
            tot = {"key": 0.0, "match": 0.0, "source": 0.0, "local": 0.0, "fetch": 0.0}
            for b, j in zip(bs.tolist(), js.tolist()):
                w = att[b, hh, j]
                kpos = j - ask_len
                earlier = pos < kpos
                tot["key"] += w[kpos].item() if kpos >= 0 else 0.0
                tot["match"] += w[earlier & (x[b] == x[b, kpos])].sum().item() if kpos >= 0 else 0.0
                tot["source"] += w[earlier & (x[b] == y[b, j])].sum().item() if kpos >= 0 else 0.0
                tot["local"] += w[max(j - 1, 0): j + 1].sum().item()
                m = (earlier & (x[b] == x[b, kpos])).nonzero().flatten() if kpos >= 0 else []
                if len(m):
                    s_ = m[-1].item()
                    tot["fetch"] += att[b, hh, s_][(pos < s_) & (x[b] == y[b, j])].sum().item()
            rows.append({"layer": li, "head": hh, **{k: round(v / len(bs), 3) for k, v in tot.items()}})
    pred = pt.forward(p, a, x).argmax(-1)
    by_rank = {}
    for b in range(B):
        tj = (y[b] != -100).nonzero().flatten().tolist()
        for r, j in enumerate(tj):
            by_rank.setdefault(r, []).append(float(pred[b, j] == y[b, j]))
    return rows, {r: round(sum(v) / len(v), 3) for r, v in sorted(by_rank.items())}


def rope_forward(p, a, ids):
    """pretrain_torch.forward with rotary position embeddings (Su et al. 2021, base 10000, on all of q and k)
    instead of the learned wpe: the experiment of whether the position code is what keeps recall from forming."""
    B, T = ids.shape
    C, nh = a["nEmbd"], a["nHead"]
    hd = C // nh
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.arange(T).float()[:, None] * inv[None, :]  # [T, hd/2]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    rot = lambda t: t * cos + torch.cat([-t[..., hd // 2:], t[..., : hd // 2]], -1) * sin
    x = p["wte.weight"][ids]
    ln = lambda t, n: F.layer_norm(t, (C,), p[n + ".weight"], p[n + ".bias"], a["layerNormEps"])
    mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
    for i in range(a["nLayer"]):
        h = f"h.{i}."
        qkv = ln(x, h + "ln_1") @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = (t.view(B, T, nh, hd).transpose(1, 2) for t in qkv.split(C, dim=2))
        att = torch.softmax((rot(q) / math.sqrt(hd)) @ rot(k).transpose(-1, -2) + mask, dim=-1)
        x = x + (att @ v).transpose(1, 2).reshape(B, T, C) @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        x2 = ln(x, h + "ln_2")
        x = x + pt.gelu(x2 @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"]) @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ p["wte.weight"].t()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=pt.HP["lr"])
    ap.add_argument("--warmup", type=int, default=pt.HP["warmup"])
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=pt.ARCH["nLayer"])
    ap.add_argument("--width", type=int, default=pt.ARCH["nEmbd"], help="model width (nEmbd); a narrower model is a faster testbed for the hops")
    ap.add_argument("--heads", type=int, default=pt.ARCH["nHead"], help="attention heads per block (the width stays, so each head is narrower)")
    ap.add_argument("--pos", choices=["learned", "rope"], default="learned", help="position code: learned (GPT-2, as shipped) or rotary (an experiment)")
    ap.add_argument("--weight-decay", type=float, default=pt.HP["weight_decay"])
    ap.add_argument("--direction", choices=["forward", "backward"], default="forward", help="pairs written key first (forward) or value first (backward: the answer before its key, as in the QA facts)")
    ap.add_argument("--key-len", type=int, default=1, help="characters per key")
    ap.add_argument("--gap", type=int, default=0, help="characters between a pair's value and key (as in 'Kai is a farmer'); punctuation")
    ap.add_argument("--ask", type=int, default=0, help="characters between a query's key and its answer (as in 'farmer?\\nAnswer: '); punctuation")
    ap.add_argument("--plain-share", type=float, default=0.0, help="with --gap/--ask: this share of the training recall written without them (a mixture that might bootstrap the hop); held-out accuracy stays on the written form")
    ap.add_argument("--ramp", type=int, default=0, help="with --gap/--ask, a curriculum: the first N steps written plainly, then gap and ask one character longer every N steps until they reach --gap and --ask (a lookup head formed on the plain form might then pull the offset along); held-out accuracy stays on the full form")
    ap.add_argument("--copy-hops", choices=["forward", "reverse"], default=None, help="with --task mix and --gap/--ask: the copy task written with the same hops (its first copy with the gap between characters, its second with the ask), so the copy trains the offset heads the recall needs; reverse: the second copy backwards, so the answer stands before the matched character as in a backward recall")
    ap.add_argument("--eval", choices=["recall", "copy"], default=None, help="what the held-out accuracy is on (default: the copy for --task repeat, the recall otherwise); --task repeat --eval recall asks whether a copy learned alone carries over to the recall")
    ap.add_argument("--query-replace", action="store_true", help="queries drawn with replacement (training and held-out), so the not-yet-asked strategy of the plateau earns nothing")
    ap.add_argument("--attn", action="store_true", help="at the end, where each head looks from the answering positions (held-out recall, and the copy with --copy-hops), and accuracy by the answer's rank in its line")
    ap.add_argument("--task", choices=["mqar", "repeat", "mix"], default="mqar", help="mqar (key/value recall), repeat (copy a random span written before) or mix (training batches half each; held-out accuracy on mqar)")
    ap.add_argument("--conv", type=int, default=0, help="width of a short causal convolution on q, k, v (0: none, as shipped; pretrain_torch.py's --qkv-conv, learned positions only)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    pt.HP.update(lr=args.lr, warmup=args.warmup, batch=args.batch, weight_decay=args.weight_decay)
    if args.pos == "rope":
        if args.conv:
            sys.exit("--conv runs on learned positions only (rope_forward has no convolution)")
        pt.forward = rope_forward
    a = dict(pt.ARCH, nLayer=args.layers, nHead=args.heads, nEmbd=args.width, **({"qkvConv": args.conv} if args.conv else {}))
    gap, ask = [pt.TO_ID[c] for c in ":-~"[: args.gap]], [pt.TO_ID[c] for c in "?>=;"[: args.ask]]
    if len(gap) < args.gap or len(ask) < args.ask:
        sys.exit("--gap is at most 3 and --ask at most 4 characters")
    T = args.pairs * (2 * args.key_len + 2 + args.gap + args.ask) + 1
    p = pt.init_params(a, torch.Generator().manual_seed(args.seed))
    opt = pt.adamw(p, args.lr)
    train_g, test_g = torch.Generator().manual_seed(args.seed + 100), torch.Generator().manual_seed(999)
    recall = lambda g, batch, pairs, T: mqar_batch(g, batch, pairs, T, args.direction == "backward", args.key_len, gap, ask, args.query_replace)
    if args.plain_share and not (gap or ask):
        sys.exit("--plain-share needs --gap or --ask")

    def mixed_recall(g, batch, pairs, T):  # training only: some sequences without the gap and the ask
        n_plain = round(batch * args.plain_share)
        xa, ya = mqar_batch(g, n_plain, pairs, T, args.direction == "backward", args.key_len, (), ())
        xb, yb = recall(g, batch - n_plain, pairs, T)
        return torch.cat([xa, xb]), torch.cat([ya, yb])

    train_recall = mixed_recall if args.plain_share else recall
    if args.ramp and not (gap or ask):
        sys.exit("--ramp needs --gap or --ask")
    if args.ramp and args.plain_share:
        sys.exit("--ramp and --plain-share are two different curricula; use one")
    stage = [0]  # the curriculum's stage: gap and ask at most this long

    def ramped_recall(g, batch, pairs, T):
        n = stage[0]
        return mqar_batch(g, batch, pairs, T, args.direction == "backward", args.key_len, gap[:n], ask[:n])

    if args.ramp:
        train_recall = ramped_recall

    def hop_copy(g, batch, pairs, T):  # the copy task over keys' and values' letters, with the hops if --copy-hops
        return repeat_batch(g, batch, pairs, T, KEYS + VALUES, *((gap, ask, args.copy_hops == "reverse") if args.copy_hops else ((), (), False)))

    def mix_batch(g, batch, pairs, T):
        xa, ya = train_recall(g, batch // 2, pairs, T)
        xb, yb = hop_copy(g, batch - batch // 2, pairs, T)  # keys' letters copied too
        return torch.cat([xa, xb]), torch.cat([ya, yb])

    # --task repeat alone keeps the first runs' copy (values' characters, no hops) unless --copy-hops asks for them
    copy_task = hop_copy if args.copy_hops else repeat_batch
    make = {"mqar": train_recall, "repeat": copy_task, "mix": mix_batch}[args.task]
    held_out = args.eval or ("copy" if args.task == "repeat" else "recall")
    xt, yt = (copy_task if held_out == "copy" else recall)(test_g, 256, args.pairs, T)
    # beside it, with --copy-hops, the copy's own held-out accuracy (is the hop learned on the copy at all?)
    xc, yc = hop_copy(torch.Generator().manual_seed(998), 256, args.pairs, T) if args.copy_hops else (None, None)
    t0, acc, log = time.time(), 0.0, []
    for step in range(args.steps):
        for gr in opt.param_groups:
            gr["lr"] = pt.lr_at(step, args.steps)
        stage[0] = step // args.ramp if args.ramp else 0
        x, y = make(train_g, args.batch, args.pairs, T)
        loss = F.cross_entropy(pt.forward(p, a, x).reshape(-1, a["vocabSize"]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), pt.HP["clip"])
        opt.step()
        if (step + 1) % args.every == 0 or step + 1 == args.steps:
            acc = accuracy(p, a, xt, yt)
            cacc = accuracy(p, a, xc, yc) if xc is not None else None
            log.append({"step": step + 1, "loss": round(loss.item(), 4), "heldout_acc": round(acc, 4), **({"copy_acc": round(cacc, 4)} if cacc is not None else {})})
            print(f"step {step + 1} loss {loss.item():.4f} held-out accuracy ({held_out}) {acc:.3f}" + (f", copy {cacc:.3f}" if cacc is not None else "") + f" ({time.time() - t0:.0f} s)", flush=True)
    attn = {}
    if args.attn:
        if args.pos != "learned" or args.conv:
            sys.exit("--attn reads the GPT layout with learned positions and no convolution")
        xr, yr = recall(torch.Generator().manual_seed(997), 64, args.pairs, T)
        sets = {"recall": (xr, yr, len(ask))}
        if args.copy_hops or args.task == "repeat":
            xq, yq = copy_task(torch.Generator().manual_seed(996), 64, args.pairs, T)
            sets["copy"] = (xq, yq, len(ask) if args.copy_hops else 0)
        for name, (xa_, ya_, al) in sets.items():
            rows, by_rank = attention_report(p, a, xa_, ya_, al)
            attn[name] = {"heads": rows, "accuracy_by_rank": by_rank}
            print(f"attention from the answering positions, {name} (share on: the asked key {al} back, earlier matches of it, earlier copies of the answer, local; and from the key's earlier match, on the answer before it):")
            for r in rows:
                print(f"  layer {r['layer']} head {r['head']}: key {r['key']:.2f}  match {r['match']:.2f}  source {r['source']:.2f}  local {r['local']:.2f}  | fetch {r['fetch']:.2f}")
            print(f"  accuracy by the answer's rank in its line: {by_rank}", flush=True)
    print(json.dumps({"probe": args.task, "pairs": args.pairs, "steps": args.steps, "batch": args.batch, "lr": args.lr,
                      "arch": a, "pos": args.pos, "conv": args.conv, "direction": args.direction, "key_len": args.key_len, "gap": args.gap, "ask": args.ask, "plain_share": args.plain_share, "query_replace": args.query_replace, "ramp": args.ramp, "copy_hops": args.copy_hops, "eval": held_out, "weight_decay": args.weight_decay, "heldout_acc": round(acc, 4), "wall_s": round(time.time() - t0, 1), "log": log, **({"attn": attn} if attn else {})}))


if __name__ == "__main__":
    main()
