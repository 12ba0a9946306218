#!/bin/sh
# Regenerate the PyTorch learning curve that lmlib/train's TestLearnsOpticksLikePyTorch
# compares with: golem dumps its initial weights and batches (and trains, writing its
# own curve), then the PyTorch reference trains on exactly those.
# usage: tools/trainref/run.sh [STEPS [OUT.json]]   (needs `make peers` for torch)
set -eu
steps=${1:-300}
out=${2:-lmlib/train/testdata/opticks_ref.json}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GOLEM_TRAINREF_DUMP=$dir GOLEM_TRAINREF_STEPS=$steps go test -count=1 -timeout 60m \
  -run '^TestLearnsOpticksLikePyTorch$' ./lmlib/train
.venv/bin/python tools/trainref/train_ref.py --dump "$dir" --out "$out"
echo "wrote $out"
