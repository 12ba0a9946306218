"""Build libkernels_emu.so: lmlib/gpt/cuda/kernels.cu on the CPU through emu.h, with one
extern "C" emu_<kernel>(gx, gy, block, shared, args...) launcher per kernel.

usage: python3 build.py OUT_DIR [STUB_C]   (prints the path of the library)

With STUB_C (build/cuda12/stubs/libcuda_stub.c from mkstub.py) it also builds
OUT_DIR/libcuda.so.1 and OUT_DIR/libcublas.so.13 from fakedriver.cpp: a host-memory
driver that runs the emulated kernels, for `make cuda-emu-parity`.
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
    dispatch = ["int emu_dispatch(const char* name, int gx, int gy, int bx, int shared, void** p) {"]
    for name, params in sigs:
        params = " ".join(params.split())
        parts = [q.strip().rsplit(" ", 1) for q in params.split(",")]
        names = [n for _, n in parts]
        wrappers.append(f"void emu_{name}(int gx, int gy, int bx, int shared, {params}) "
                        f"{{ emu_run(gx, gy, bx, shared, [=] {{ {name}({', '.join(names)}); }}); }}")
        args = ", ".join(f"*({t}*)p[{i}]" for i, (t, _) in enumerate(parts))
        dispatch.append(f'  if (!strcmp(name, "{name}")) {{ emu_{name}(gx, gy, bx, shared, {args}); return 0; }}')
    dispatch.append('  fprintf(stderr, "emu: no kernel %s\\n", name); return 500;\n}')
    wrappers += dispatch
    wrappers.append("}")
    gen = os.path.join(out, "kernels_emu.cpp")
    with open(gen, "w") as f:
        f.write('#include "emu.h"\n' + src + "\n" + "\n".join(wrappers) + "\n")
    lib = os.path.join(out, "libkernels_emu.so")
    subprocess.run(["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-I", HERE, "-o", lib, gen], check=True)
    if len(sys.argv) > 2:
        fake = os.path.join(HERE, "fakedriver.cpp")
        overridden = set(re.findall(r"^int (cu\w+)\(", open(fake).read(), re.M))
        stub = [l for l in open(sys.argv[2]) if not any(f"int {n}(void)" in l for n in overridden)]
        stub_c = os.path.join(out, "stub_rest.c")
        with open(stub_c, "w") as f:
            f.writelines(stub)
        stub_o = os.path.join(out, "stub_rest.o")
        subprocess.run(["cc", "-c", "-fPIC", "-o", stub_o, stub_c], check=True)
        for soname in ("libcuda.so.1", "libcublas.so.13"):
            subprocess.run(["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-I", HERE,
                            f"-Wl,-soname,{soname}", "-o", os.path.join(out, soname), gen, fake, stub_o], check=True)
    print(lib)


if __name__ == "__main__":
    main()
