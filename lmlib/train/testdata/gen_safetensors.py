"""Write testdata/python.safetensors with the safetensors package (PyPI), so the Go
reader is checked against files the reference implementation writes.
Values: "a" = arange(6).reshape(2,3)/4, "h.0.ln_1.weight" = 1 - arange(4)/8,
"scalar" = [3.5] with shape [], "empty" with shape [0, 2]; metadata {"format": "pt"}.
usage: .venv/bin/python lmlib/train/testdata/gen_safetensors.py
"""
import os

import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))
save_file(
    {
        "a": (np.arange(6, dtype=np.float32) / 4).reshape(2, 3),
        "h.0.ln_1.weight": 1 - np.arange(4, dtype=np.float32) / 8,
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 2), dtype=np.float32),
    },
    os.path.join(here, "python.safetensors"),
    metadata={"format": "pt"},
)
