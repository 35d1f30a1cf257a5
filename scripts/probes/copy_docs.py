#!/usr/bin/python3
"""Synthetic copy documents for pretraining: the copy task of scripts/probes/mqar_torch.py (--task repeat) written
as text over small-world's whole character set, one document per line pair, so that induction heads form for every
character and not only for the few a lookup template uses.

mqar_torch.py found (2026-12-06) that MQAR alone sits on the elimination plateau (38.5% at 8,000 steps), a copy task
over the values' characters alone does not lift it (37.6% at 1,250 steps), and a copy task over keys and values
takes MQAR to 100% by step 1,000: an induction head learned on some tokens does not serve others.

  /usr/bin/python3 scripts/probes/copy_docs.py --chars 2000000 --out /tmp/copy-docs.txt [--seed 7]

Each document: random characters with a span of 6-30 of them somewhere, " | ", then the span again (at most 128
characters, one context window). Documents are separated by blank lines, as in train.txt.
"""
import argparse, os, random, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "maintain"))
import pretrain_torch as pt  # noqa: E402

ALPHABET = [c for c in pt.CHARS if c != "\n"]


def doc(rng):
    span = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(6, 30)))
    room = 128 - 2 * len(span) - 3
    pre = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, min(30, room))))
    gap = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, min(30, room - len(pre)))))
    return pre + span + gap + " | " + span


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chars", type=int, default=2_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng, n, docs = random.Random(a.seed), 0, []
    while n < a.chars:
        d = doc(rng)
        docs.append(d)
        n += len(d) + 2
    with open(a.out, "w", encoding="latin-1") as f:
        f.write("\n\n".join(docs) + "\n")
    print(f"{len(docs)} documents, {n} characters -> {a.out}")


if __name__ == "__main__":
    main()
