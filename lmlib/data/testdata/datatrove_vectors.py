"""Regenerate datatrove_vectors.json: what datatrove's own readers read from the
sample files that lmlib/data's tests build (go test -run TestDatatroveAgreement -update).

    .venv/bin/python lmlib/data/testdata/datatrove_vectors.py

Needs the peers (make peers): datatrove==0.10.1, warcio, faust-cchardet, python-magic,
orjson, pyarrow. For each file: a list of {ID, URL, SHA} with SHA the sha256 of the
document text. It also writes pyarrow.parquet (the first 120 paragraphs of Newton's
Opticks, split here independently of golem) for golem's Parquet reader test.
"""
import hashlib
import json
import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as papq
from datatrove.pipeline.readers import JsonlReader, ParquetReader, WarcReader

here = os.path.dirname(os.path.abspath(__file__))
out = {}
for name, reader in [
    ("sample.warc.gz", WarcReader(here, glob_pattern="sample.warc.gz")),
    ("sample.wet.gz", WarcReader(here, glob_pattern="sample.wet.gz")),
    ("sample.jsonl.gz", JsonlReader(here, glob_pattern="sample.jsonl.gz")),
    ("sample.parquet", ParquetReader(here, glob_pattern="sample.parquet")),
]:
    vec = []
    for doc in reader.read_file(name):
        vec.append({
            "ID": doc.id,
            "URL": doc.metadata.get("url", ""),
            "SHA": hashlib.sha256(doc.text.encode("utf-8")).hexdigest(),
        })
    out[name] = vec
    print(f"{name}: {len(vec)} documents")
with open(os.path.join(here, "datatrove_vectors.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")


def paragraphs(raw: bytes):
    """Runs of non-blank lines, joined by \n (\r stripped), with their byte offsets."""
    out, cur, start, off = [], [], -1, 0
    for line in raw.split(b"\n"):
        end = off + len(line) + 1
        text = line[:-1] if line.endswith(b"\r") else line
        if text.strip(b" \t\r\f\v") == b"":
            if cur:
                out.append((start, b"\n".join(cur).decode("utf-8")))
                cur = []
        else:
            if not cur:
                start = off
            cur.append(text)
        off = end
    if cur:
        out.append((start, b"\n".join(cur).decode("utf-8")))
    return out


goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
with open(os.path.join(goroot, "src", "testdata", "Isaac.Newton-Opticks.txt"), "rb") as f:
    paras = paragraphs(f.read())[:120]
table = pa.table({
    "id": [f"Isaac.Newton-Opticks.txt/{o}" for o, _ in paras],
    "text": [t for _, t in paras],
    "n": list(range(len(paras))),
})
papq.write_table(table, os.path.join(here, "pyarrow.parquet"), row_group_size=50, compression="snappy")
print(f"pyarrow.parquet: {len(paras)} rows")
