#!/usr/bin/env bash
# The install steps of golem's container images (the top-level Dockerfile runs
# them; tests/test_image_install.py runs them here into a temporary root, so
# `make test` tests the steps without building an image).
#
#   scripts/image-install.sh lab     JupyterLab image, Jupyter docker-stacks conventions:
#                                    user $NB_USER ($NB_UID:$NB_GID) with /home/$NB_USER/work,
#                                    a venv at $VENV with JupyterLab and papermill (pinned by
#                                    requirements-image.txt + constraints.txt), the golem
#                                    kernelspec installed system-wide, start-notebook.sh, the
#                                    notebooks under work/golem-notebooks
#   scripts/image-install.sh serve   function host image: user golem ($NB_UID), /data for the
#                                    embedded NATS JetStream store
#
# Both install the runtime Debian packages (OpenBLAS; Python for lab) and copy the
# golem binary ($GOLEM_BIN) to /usr/local/bin. Run from the repository root.
#
# Environment: PREFIX (root to install into; default /), GOLEM_BIN (default
# bin/golem), NB_USER (jovyan), NB_UID (1000), NB_GID (100), VENV (/opt/venv),
# SKIP_APT=1 (the packages are known to be there).
set -euo pipefail

what=${1:-}
case "$what" in
  lab | serve) ;;
  *) echo "usage: scripts/image-install.sh lab|serve (got '${what}')" >&2; exit 2 ;;
esac
PREFIX=${PREFIX:-/}
PREFIX=${PREFIX%/}
GOLEM_BIN=${GOLEM_BIN:-bin/golem}
NB_USER=${NB_USER:-jovyan}
NB_UID=${NB_UID:-1000}
NB_GID=${NB_GID:-100}
VENV=${VENV:-/opt/venv}
for v in NB_UID NB_GID; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "image-install: $v='${!v}' is not a number" >&2; exit 2; }
done
[ -x "$GOLEM_BIN" ] || { echo "image-install: GOLEM_BIN=$GOLEM_BIN is not an executable (run make build)" >&2; exit 2; }

# 1. runtime packages (Debian)
pkgs=(libopenblas0 ca-certificates)
[ "$what" = lab ] && pkgs+=(python3 python3-venv tini git)
[ "$what" = serve ] && pkgs+=(bubblewrap)   # the function workers' sandbox
if [ "${SKIP_APT:-}" != 1 ]; then
  missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -rf /var/lib/apt/lists/*
  fi
fi

# 2. the golem binary
install -D -m 0755 "$GOLEM_BIN" "$PREFIX/usr/local/bin/golem"

# 3. the user (docker-stacks: NB_USER with NB_UID, group NB_GID = users)
user=$NB_USER home=/home/$NB_USER
[ "$what" = serve ] && user=golem home=/home/golem
mkdir -p "$PREFIX/etc"
touch "$PREFIX/etc/passwd" "$PREFIX/etc/group"
if ! grep -q "^[^:]*:[^:]*:$NB_GID:" "$PREFIX/etc/group"; then
  echo "users:x:$NB_GID:" >>"$PREFIX/etc/group"
fi
if ! grep -q "^$user:" "$PREFIX/etc/passwd"; then
  echo "$user:x:$NB_UID:$NB_GID::$home:/bin/bash" >>"$PREFIX/etc/passwd"
fi
mkdir -p "$PREFIX$home"

if [ "$what" = serve ]; then
  mkdir -p "$PREFIX/data"
  chown -R "$NB_UID:$NB_GID" "$PREFIX/data" "$PREFIX$home"
  echo "image-install: serve: /usr/local/bin/golem, user golem ($NB_UID), /data"
  exit 0
fi

# 4. JupyterLab and papermill in a venv, pinned
python3 -m venv "$PREFIX$VENV"
"$PREFIX$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-cache-dir \
  -r requirements-image.txt -c constraints.txt
"$PREFIX$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-cache-dir ./kernel/papermill

# 5. the golem kernelspec, system-wide (docker-stacks: kernels under /usr/local/share/jupyter)
"$PREFIX/usr/local/bin/golem" install --prefix "$PREFIX/usr/local" >/dev/null

# 6. the start script: JupyterLab on 0.0.0.0:8888 in the work directory
cat >"$PREFIX/usr/local/bin/start-notebook.sh" <<EOF
#!/bin/bash
# Starts JupyterLab as docker-stacks images do (token: \$JUPYTER_TOKEN, or a generated one).
set -e
cd "\$HOME/work"
exec "$VENV/bin/jupyter-lab" --ip=0.0.0.0 --port=8888 --no-browser \\
  --ServerApp.root_dir="\$HOME/work" --LabApp.extension_manager=readonly "\$@"
EOF
chmod 0755 "$PREFIX/usr/local/bin/start-notebook.sh"

# 7. the work directory, with golem's notebooks
mkdir -p "$PREFIX$home/work/golem-notebooks"
cp notebooks/*.ipynb "$PREFIX$home/work/golem-notebooks/"
chown -R "$NB_UID:$NB_GID" "$PREFIX$home"
echo "image-install: lab: $VENV (JupyterLab, papermill), kernelspec golem in /usr/local/share/jupyter/kernels, user $NB_USER ($NB_UID:$NB_GID), start-notebook.sh"
