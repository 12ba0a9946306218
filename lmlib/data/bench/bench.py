"""`make bench-data`: golem's lmlib/data against datatrove 0.10.1 on the same files.

    .venv/bin/python lmlib/data/bench/bench.py DIR TESTBIN [ROUNDS]

TESTBIN is lmlib/data's compiled test binary (go test -c); its benchmarks generate
the corpora in DIR on first use (GOLEM_BENCH_DIR): bench.jsonl.zst (~200 MB of
JSONL from Opticks, Tom Sawyer and the Brown corpus), bench.warc.gz (~200 MB of
WARC request/response pairs, one gzip member per record) and bench-shards/ (the
JSONL split into 4 shards). Three measurements, each golem then datatrove
back to back, ROUNDS times (default 3), best of each side (the machine is shared;
best-of filters out other jobs' bursts):

  data-read-jsonl-zst      one stream: golem Open+Next vs datatrove JsonlReader.read_file
  data-read-warc-gz        one stream: golem WARCReader vs datatrove WarcReader.read_file
  data-pipeline-jsonl-zst  all cores, 4 shards, no steps, JSONL.zst out: golem Pipeline vs
                           datatrove LocalPipelineExecutor(JsonlReader -> JsonlWriter zstd,
                           tasks=4, workers=cores)

MB/s are of uncompressed input. Prints `bench: NAME golem=… datatrove=… ratio=…`
(ratio > 1: golem is faster); for the two readers also NAME-cpu: MB per CPU-second
of the process (golem: all goroutines; datatrove: the one Python process), the
steadier figure when other jobs share the cores.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.writers import JsonlWriter

d, testbin = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
env = dict(os.environ, GOLEM_BENCH_DIR=d)


cpu = {}  # golem cpuMB/s and datatrove MB per CPU-second, best of rounds


def golem(bench):
    out = subprocess.run([testbin, "-test.run", "^$", "-test.bench", f"^Benchmark{bench}$", "-test.benchtime", "1x"],
                         env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(rf"Benchmark{bench}(-\d+)?\s+\d+\s+\d+ ns/op\s+([\d.]+) MB/s", out)
    if not m:
        sys.exit(f"no result for {bench}:\n{out}")
    c = re.search(r"([\d.]+) cpuMB/s", out)
    if c:
        cpu[("golem", bench)] = max(cpu.get(("golem", bench), 0.0), float(c.group(1)))
    return float(m.group(2))


def size(name):
    return int(open(f"{d}/{name}.size").read())


def dt_read(reader, name):
    t0, c0 = time.perf_counter(), time.process_time()
    n = sum(1 for _ in reader.read_file(name))
    assert n > 0
    c = size(name) / (time.process_time() - c0) / 1e6
    cpu[("datatrove", name)] = max(cpu.get(("datatrove", name), 0.0), c)
    return size(name) / (time.perf_counter() - t0) / 1e6


def dt_pipeline():
    tmp = tempfile.mkdtemp()
    try:
        ex = LocalPipelineExecutor(
            pipeline=[
                JsonlReader(f"{d}/bench-shards", glob_pattern="*.jsonl.zst", compression="zstd"),
                JsonlWriter(f"{tmp}/out", compression="zstd"),
            ],
            tasks=4, workers=os.cpu_count(), logging_dir=f"{tmp}/logs", start_method="fork",
        )
        t0 = time.perf_counter()
        ex.run()
        return size("bench.jsonl.zst") / (time.perf_counter() - t0) / 1e6
    finally:
        shutil.rmtree(tmp)


# Generate the corpora first (not timed).
golem("ReadJSONLZstd"), golem("ReadWARCGzip"), golem("PipelineJSONLZstd")

cases = [
    ("data-read-jsonl-zst", "ReadJSONLZstd",
     lambda: dt_read(JsonlReader(d, glob_pattern="bench.jsonl.zst", compression="zstd"), "bench.jsonl.zst")),
    ("data-read-warc-gz", "ReadWARCGzip", lambda: dt_read(WarcReader(d, glob_pattern="bench.warc.gz"), "bench.warc.gz")),
    ("data-pipeline-jsonl-zst", "PipelineJSONLZstd", dt_pipeline),
]
for name, bench, peer in cases:
    g = p = 0.0
    for _ in range(rounds):
        g = max(g, golem(bench))
        p = max(p, peer())
    print(f"bench: {name} golem={g:.1f}MB/s datatrove={p:.1f}MB/s ratio={g / p:.2f}", flush=True)
    fname = {"ReadJSONLZstd": "bench.jsonl.zst", "ReadWARCGzip": "bench.warc.gz"}.get(bench)
    if fname and ("golem", bench) in cpu:
        gc, pc = cpu[("golem", bench)], cpu[("datatrove", fname)]
        print(f"bench: {name}-cpu golem={gc:.1f}MB/cpu-s datatrove={pc:.1f}MB/cpu-s ratio={gc / pc:.2f}", flush=True)
