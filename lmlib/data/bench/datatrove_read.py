"""datatrove's side of `make bench-data`: read the benchmark corpus that
lmlib/data's Go benchmarks generate (bench.jsonl.zst, bench.warc.gz in DIR) with
datatrove's JsonlReader and WarcReader, one process, and print MB/s of
uncompressed input (the same measure as the Go benchmarks' b.SetBytes). Then run
a datatrove pipeline JsonlReader -> JsonlWriter(zstd) over the 4 shards in
DIR/bench-shards with LocalPipelineExecutor (4 tasks, one worker per core), as
BenchmarkPipelineJSONLZstd does with golem's Pipeline.

    .venv/bin/python lmlib/data/bench/datatrove_read.py DIR [GO_BENCH_OUTPUT]

With GO_BENCH_OUTPUT (the output of `go test -bench` over the same DIR), it prints
one line per benchmark: `bench: NAME golem=… datatrove=… ratio=…` (MB/s, ratio > 1
means golem is faster).
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

import os
import shutil
import tempfile

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.writers import JsonlWriter

size = int(open(f"{d}/bench.jsonl.zst.size").read())
tmp = tempfile.mkdtemp()
try:
    ex = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(f"{d}/bench-shards", glob_pattern="*.jsonl.zst", compression="zstd"),
            JsonlWriter(f"{tmp}/out", compression="zstd"),
        ],
        tasks=4,
        workers=os.cpu_count(),
        logging_dir=f"{tmp}/logs",
        start_method="fork",
    )
    t0 = time.perf_counter()
    ex.run()
    dt = time.perf_counter() - t0
finally:
    shutil.rmtree(tmp)
res["pipeline_jsonl_zst"] = {"seconds": dt, "mb_s": size / dt / 1e6}
print(f"datatrove pipeline_jsonl_zst: {dt:.2f}s, {size / dt / 1e6:.1f} MB/s", file=sys.stderr)
print(json.dumps(res))

if len(sys.argv) > 2:
    import re

    golem = {}
    for line in open(sys.argv[2]):
        m = re.match(r"Benchmark(\w+?)(-\d+)?\s+\d+\s+\d+ ns/op\s+([\d.]+) MB/s", line)
        if m:
            golem[m.group(1)] = float(m.group(3))
    for name, gkey, dkey in [
        ("data-read-jsonl-zst", "ReadJSONLZstd", "jsonl_zst"),
        ("data-read-warc-gz", "ReadWARCGzip", "warc_gz"),
        ("data-pipeline-jsonl-zst", "PipelineJSONLZstd", "pipeline_jsonl_zst"),
    ]:
        g, p = golem.get(gkey), res[dkey]["mb_s"]
        if g is None:
            print(f"bench: {name} golem=missing datatrove={p:.1f}MB/s")
            continue
        print(f"bench: {name} golem={g:.1f}MB/s datatrove={p:.1f}MB/s ratio={g / p:.2f}")
