"""%%deploy from a cell, seen through jupyter_client, against a real `golem serve`.

The cell defines the function in the kernel (tried in the next cell) and deploys
the same source to the host named by GOLEM_URL / GOLEM_API_KEY; the test then
calls the deployed function over HTTP as a user's curl would.
"""

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from jupyter_client.manager import start_new_kernel

from test_kernel import run, stream_text

KEY = "test-admin-key-0123456789"  # an admin key (--api-key): deploys
APP_KEY = "golem_app_key_for_tests_0123456789"  # the invoke scope only (a key file line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=body, headers={"Authorization": f"Bearer {KEY}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture(scope="module")
def host(golem_bin, tmp_path_factory):
    port = free_port()
    data = tmp_path_factory.mktemp("serve")
    keys = data / "keys"
    keys.write_text("sha256:" + hashlib.sha256(APP_KEY.encode()).hexdigest() + " invoke app\n")
    proc = subprocess.Popen([golem_bin, "serve", "--addr", f"127.0.0.1:{port}", "--data", str(data),
                             "--api-key", KEY, "--keys", str(keys), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=open(data / "serve.log", "w"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_/health", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("golem serve did not start: " + (data / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def kernel(host):
    env = dict(os.environ, GOLEM_URL=host, GOLEM_API_KEY=KEY)
    km, kc = start_new_kernel(kernel_name="golem", startup_timeout=30, env=env)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


CELL = """%%deploy wc --timeout 10s --memory 256
import "strings"

// Handle counts the words of a text.
func Handle(text string) (int, error) {
	return len(strings.Fields(text)), nil
}"""


def test_deploy_cell(kernel, host):
    km, kc = kernel
    reply, outs = run(kc, CELL)
    assert reply["status"] == "ok", reply
    result = [m for m in outs if m["msg_type"] == "execute_result"]
    assert len(result) == 1, outs
    data = result[0]["content"]["data"]
    text, html = data["text/plain"], data["text/html"]
    assert text.startswith(f"deployed wc: {host}/functions/wc\n"), text
    assert "limits: timeout 10s, memory 256 MiB" in text
    assert f'curl -sS -H "Authorization: Bearer $GOLEM_API_KEY" -d @input.json {host}/functions/wc' in text
    assert f"{host}/jobs/wc" in text
    assert "<b>deployed wc</b>" in html and "<th" in html

    # tried right there, in the session
    reply, outs = run(kc, 'Handle("three little words")')
    assert reply["status"] == "ok", reply
    assert [m["content"]["data"]["text/plain"] for m in outs if m["msg_type"] == "execute_result"] == ["3"]

    # and on the host, with the same source and limits
    status, body = http("POST", host + "/functions/wc", json.dumps("four words right here").encode())
    assert (status, body) == (200, 4)
    status, f = http("GET", host + "/functions/wc")
    assert status == 200
    assert f["limits"]["timeout_ms"] == 10000 and f["limits"]["memory_mb"] == 256, f
    assert "func Handle(text string) (int, error)" in f["source"] and f["source"].startswith("package wc\n"), f["source"]


def test_deploy_error_from_the_host(kernel, host):
    km, kc = kernel
    # a name the host refuses for a user function: the built-in's
    reply, outs = run(kc, "%%deploy tokenize\nfunc Handle(s string) string { return s }")
    assert reply["status"] == "error"
    assert reply["evalue"].startswith(f"%%deploy tokenize: the function host at {host} refused it: golem host: 400 Bad Request: "), reply["evalue"]


def test_deploy_auto_import(kernel, host):
    km, kc = kernel
    reply, outs = run(kc, "%%deploy upper\nfunc Handle(s string) string { return strings.ToUpper(s) }")
    assert reply["status"] == "ok", reply
    status, body = http("POST", host + "/functions/upper", json.dumps("golem").encode())
    assert (status, body) == (200, "GOLEM")
    status, f = http("GET", host + "/functions/upper")
    assert 'import (\n\t"strings"\n)' in f["source"], f["source"]
