"""datatrove's side of `make bench-data`: read the benchmark corpus that
lmlib/data's Go benchmarks generate (bench.jsonl.zst, bench.warc.gz in DIR) with
datatrove's JsonlReader and WarcReader, one process, and print MB/s of
uncompressed input (the same measure as the Go benchmarks' b.SetBytes).

    .venv/bin/python lmlib/data/bench/datatrove_read.py DIR
"""
import json
import sys
import time

from datatrove.pipeline.readers import JsonlReader, WarcReader

d = sys.argv[1]
res = {}
for key, name, reader in [
    ("jsonl_zst", "bench.jsonl.zst", JsonlReader(d, glob_pattern="bench.jsonl.zst", compression="zstd")),
    ("warc_gz", "bench.warc.gz", WarcReader(d, glob_pattern="bench.warc.gz")),
]:
    size = int(open(f"{d}/{name}.size").read())
    t0 = time.perf_counter()
    n = 0
    for _doc in reader.read_file(name):
        n += 1
    dt = time.perf_counter() - t0
    res[key] = {"docs": n, "seconds": dt, "mb_s": size / dt / 1e6}
    print(f"datatrove {key}: {n} docs, {dt:.2f}s, {size / dt / 1e6:.1f} MB/s", file=sys.stderr)
print(json.dumps(res))
