"""Generate train_vectors.json.gz: HF tokenizers' BpeTrainer merges, and how HF tokenizers and
tiktoken encode text with a vocabulary golem trained.

1. The corpus: Newton's Opticks and Tom Sawyer, split into documents at blank lines
   (the Go test rebuilds it from the same files).
2. HF tokenizers 0.23.3 trains BPE on it for each pattern: ByteLevel pre-tokenizer (gpt2) or
   Split(regex, Isolated) + ByteLevel(use_regex=False) (cl100k, o200k), the full 256-byte initial
   alphabet, special token <|endoftext|>, vocab_size 3000 (and once with min_frequency 40, which
   stops training early). Its merges are stored.
3. golem (lmlib/tokenizer/bench, `train`) trains the same vocabularies and writes
   tokenizer.json and trained.tiktoken(+.json); HF tokenizers loads the first, tiktoken the
   second, and both encode sample texts; their ids are stored.

    make assets peers && .venv/bin/python lmlib/tokenizer/testdata/gen_train.py
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tiktoken_offline  # noqa: E402
import tiktoken  # noqa: E402
import tiktoken.load  # noqa: E402
import tokenizers  # noqa: E402
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

ROOT = tiktoken_offline.ROOT
VOCAB = 3000
SPECIALS = ["<|endoftext|>"]
O200K = (r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
         r"""|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
         r"""|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""")


CL100K = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
REGEX = {"cl100k": CL100K, "o200k": O200K}
# (name, pattern, min_frequency): the three pre-tokenizers, and min_frequency stopping early
CONFIGS = [("gpt2", "gpt2", 0), ("cl100k", "cl100k", 0), ("o200k", "o200k", 0), ("gpt2-min40", "gpt2", 40)]


def corpus():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    compress = tiktoken_offline._module_dir("github.com/klauspost/compress@v1.18.0")
    docs = []
    for p in [os.path.join(goroot, "src", "testdata", "Isaac.Newton-Opticks.txt"),
              os.path.join(compress, "testdata", "Mark.Twain-Tom.Sawyer.txt")]:
        docs += open(p, encoding="utf-8", newline="").read().split("\n\n")
    return docs


def samples():
    out = {}
    for name in ["multilingual.txt", "whitespace.txt", "unicode_mix.txt"]:
        text = open(os.path.join(HERE, name), encoding="utf-8", newline="").read()
        out[name] = text[:20000]
    return out


def hf_train(docs, pattern, min_frequency):
    tok = Tokenizer(models.BPE())
    if pattern == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(REGEX[pattern]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, show_progress=False, min_frequency=min_frequency,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(docs, trainer)
    model = json.loads(tok.to_str())["model"]
    return [m if isinstance(m, list) else m.split(" ") for m in model["merges"]]


def main():
    docs = corpus()
    texts = samples()
    doc = {"tokenizers": tokenizers.__version__, "tiktoken": tiktoken.__version__, "vocab_size": VOCAB,
           "specials": SPECIALS, "patterns": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tool = os.path.join(tmp, "tokenizer-bench")
        subprocess.run(["go", "build", "-o", tool, "./lmlib/tokenizer/bench"], cwd=ROOT, check=True)
        docs_path = os.path.join(tmp, "docs.json")
        with open(docs_path, "w") as f:
            json.dump(docs, f)
        for key, pattern, min_freq in CONFIGS:
            merges = hf_train(docs, pattern, min_freq)
            out = os.path.join(tmp, key)
            subprocess.run([tool, "train", "-docs", docs_path, "-vocab-size", str(VOCAB), "-special", ",".join(SPECIALS),
                            "-pattern", pattern, "-min-frequency", str(min_freq), "-out", out], check=True, capture_output=True)
            hf = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
            meta = json.load(open(os.path.join(out, "trained.tiktoken.json")))
            tk = tiktoken.Encoding(meta["name"], pat_str=meta["pat_str"],
                                   mergeable_ranks=tiktoken.load.load_tiktoken_bpe(os.path.join(out, "trained.tiktoken")),
                                   special_tokens=meta["special_tokens"])
            enc = {}
            for name, text in texts.items():
                enc[name] = {"tiktoken": tk.encode_ordinary(text), "hf": hf.encode(text).ids}
                same = enc[name]["tiktoken"] == enc[name]["hf"]
                print(key, name, "HF == tiktoken:", same)
            doc["patterns"][key] = {"pattern": pattern, "min_frequency": min_freq, "hf_merges": merges, "encodings": enc}
            print(key, len(merges), "HF merges")
    path = os.path.join(HERE, "train_vectors.json.gz")
    with gzip.open(path + ".tmp", "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
