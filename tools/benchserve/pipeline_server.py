"""The peer of `make bench-serve`: HF transformers' text-generation pipeline behind an
OpenAI-style POST /v1/completions, served by waitress (a production WSGI server) with Flask.

    python tools/benchserve/pipeline_server.py MODEL_DIR PORT [THREADS]

Greedy decoding (temperature 0) of max_tokens new tokens; the answer carries the text and
usage like OpenAI's. Requests run concurrently on waitress's threads, as a user's
deployment of the pipeline would.
"""
import sys
import time

import torch
from flask import Flask, jsonify, request
from transformers import pipeline
from waitress import serve

model_dir, port = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 16
import os

if os.environ.get("TORCH_NUM_THREADS"):
    torch.set_num_threads(int(os.environ["TORCH_NUM_THREADS"]))
pipe = pipeline("text-generation", model=model_dir, device="cpu")
app = Flask(__name__)


@app.get("/health")
def health():
    return "ok"


@app.post("/v1/completions")
def completions():
    body = request.get_json(force=True)
    prompt, max_tokens = body["prompt"], int(body.get("max_tokens", 16))
    with torch.no_grad():
        out = pipe(prompt, max_new_tokens=max_tokens, do_sample=False, return_tensors=True)
    ids = out[0]["generated_token_ids"]
    n_prompt = len(pipe.tokenizer(prompt)["input_ids"])
    new = list(ids[n_prompt:])
    return jsonify({"id": "cmpl-peer", "object": "text_completion", "created": int(time.time()), "model": model_dir,
                    "choices": [{"index": 0, "text": pipe.tokenizer.decode(new), "finish_reason": "length"}],
                    "usage": {"prompt_tokens": n_prompt, "completion_tokens": len(new),
                              "total_tokens": n_prompt + len(new)}})


serve(app, host="127.0.0.1", port=port, threads=threads)
