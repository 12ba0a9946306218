"""The translation fine-tune notebook runs end to end under papermill and chrF rises.

notebooks/finetune_translation.ipynb (written by notebooks/make_finetune_translation.py) pretrains
a small GPT, scores chrF on held-out FreeDict sentence pairs, fine-tunes on the other pairs and
scores again. A short run: fewer pretraining and fine-tuning steps, 60 held-out pairs.
The golem kernelspec is installed into a private prefix here, so this file needs nothing from
the other notebook tests.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLEM_BIN = os.environ.get("GOLEM_BIN") or str(ROOT / "bin" / "golem")


def outputs_text(nb):
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append("".join(o["text"]))
            elif "data" in o and "text/plain" in o["data"]:
                text.append("".join(o["data"]["text/plain"]))
    return "\n".join(text)


def test_finetune_translation_chrf_rises(tmp_path):
    prefix = tmp_path / "jupyter"
    subprocess.run([GOLEM_BIN, "install", "--prefix", str(prefix)], check=True, capture_output=True)
    env = dict(os.environ, JUPYTER_PATH=str(prefix / "share" / "jupyter"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    out_nb = tmp_path / "finetune_translation.ipynb"
    r = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "finetune_translation.ipynb"), str(out_nb),
         "-k", "golem", "--cwd", str(ROOT / "notebooks"),
         "-p", "pretrainSteps", "300", "-p", "finetuneSteps", "250", "-p", "heldOutPairs", "60",
         "-p", "outDir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    text = outputs_text(json.loads(out_nb.read_text()))
    for want in ["sentence pairs", "pretrained:", "held-out completion loss", "golem:"]:
        assert want in text, f"{want!r} missing from the notebook's output:\n{text[-2000:]}"
    m = re.search(r"chrF on (\d+) held-out pairs: before ([\d.]+), after ([\d.]+)", text)
    assert m, text[-2000:]
    n, before, after = int(m.group(1)), float(m.group(2)), float(m.group(3))
    assert n == 60
    assert after > before + 2, f"chrF did not rise: before {before}, after {after}"
    assert (tmp_path / "run" / "translation" / "finetune.json").is_file()
