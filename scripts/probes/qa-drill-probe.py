#!/usr/bin/python3
"""Can small-world learn the QA lookup when every loss term is an answer? A probe, not a test and not a shipped model.

It starts from the shipped small-world weights (or, with --scratch, a fresh initialisation) and trains all of them (not LoRA) on question-answer items of the
QA-only extra text, with the loss on the answer and its <eos> only: every gradient is about the lookup, where in
pretraining it is one character in sixty. Every --every steps it asks the first 200 qa-context questions after
"\\nAnswer: " (greedy, up to a newline or <eos>) and counts exact answers. Picking one of the two items of the
context at random scores about 50%. Make the text first:

  npx tsx scripts/maintain/make-corpus-v2.ts --extra 5000000 --qa-share 1 --extra-out .corpus-extra/qa-only.txt
  /usr/bin/python3 scripts/probes/qa-drill-probe.py [--steps 2250] [--every 250] [--batch 32] [--lr 1e-3]

--copy-share F makes that share of every batch the copy task of scripts/probes/mqar_torch.py (a span of --copy-len
random characters over the whole character set, a separator, the span again; loss on the second copy), the mix that
took MQAR off its plateau there.

--docs FILE trains on whole lookup documents instead (make-corpus-v2.ts --drill N --drill-out FILE: a context of
several facts, then several questions, each answered after "\nAnswer: "), with the loss on every answer of the
document: many answers per context, as MQAR asks many keys per sequence. --block sets the context (a longer one
holds more of those answers); the figures are still on qa-context's two-fact questions.
"""
import argparse, json, os, random, re, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "maintain"))
import pretrain_torch as pt  # noqa: E402  (the model, its safetensors, tokenizer, optimiser and the QA check)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=2250)
    ap.add_argument("--every", type=int, default=250)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--text", default=os.path.join(ROOT, ".corpus-extra/qa-only.txt"))
    ap.add_argument("--scratch", action="store_true", help="start from a fresh initialisation, not the shipped weights")
    ap.add_argument("--copy-share", type=float, default=0.0, help="share of each batch that is the copy task")
    ap.add_argument("--copy-len", type=int, default=12)
    ap.add_argument("--docs", default=None, help="train on these multi-question lookup documents (make-corpus-v2.ts --drill)")
    ap.add_argument("--block", type=int, default=0, help="with --scratch: context in characters (default small-world's 128)")
    ap.add_argument("--layout", choices=["gpt2", "llama"], default="gpt2", help="with --scratch: pretrain_torch.py's --layout (llama: rotary positions, RMSNorm, SwiGLU)")
    ap.add_argument("--qkv-conv", type=int, default=0, help="with --scratch: a causal convolution of this width on q, k, v (pretrain_torch.py --qkv-conv)")
    args = ap.parse_args()
    if (args.qkv_conv or args.block or args.layout != "gpt2") and not args.scratch:
        sys.exit("--qkv-conv, --block and --layout need --scratch: the shipped weights are the GPT-2 layout with a 128-character context")
    if args.qkv_conv and args.layout != "gpt2":
        sys.exit("--qkv-conv is on the GPT-2 layout only")
    torch.set_num_threads(1)
    random.seed(0)
    a = dict(pt.ARCH, **({"qkvConv": args.qkv_conv} if args.qkv_conv else {}), **({"blockSize": args.block} if args.block else {}))
    if args.layout == "llama":
        pt.llama_layout(a)
    if args.scratch:
        p = pt.init_params(a, torch.Generator().manual_seed(pt.HP["seed"]))
    else:
        p = pt.read_safetensors(os.path.join(ROOT, "public/models/small-world/model.safetensors"))
    with open(os.path.join(ROOT, "public/datasets/qa-context.jsonl")) as f:
        qa = [json.loads(line) for line in f if line.strip()][:200]
    docs = []
    if args.docs:
        with open(args.docs) as f:
            for d in f.read().split("\n\n"):
                ids = pt.encode(d) + [pt.EOS]
                tgt = [-100] * len(ids)
                # every answer after "\nAnswer: ", and the newline or <eos> that ends it
                for m in re.finditer(r"\nAnswer: ([^\n]*)", d):
                    for j in range(m.start(1), min(m.end(1) + 1, len(ids))):
                        tgt[j - 1] = ids[j]
                docs.append((ids, tgt))
        print(f"{len(docs):,} documents, {sum(sum(t != -100 for t in tg) for _, tg in docs) / len(docs):.1f} answer characters each, from {args.docs}", flush=True)
    else:  # the QA-only text's short-answer items: "context question\nAnswer: short" and "Question: context question -> short"
        with open(args.text) as f:
            items = re.findall(r"^(?:Question: )?(.*\?)(?:\nAnswer: | -> )(.*)$", f.read(), re.M)
        print(f"{len(items):,} items ({len(set(items)):,} distinct) from {args.text}", flush=True)

    import mqar_torch  # noqa: E402  (the copy task)
    n_copy = round(args.batch * args.copy_share)
    copy_g = torch.Generator().manual_seed(7)
    alphabet = list(range(2, a["vocabSize"]))  # every character but <eos> and <unk>

    def batch(T=a["blockSize"]):
        x = torch.zeros(args.batch, T, dtype=torch.long)
        y = torch.full((args.batch, T), -100, dtype=torch.long)  # -100: no loss
        if n_copy > 0:
            x[:n_copy], y[:n_copy] = mqar_torch.repeat_batch(copy_g, n_copy, args.copy_len, T, alphabet)
        for i in range(n_copy, args.batch):
            if docs:
                ids, tgt = random.choice(docs)
                n = min(len(ids) - 1, T)
                x[i, :n] = torch.tensor(ids[:n])
                y[i, :n] = torch.tensor(tgt[:n])
                continue
            question, short = random.choice(items)
            prompt = pt.encode(question + "\nAnswer: ")
            ids = (prompt + pt.encode(short) + [pt.EOS])[:T + 1]
            x[i, :len(ids) - 1] = torch.tensor(ids[:-1])
            y[i, len(prompt) - 1:len(ids) - 1] = torch.tensor(ids[len(prompt):])
        return x, y

    exact = lambda: pt.qa_short(p, a, qa) / len(qa)

    opt = pt.adamw(p, args.lr)
    print(f"step 0: zero-shot exact match {100 * exact():.1f}% on {len(qa)} qa-context questions", flush=True)
    t0 = time.time()
    for step in range(args.steps):
        x, y = batch()
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / 100)  # 100 warmup steps, then constant
        loss = F.cross_entropy(pt.forward(p, a, x).reshape(-1, a["vocabSize"]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), pt.HP["clip"])
        opt.step()
        if (step + 1) % args.every == 0:
            print(f"step {step + 1}: answer loss {loss.item():.3f}, exact match {100 * exact():.1f}% ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
