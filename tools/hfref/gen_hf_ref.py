"""Reference for lmlib/hf: what Hugging Face transformers computes on golem's exports.

Regenerate (needs `make peers`: torch, transformers):
    GOLEM_WRITE_HF_TESTDATA=1 go test ./lmlib/hf -run TestWriteTestdata
    .venv/bin/python tools/hfref/gen_hf_ref.py
For each of lmlib/hf/testdata/tiny (GPT2LMHeadModel), tiny-arcee (ArceeForCausalLM) and
tiny-apertus (ApertusForCausalLM) it loads the model with AutoModelForCausalLM.from_pretrained
and the tokenizer with AutoTokenizer, and stores logits for fixed ids and the tokenizer's ids
for a sample text in lmlib/hf/testdata/<name>-ref.json.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

here = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lmlib", "hf", "testdata"))


def reference(name, cls):
    tiny = os.path.join(here, name)
    model = AutoModelForCausalLM.from_pretrained(tiny)
    assert type(model).__name__ == cls, (name, type(model).__name__)
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
    with open(os.path.join(here, name + "-ref.json"), "w") as f:
        json.dump(ref, f)
    print("wrote", os.path.join(here, name + "-ref.json"), cls, file=sys.stderr)


reference("tiny", "GPT2LMHeadModel")
reference("tiny-arcee", "ArceeForCausalLM")
reference("tiny-apertus", "ApertusForCausalLM")
