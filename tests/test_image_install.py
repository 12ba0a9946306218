"""The container images' install steps (scripts/image-install.sh, which the top-level
Dockerfile runs), run here into a temporary root: `make test` builds no image (that takes
minutes and buildah/podman: `make image`), so the script is what is tested.

The lab steps: a venv with the pinned JupyterLab and papermill (with golem's
translator), the golem kernelspec system-wide pointing at /usr/local/bin/golem,
docker-stacks' user and work directory, start-notebook.sh, the notebooks. Then the
installed JupyterLab is started with the start script's command and lists the golem
kernelspec over its REST API.
"""

import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "image-install.sh"


def install(what, prefix, **env):
    e = dict(os.environ, PREFIX=str(prefix), GOLEM_BIN=str(ROOT / "bin" / "golem"), NB_UID="4242", NB_GID="4243")
    e.update(env)
    return subprocess.run([str(SCRIPT), what], cwd=ROOT, env=e, capture_output=True, text=True, timeout=900)


def test_bad_input(tmp_path):
    r = subprocess.run([str(SCRIPT), "desktop"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "usage: scripts/image-install.sh lab|serve (got 'desktop')" in r.stderr
    r = install("serve", tmp_path, NB_UID="jovyan")
    assert r.returncode == 2 and "NB_UID='jovyan' is not a number" in r.stderr
    r = install("serve", tmp_path, GOLEM_BIN="/nonexistent/golem")
    assert r.returncode == 2 and "GOLEM_BIN=/nonexistent/golem is not an executable" in r.stderr


def test_serve(tmp_path):
    r = install("serve", tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "usr/local/bin/golem").stat().st_mode & 0o111
    assert "golem:x:4242:4243::/home/golem:/bin/bash" in (tmp_path / "etc/passwd").read_text()
    assert (tmp_path / "data").stat().st_uid == 4242
    v = subprocess.run([str(tmp_path / "usr/local/bin/golem"), "version"], capture_output=True, text=True)
    assert v.returncode == 0 and "golem" in v.stdout


def test_lab(tmp_path):
    r = install("lab", tmp_path)
    assert r.returncode == 0, r.stderr
    spec = json.loads((tmp_path / "usr/local/share/jupyter/kernels/golem/kernel.json").read_text())
    assert spec["argv"][0] == str(tmp_path / "usr/local/bin/golem") and spec["language"] == "go"
    assert "jovyan:x:4242:4243::/home/jovyan:/bin/bash" in (tmp_path / "etc/passwd").read_text()
    work = tmp_path / "home/jovyan/work"
    assert work.stat().st_uid == 4242
    assert {"quickstart.ipynb", "06_deploy.ipynb"} <= {p.name for p in (work / "golem-notebooks").iterdir()}
    venv = tmp_path / "opt/venv"
    freeze = subprocess.run([str(venv / "bin/python"), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    assert "jupyterlab==4.6.6" in freeze and "papermill==2.7.0" in freeze and "golem-papermill" in freeze
    assert "jupyterlab_widgets==3.0.17" in freeze, "the lab image draws golem's widgets"
    start = (tmp_path / "usr/local/bin/start-notebook.sh").read_text()
    assert '--ip=0.0.0.0 --port=8888' in start and "/opt/venv/bin/jupyter-lab" in start

    # the installed lab serves the golem kernelspec (start-notebook.sh's command, on a free loopback port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_PATH=str(tmp_path / "usr/local/share/jupyter"), JUPYTER_TOKEN="t",
               JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    lab = subprocess.Popen([str(venv / "bin/jupyter-lab"), "--ip=127.0.0.1", f"--port={port}", "--no-browser",
                            "--allow-root", f"--ServerApp.root_dir={work}", "--LabApp.extension_manager=readonly"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token=t", timeout=2) as resp:
                    specs = json.load(resp)
                break
            except OSError:
                if lab.poll() is not None or time.time() > deadline:
                    pytest.fail("the installed JupyterLab did not start")
                time.sleep(0.3)
        assert "golem" in specs["kernelspecs"], specs
        assert specs["kernelspecs"]["golem"]["spec"]["display_name"] == "Go (golem)"
    finally:
        lab.terminate()
        lab.wait(timeout=30)
