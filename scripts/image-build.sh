#!/usr/bin/env bash
# Builds golem's two images from the top-level Dockerfile with buildah (no docker engine
# needed): golem-lab (--target lab) and golem-serve (--target serve), then prints their
# sizes and build times. The base images must be in local storage already, pulled or
# made by scripts/image-bases.sh: nothing is pulled (--pull=never). The RUN steps reach
# the Debian archive, the Go module proxy, npm and PyPI over the host's network.
#
#   scripts/image-build.sh [lab|serve]...    (default: both)
#
# Environment: GO_VERSION, DEBIAN (the Dockerfile's ARGs; its defaults when unset),
# OCI_RUNTIME (default: buildah's, or runc on a cgroup v1/v2 hybrid host, where crun
# fails), BUILDAH_FLAGS (more flags for buildah bud). Run from the repository root.
set -euo pipefail

die() { echo "image-build: $*" >&2; exit 1; }
command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
[ -f Dockerfile ] || die "run from the repository root (no Dockerfile here)"
runtime=${OCI_RUNTIME:-}
if [ -z "$runtime" ] && [ -d /sys/fs/cgroup/unified ] && command -v runc >/dev/null; then runtime=runc; fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(serve lab)
args=(--pull=never --network host --layers --format docker)   # docker format keeps HEALTHCHECK and SHELL
[ -n "$runtime" ] && args+=(--runtime "$runtime")
[ -n "${GO_VERSION:-}" ] && args+=(--build-arg "GO_VERSION=$GO_VERSION")
[ -n "${DEBIAN:-}" ] && args+=(--build-arg "DEBIAN=$DEBIAN")
read -r -a extra <<<"${BUILDAH_FLAGS:-}"

summary=()
for t in "${targets[@]}"; do
  case "$t" in lab | serve) ;; *) die "unknown target '$t' (lab or serve)" ;; esac
  echo "image-build: buildah bud --target $t -t golem-$t ."
  start=$SECONDS
  buildah bud "${args[@]}" "${extra[@]}" --target "$t" -t "golem-$t" .
  secs=$((SECONDS - start))
  size=$(buildah images --format '{{.Size}}' "golem-$t" | head -1)
  summary+=("golem-$t: $size, built in ${secs}s")
done
printf 'image-build: %s\n' "${summary[@]}"
