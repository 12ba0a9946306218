"""Build libkernels_emu.so: lmlib/gpt/cuda/kernels.cu on the CPU through emu.h, with one
extern "C" emu_<kernel>(gx, gy, block, shared, args...) launcher per kernel.

usage: python3 build.py OUT_DIR   (prints the path of the library)
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "..", "lmlib", "gpt", "cuda", "kernels.cu")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    src = open(SRC).read()
    src = src.replace("extern __shared__ float sh[];", "float* sh = (float*)emu_dyn_shared.data();")
    src = re.sub(r"__shared__ ", "static ", src)
    src = src.replace("#define INFINITY __int_as_float(0x7f800000)", "")
    sigs = re.findall(r"__global__ void (\w+)\(([^)]*)\)", src, re.S)
    wrappers = ['extern "C" {']
    for name, params in sigs:
        params = " ".join(params.split())
        names = [p.strip().split()[-1].lstrip("*") for p in params.split(",")]
        wrappers.append(f"void emu_{name}(int gx, int gy, int bx, int shared, {params}) "
                        f"{{ emu_run(gx, gy, bx, shared, [=] {{ {name}({', '.join(names)}); }}); }}")
    wrappers.append("}")
    gen = os.path.join(out, "kernels_emu.cpp")
    with open(gen, "w") as f:
        f.write('#include "emu.h"\n' + src + "\n" + "\n".join(wrappers) + "\n")
    lib = os.path.join(out, "libkernels_emu.so")
    subprocess.run(["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-I", HERE, "-o", lib, gen], check=True)
    print(lib)


if __name__ == "__main__":
    main()
