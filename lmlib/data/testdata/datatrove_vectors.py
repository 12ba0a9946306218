"""Regenerate datatrove_vectors.json: what datatrove's own readers read from the
sample files that lmlib/data's tests build (go test -run TestDatatroveAgreement -update).

    .venv/bin/python lmlib/data/testdata/datatrove_vectors.py

Needs the peers (make peers): datatrove==0.10.1, warcio, faust-cchardet, python-magic.
For each file: a list of {ID, URL, SHA} with SHA the sha256 of the document text.
"""
import hashlib
import json
import os

from datatrove.pipeline.readers import JsonlReader, WarcReader

here = os.path.dirname(os.path.abspath(__file__))
out = {}
for name, reader in [
    ("sample.warc.gz", WarcReader(here, glob_pattern="sample.warc.gz")),
    ("sample.wet.gz", WarcReader(here, glob_pattern="sample.wet.gz")),
    ("sample.jsonl.gz", JsonlReader(here, glob_pattern="sample.jsonl.gz")),
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
