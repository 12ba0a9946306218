"""Read a golem token shard the way llm.c's Python data code does and print it.

llm.c (dev/data/data_common.py, train_gpt2.py _load_data_shard) reads a shard as
header = int32[256], checks header[0] == 20240520 and header[1] == 1, takes
ntok = header[2] and reads ntok uint16 tokens. This script applies that logic
(with numpy when available, else the array module) and prints
"ntok first_10_tokens... sum" so the Go test can compare with its own reading.
Version 2 shards (uint32 tokens, a golem extension) are read as uint32.
usage: python llmc_read.py SHARD.bin
"""
import sys

path = sys.argv[1]
with open(path, "rb") as f:
    raw_header = f.read(256 * 4)
    rest = f.read()
try:
    import numpy as np

    header = np.frombuffer(raw_header, dtype=np.int32)
    dtype = np.uint16 if header[1] == 1 else np.uint32
    tokens = np.frombuffer(rest, dtype=dtype).astype(np.int64).tolist()
    header = header.tolist()
except ImportError:
    import array

    h = array.array("i")
    h.frombytes(raw_header)
    header = h.tolist()
    t = array.array("H" if header[1] == 1 else "I")
    t.frombytes(rest)
    tokens = t.tolist()
assert header[0] == 20240520, "magic number mismatch in the data .bin file"
assert header[1] in (1, 2), "unsupported version"
ntok = header[2]
assert len(tokens) == ntok, "number of tokens read does not match header"
print(ntok, " ".join(str(t) for t in tokens[:10]), sum(tokens))
