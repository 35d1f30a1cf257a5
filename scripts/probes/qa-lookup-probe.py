#!/usr/bin/python3
"""Does small-world's QA lookup fail because of its characters? A probe, not a test and not a shipped model.

It pretrains small-world's architecture (GPT-2 layout, 4 blocks, width 128, the code of scripts/maintain/pretrain_torch.py)
from scratch on the same train.txt, with one change: the tokens are whole words of the corpus (GPT-2-style pieces:
an optional space, then a word, a digit or a punctuation mark; a newline; <eos> between documents) instead of
characters. Every so often it asks the first 200 qa-context questions with no fine-tuning, in the corpus's own
"\\nAnswer: " format, and counts exact answers (greedy, up to a newline or <eos>). Picking one of the two items of
the context at random scores about 50%; the character model stays near there (docs/LESSONS.md).

  /usr/bin/python3 scripts/probes/qa-lookup-probe.py [--steps 4000] [--every 1000] [--block 64] [--batch 16]

--docs FILE trains on multi-question lookup documents instead (make-corpus-v2.ts --drill N --drill-out FILE), with
the loss on every answer after "\\nAnswer:" and the newline or <eos> that ends it, lr constant after 100 warmup steps
(the schedule of qa-drill-probe.py --docs, there in characters). --copy-share F gives that share of each batch to the
copy task of mqar_torch.py over every token of the vocabulary (spans of --copy-len tokens): the mix that took MQAR
off its plateau, here over word tokens.
"""
import argparse, json, os, random, re, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "maintain"))
import pretrain_torch as pt  # noqa: E402  (the model, initialisation and schedule)
import mqar_torch  # noqa: E402  (the copy task)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIECE = re.compile(r"\n| ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]| ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--block", type=int, default=0, help="context in tokens (default 64 words, a qa item is about 20, or 128 characters)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--text", default=None, help="train on this file instead of train.txt (e.g. make-corpus-v2.ts --extra N --qa-share 1)")
    ap.add_argument("--chars", action="store_true", help="character tokens, as small-world (a 128-character context unless --block)")
    ap.add_argument("--docs", default=None, help="train on these lookup documents, loss on the answers only (make-corpus-v2.ts --drill)")
    ap.add_argument("--copy-share", type=float, default=0.0, help="with --docs: share of each batch given to the copy task")
    ap.add_argument("--layout", choices=["gpt2", "llama"], default="gpt2", help="pretrain_torch.py's --layout (llama: rotary positions, RMSNorm, SwiGLU)")
    ap.add_argument("--copy-len", type=int, default=6, help="tokens per copied span")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.block = args.block or (128 if args.chars else 64)

    if args.copy_share and not args.docs:
        sys.exit("--copy-share needs --docs")
    with open(args.docs or args.text or os.path.join(ROOT, "public/corpus/small-world/train.txt")) as f:
        docs = f.read().split("\n\n")
    piece = re.compile(r"(?s).") if args.chars else PIECE
    with open(os.path.join(ROOT, "public/datasets/qa-context.jsonl")) as f:
        qa = [json.loads(l) for l in f if l.strip()][:200]
    # the vocabulary: every piece of the training text (a question's words are all in it, or become <unk>)
    pieces = [piece.findall(d) for d in docs]
    vocab = ["<eos>", "<unk>"] + sorted({p for ps in pieces for p in ps})
    to_id = {p: i for i, p in enumerate(vocab)}
    encode = lambda text: [to_id.get(p, 1) for p in piece.findall(text)]
    ids, starts = [], []
    for ps in pieces:
        starts.append(len(ids))
        ids.extend(to_id[p] for p in ps)
        ids.append(0)
    ids = torch.tensor(ids, dtype=torch.long)
    targets = []  # with --docs: per document, the targets of its answers (-100 elsewhere)
    if args.docs:
        for d, ps in zip(docs, pieces):
            at = [m.start() for m in piece.finditer(d)] + [len(d)]  # where each piece starts; <eos> after the text
            spans = [(m.start(1), m.end(1) + 1) for m in re.finditer(r"\nAnswer:( [^\n]*)", d)]
            # the answer's pieces, then its newline or <eos>
            tgt = [(to_id[q] if k < len(ps) else 0) if any(a <= at[k] < b for a, b in spans) else -100 for k, q in enumerate(ps + ["<eos>"])]
            targets.append(tgt)
        print(f"{len(docs):,} documents, {sum(sum(t != -100 for t in tg) for tg in targets) / len(docs):.1f} answer tokens each", flush=True)
    unk = sum(1 for r in qa for p in piece.findall(r["prompt"] + "\nAnswer: " + r["completion"]) if p not in to_id)
    arch = dict(pt.ARCH, vocabSize=len(vocab), blockSize=args.block)
    if args.layout == "llama":
        pt.llama_layout(arch)
    pt.HP.update(batch=args.batch, lr=args.lr)
    p = pt.init_params(arch, torch.Generator().manual_seed(pt.HP["seed"]))
    n_params = sum(t.numel() for t in p.values())
    print(f"{len(vocab)} {'character' if args.chars else 'word'} tokens, {len(ids):,} tokens of training text, {n_params:,} parameters; {unk} question pieces unknown", flush=True)
    opt = pt.adamw(p, args.lr)
    n_copy = round(args.batch * args.copy_share)
    copy_g, pick = torch.Generator().manual_seed(7), random.Random(pt.HP["seed"])

    def docs_batch():
        x = torch.zeros(args.batch, args.block, dtype=torch.long)
        y = torch.full((args.batch, args.block), -100, dtype=torch.long)
        if n_copy:
            x[:n_copy], y[:n_copy] = mqar_torch.repeat_batch(copy_g, n_copy, args.copy_len, args.block, list(range(2, len(vocab))))
        for i in range(n_copy, args.batch):
            k = pick.randrange(len(docs))
            doc = ids[starts[k]: starts[k] + len(targets[k])]
            n = min(len(doc) - 1, args.block)
            x[i, :n] = doc[:n]
            y[i, :n] = torch.tensor(targets[k][1: n + 1])
        return x, y

    def lookup():
        """Exact answers, and answers that name something of the context: right / named is the lookup alone."""
        right = named = 0
        for r in qa:
            out = pt.greedy_ids(p, arch, encode(r["prompt"] + "\nAnswer:"), 16 if args.chars else 6, (0, to_id["\n"]))
            answer = "".join(vocab[i] for i in out).strip()
            right += answer == r["completion"]
            context = r["prompt"][: r["prompt"].rindex(". ") + 1]
            named += bool(answer) and answer in context  # one of the context's items (right or wrong)
        return right / len(qa), named / len(qa)

    figures, t0 = [], time.time()
    for step in range(args.steps):
        x, y = docs_batch() if args.docs else pt.batch_at(step, ids, starts, args.block)
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / 100) if args.docs else pt.lr_at(step, args.steps)
        loss = F.cross_entropy(pt.forward(p, arch, x).reshape(-1, len(vocab)), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), pt.HP["clip"])
        opt.step()
        if (step + 1) % args.every == 0 or step + 1 == args.steps:
            acc, named = lookup()
            figures.append({"step": step + 1, "loss": round(loss.item(), 4), "zero_shot_exact": acc, "names_context_item": named, "min": round((time.time() - t0) / 60, 1)})
            print(f"step {step + 1}: loss {loss.item():.3f}, zero-shot on {len(qa)} qa-context questions: exact {100 * acc:.1f}%,"
                  f" an item of the context {100 * named:.1f}%, so the right one of those {100 * acc / max(named, 1e-9):.1f}% ({figures[-1]['min']} min)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"vocab": len(vocab), "params": n_params, "block": args.block, "batch": args.batch, "lr": args.lr, "figures": figures}, f, indent=1)


if __name__ == "__main__":
    main()
