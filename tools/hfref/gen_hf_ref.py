"""Reference for lmlib/hf: what Hugging Face transformers computes on golem's export.

Regenerate (needs `make peers`: torch, transformers):
    GOLEM_WRITE_HF_TESTDATA=1 go test ./lmlib/hf -run TestWriteTestdata
    .venv/bin/python tools/hfref/gen_hf_ref.py
It loads lmlib/hf/testdata/tiny with GPT2LMHeadModel.from_pretrained and the
tokenizer with AutoTokenizer, and stores logits for fixed ids and the tokenizer's
ids for a sample text in lmlib/hf/testdata/tiny-ref.json.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel

here = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lmlib", "hf", "testdata"))
tiny = os.path.join(here, "tiny")

model = GPT2LMHeadModel.from_pretrained(tiny)
model.eval()
V = model.config.vocab_size
g = torch.Generator().manual_seed(0)
seqs = [torch.randint(0, V, (n,), generator=g).tolist() for n in (1, 7, 32)]
logits = []
with torch.no_grad():
    for ids in seqs:
        out = model(torch.tensor([ids])).logits[0]
        logits.append([float(x) for x in out.reshape(-1).tolist()])

tok = AutoTokenizer.from_pretrained(tiny)
text = "Tom Sawyer said: \"Well, I never!\"  And then\n\nhe whitewashed 12 feet of fence."
text_ids = tok.encode(text)
ref = {
    "ids": seqs,
    "logits": logits,
    "text": text,
    "text_ids": text_ids,
    "decoded": tok.decode(text_ids),
    "transformers_version": transformers.__version__,
}
assert ref["decoded"] == text, (ref["decoded"], text)
with open(os.path.join(here, "tiny-ref.json"), "w") as f:
    json.dump(ref, f)
print("wrote", os.path.join(here, "tiny-ref.json"), file=sys.stderr)
