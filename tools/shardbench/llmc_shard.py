"""The peer for `make bench-shard`: tokenize documents and write llm.c shards the way
llm.c's dev/data/fineweb.py does (tiktoken gpt2 encode_ordinary per document with an
EOT before it, a multiprocessing Pool over all cores with chunksize 16, numpy uint16
arrays, a 256-int32 header per shard). Prints tokens and seconds for the timed part.
usage: python llmc_shard.py OUTDIR FILE...   (documents = paragraphs split on blank lines)
"""
import multiprocessing as mp
import os
import sys
import time

import numpy as np

# tiktoken fetches gpt2's files from the internet; point it at the packaged copies.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lmlib", "tokenizer", "testdata"))
import tiktoken_offline  # noqa: E402,F401
import tiktoken  # noqa: E402

enc = tiktoken.get_encoding("gpt2")
eot = enc._special_tokens["<|endoftext|>"]


def tokenize(doc):
    tokens = [eot]
    tokens.extend(enc.encode_ordinary(doc))
    return np.array(tokens, dtype=np.uint16)


def write_datafile(filename, toks):
    header = np.zeros(256, dtype=np.int32)
    header[0], header[1], header[2] = 20240520, 1, len(toks)
    with open(filename, "wb") as f:
        f.write(header.tobytes())
        f.write(toks.tobytes())


def main():
    out = sys.argv[1]
    docs = []
    for p in sys.argv[2:]:
        docs += [d for d in open(p, encoding="utf-8").read().split("\n\n") if d.strip()]
    shard_size = 10**8
    t0 = time.perf_counter()
    with mp.Pool(os.cpu_count()) as pool:
        buf = np.empty(shard_size, dtype=np.uint16)
        n, idx, total = 0, 0, 0
        for toks in pool.imap(tokenize, docs, chunksize=16):
            if n + len(toks) > shard_size:
                write_datafile(os.path.join(out, f"llmc_train_{idx:06d}.bin"), buf[:n])
                idx, n = idx + 1, 0
            buf[n : n + len(toks)] = toks
            n += len(toks)
            total += len(toks)
        if n:
            write_datafile(os.path.join(out, f"llmc_train_{idx:06d}.bin"), buf[:n])
    print(total, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
