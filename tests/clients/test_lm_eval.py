"""lm-evaluation-harness's local-completions model against golem serve: the same
tasks give the same numbers as `golem eval` on the same checkpoint.

lm-eval tokenizes through the server's vLLM-style tokenizer endpoints (its
"remote" backend), scores continuations with echo + logprobs, and generates with
stop sequences; golem eval runs the same JSONL tasks in process.
"""

import json
import os
import pathlib
import random
import re
import subprocess
import sys

from conftest import GOLEM_BIN

TASKS = ("golem_cloze", "golem_mc", "golem_gen")


def make_tasks(served, dir):
    """Three tasks from held-out Opticks prose: last-word cloze, 4-way multiple
    choice, and completion whose target is the model's own greedy text for every
    other example (from the built-in generate, another code path than the API)."""
    rng = random.Random(5)
    text = re.sub(r"\s+", " ", served.text[60000:90000])
    words = text.split(" ")
    vocab = set(served.text[20000:60000])
    cloze, mc, gen = [], [], []
    while len(cloze) < 24:
        i = rng.randrange(8, len(words) - 2)
        ctx = " ".join(words[i - 6:i])
        ans = " " + words[i]
        if not set(ctx + ans) <= vocab or len(ctx) > 26 or not words[i].isalpha():
            continue
        cloze.append({"context": ctx, "continuation": ans})
        others = rng.sample([w for w in words if w.isalpha() and w != words[i] and set(w) <= vocab], 3)
        choices = [ans] + [" " + w for w in others]
        rng.shuffle(choices)
        mc.append({"context": ctx, "choices": choices, "gold": choices.index(ans)})
    for k, e in enumerate(cloze[:12]):
        out = served.post("/functions/generate", {"model": "opticks", "prompt": e["context"], "max_tokens": 8, "stop": ["\n"]})
        target = out["text"] if k % 2 == 0 else e["continuation"] + " of"
        gen.append({"context": e["context"], "target": target, "until": ["\n"], "max_tokens": 8})
    files = {}
    for name, rows in (("golem_cloze", cloze), ("golem_mc", mc), ("golem_gen", gen)):
        p = dir / f"{name}.jsonl"
        p.write_text("".join(json.dumps(r) + "\n" for r in rows))
        files[name] = p
    common = "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {path}\ntest_split: test\ndoc_to_text: context\n"
    (dir / "golem_cloze.yaml").write_text("task: golem_cloze\n" + common.format(path=files["golem_cloze"]) +
        "output_type: loglikelihood\ndoc_to_target: continuation\ntarget_delimiter: \"\"\nmetric_list:\n"
        "  - metric: perplexity\n    aggregation: perplexity\n    higher_is_better: false\n"
        "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n")
    (dir / "golem_mc.yaml").write_text("task: golem_mc\n" + common.format(path=files["golem_mc"]) +
        "output_type: multiple_choice\ndoc_to_choice: choices\ndoc_to_target: gold\ntarget_delimiter: \"\"\nmetric_list:\n"
        "  - metric: acc\n  - metric: acc_norm\n")
    (dir / "golem_gen.yaml").write_text("task: golem_gen\n" + common.format(path=files["golem_gen"]) +
        "output_type: generate_until\ndoc_to_target: target\ngeneration_kwargs:\n  until: [\"\\n\"]\n  max_gen_toks: 8\n"
        "  do_sample: false\n  temperature: 0\nmetric_list:\n  - metric: exact_match\n")
    return files


def test_lm_eval_local_completions_equals_golem_eval(served, tmp_path):
    files = make_tasks(served, tmp_path)
    golem_out = tmp_path / "golem.json"
    subprocess.run([GOLEM_BIN, "eval", "--checkpoint", str(served.models / "opticks"), "--output", str(golem_out)] +
                   [str(files[t]) for t in TASKS], check=True, capture_output=True, text=True)
    ours = json.loads(golem_out.read_text())["results"]

    env = dict(os.environ, OPENAI_API_KEY=served.key, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1",
               HF_HOME=str(tmp_path / "hf"), TOKENIZERS_PARALLELISM="false")
    base = served.url + "/models/opticks/v1/completions"
    # max_length = context + 2: lm-eval's API models keep the last max_length - 1
    # tokens of a request, and golem scores up to context + 1 of them (the first only
    # read), as lm-eval's in-process HF model does.
    args = (f"base_url={base},model=opticks,tokenizer_backend=remote,auth_token={served.key},"
            "max_length=34,num_concurrent=1,max_retries=1,tokenized_requests=True")
    r = subprocess.run([sys.executable, "-m", "lm_eval", "--model", "local-completions", "--model_args", args,
                        "--include_path", str(tmp_path), "--tasks", ",".join(TASKS), "--output_path", str(tmp_path / "lm_eval"),
                        "--seed", "1234"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    found = sorted(pathlib.Path(tmp_path / "lm_eval").rglob("results_*.json"))
    assert found, r.stdout[-2000:]
    theirs = json.loads(found[-1].read_text())["results"]

    compared = []
    for task, metrics in (("golem_cloze", ("acc", "perplexity")), ("golem_mc", ("acc", "acc_norm")), ("golem_gen", ("exact_match",))):
        for m in metrics:
            a, b = ours[task][m + ",none"], theirs[task][m + ",none"]
            compared.append((task, m, a, b))
            assert abs(a - b) <= 1e-4 * max(1.0, abs(a)), (task, m, a, b)
    print("golem eval vs lm-eval local-completions:", compared)
    # The completion task's targets are the model's own text for half the examples.
    assert ours["golem_gen"]["exact_match,none"] == 0.5, ours["golem_gen"]
