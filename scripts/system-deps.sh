#!/usr/bin/env bash
# Installs the Debian packages golem's build and tests need: OpenBLAS for the CPU
# trainer's cgo; bubblewrap, the sandbox of golem serve's function workers; OpenMPI
# (headers for lmlib/dist's cgo under the build tag mpi, mpirun to start data-parallel
# ranks); Chromium and its WebDriver for the JupyterLab browser test (tests/test_lab.py
# drives the system browser: nothing is downloaded at run time); real data for the
# evaluation tasks: FreeDict's German-English dictionary (translation pairs) and
# bsdgames' quiz files.
# Idempotent: does nothing when they are already installed.
set -euo pipefail
pkgs=(libopenblas-dev pkg-config bubblewrap libopenmpi-dev openmpi-bin chromium chromium-driver fonts-dejavu-core dict-freedict-deu-eng bsdgames)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "system-deps: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
