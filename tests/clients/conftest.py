"""A golem serve with one trained model, for the real OpenAI-API clients.

The tests here run in .venv-eval (make test-eval-clients), which has
lm-evaluation-harness and the openai client, not the kernel tests' tools.
"""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLEM_BIN = os.environ.get("GOLEM_BIN") or str(ROOT / "bin" / "golem")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def opticks():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    return pathlib.Path(goroot, "src", "testdata", "Isaac.Newton-Opticks.txt").read_text()


class Served:
    """golem serve on a loopback port with the character model "opticks"."""

    def __init__(self, url, key, models, text):
        self.url, self.key, self.models, self.text = url, key, models, text

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.load(r)


@pytest.fixture(scope="session")
def served():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="golem-clients-"))
    keys = tmp / "keys"
    key = subprocess.run([GOLEM_BIN, "keys", "new", "--scopes", "invoke", "--name", "clients", "--file", str(keys)],
                         capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    models = tmp / "models"
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([GOLEM_BIN, "serve", "--addr", f"127.0.0.1:{port}", "--keys", str(keys), "--data", str(tmp / "data"),
                             "--models", str(models), "--workers", "1"], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/_/health", timeout=2)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("golem serve did not start: " + (tmp / "serve.log").read_text())
            time.sleep(0.1)
    s = Served(url, key, models, opticks())
    # A small character-level GPT on 40 000 characters of Opticks (the built-in train).
    out = s.post("/functions/train", {"model": "opticks", "text": s.text[20000:60000], "layers": 2, "heads": 2, "width": 48,
                                      "context_len": 32, "batch": 16, "max_steps": 150, "lr": 0.003, "seed": 1})
    assert out["loss"] < out["first_loss"], out
    yield s
    proc.terminate()
    proc.wait(timeout=30)
