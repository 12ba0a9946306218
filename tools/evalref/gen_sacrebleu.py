"""Reference vectors for golem's translation metrics from sacrebleu itself.

Writes lmlib/eval/testdata/sacrebleu.json: corpora (hypotheses, references per
segment) with sacrebleu's corpus BLEU (and its statistics), chrF, chrF++ and TER
under the default settings, plus the 13a and TER tokenizations of every line.
The corpora are sentences of Newton's Opticks (shipped with Go) put through
seeded word drops, swaps, substitutions, case and punctuation changes, several
references per segment, and hand-written edge cases (empty lines, digits,
non-ASCII, XML escapes, long shifts).

Run: .venv-eval/bin/python tools/evalref/gen_sacrebleu.py   (make eval-ref)
"""
import json
import pathlib
import random
import re
import subprocess

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "lmlib" / "eval" / "testdata" / "sacrebleu.json"


def opticks_sentences():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    text = pathlib.Path(goroot, "src", "testdata", "Isaac.Newton-Opticks.txt").read_text()
    text = " ".join(text.split())
    sents = [s.strip() for s in re.split(r"(?<=[.;?!])\s+", text)]
    return [s for s in sents if 4 <= len(s.split()) <= 40]


def perturb(rng, sent, vocab):
    words = sent.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.08:
            continue  # drop
        if r < 0.16:
            out.append(rng.choice(vocab))  # substitute
            continue
        if r < 0.20:
            out.append(w.upper() if rng.random() < 0.5 else w.lower())
            continue
        if r < 0.24:
            out.append(w.strip(".,;:") + rng.choice([",", ".", ";", "!", "?", ")", ""]))
            continue
        out.append(w)
    if len(out) > 3 and rng.random() < 0.4:  # move a block (TER shifts)
        i = rng.randrange(len(out) - 2)
        n = rng.randint(1, min(4, len(out) - i - 1))
        block, rest = out[i:i + n], out[:i] + out[i + n:]
        j = rng.randrange(len(rest) + 1)
        out = rest[:j] + block + rest[j:]
    if len(out) > 1 and rng.random() < 0.2:
        k = rng.randrange(len(out) - 1)
        out[k], out[k + 1] = out[k + 1], out[k]
    return " ".join(out)


EDGE = [
    # (hypotheses, references per segment)
    (["The cat sat on the mat."], [["The cat sat on the mat."]]),
    (["the cat"], [["The cat sat on the mat."]]),
    ([""], [["A reference."]]),
    (["Some words."], [[""]]),
    ([""], [[""]]),
    (["It cost $3,000.50 in 1999-2000, i.e. a lot."], [["It cost $3,000.50 during 1999-2000 , a lot ."]]),
    (["Tom &amp; Jerry &lt;3 &quot;cheese&quot; <skipped> co-\nop"], [["Tom & Jerry <3 \"cheese\" coop"]]),
    (["ΣΊΣΥΦΟΣ und İstanbul: Größe, Straße — naïve café…"], [["Σίσυφος und istanbul: größe, Strasse - naive cafe..."]]),
    (["a b c d e f g h i j k l m n"], [["h i j k l m n a b c d e f g"]]),
    (["word\x1cword\u00a0other\u2003end  "], [["word word other end"]]),
    (["(hi) 'quoted' [x] {y} a.b,c d-e 3-4 x/y @home #tag 50% ~ok ^ _ `"], [["( hi ) quoted x y a.b , c d-e 3 - 4 x / y"]]),
    (["the the the the the the the"], [["the cat is on the mat", "there is a cat on the mat"]]),
    (["one two three", "four five six"], [["one two three", "1 2 3"], ["four five"]]),
    (["A.", "B"], [["A .", "a."], ["b", "B", "B B"]]),
]


def stress_cases(rng):
    """Many repeated words (the 1000-candidate limit of the shift search) and very
    different lengths (a beam wider than 25)."""
    small = ["a", "b", "c", "d", "e"]
    long_h = " ".join(rng.choice(small) for _ in range(90))
    long_r = " ".join(rng.choice(small) for _ in range(85))
    wide_r = " ".join(rng.choice(small) for _ in range(70))
    return [([long_h], [[long_r]]), (["b", "c a"], [[wide_r], [wide_r + " c a"]])]


def corpus_case(name, hyps, refs):
    nref = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(nref)]
    bleu = BLEU().corpus_score(hyps, streams)
    chrf = CHRF().corpus_score(hyps, streams)
    chrfpp = CHRF(word_order=2).corpus_score(hyps, streams)
    ter = TER().corpus_score(hyps, streams)
    return {
        "name": name, "hyps": hyps, "refs": refs,
        "bleu": {"score": bleu.score, "counts": bleu.counts, "totals": bleu.totals,
                 "precisions": bleu.precisions, "bp": bleu.bp, "sys_len": bleu.sys_len,
                 "ref_len": bleu.ref_len, "str": str(bleu)},
        "chrf": chrf.score, "chrf_str": str(chrf),
        "chrfpp": chrfpp.score, "chrfpp_str": str(chrfpp),
        "ter": {"score": ter.score, "edits": ter.num_edits, "ref_len": ter.ref_length, "str": str(ter)},
    }


def main():
    rng = random.Random(14)
    sents = opticks_sentences()
    vocab = sorted({w for s in sents for w in s.split()})
    cases = []
    for i, (h, r) in enumerate(EDGE + stress_cases(rng)):
        cases.append(corpus_case(f"edge{i}", h, r))
    for k in range(12):
        n = rng.choice([1, 3, 10, 40])
        segs = rng.sample(sents, n)
        hyps, refs = [], []
        for s in segs:
            hyps.append(perturb(rng, s, vocab))
            nr = rng.choice([1, 1, 2, 3])
            refs.append([s] + [perturb(rng, s, vocab) for _ in range(nr - 1)])
        cases.append(corpus_case(f"opticks{k}", hyps, refs))
    lines = sorted({x for c in cases for x in c["hyps"] + [y for r in c["refs"] for y in r]})
    tok13a, tokter = Tokenizer13a(), TercomTokenizer()
    tokens = [{"line": l, "13a": tok13a(l.rstrip()), "ter": tokter(l.rstrip())} for l in lines]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"sacrebleu": sacrebleu.__version__, "cases": cases, "tokens": tokens},
                              ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {OUT}: {len(cases)} corpora, {len(tokens)} lines")


if __name__ == "__main__":
    main()
