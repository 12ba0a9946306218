#!/usr/bin/env bash
# Smoke checks of the built images (scripts/image-build.sh), run with podman:
#
#   serve  golem-serve answers GET /_/health with 200, its HEALTHCHECK passes, and a
#          function deployed over the API runs in the bubblewrap sandbox inside the
#          container (double(21) = 42)
#   lab    golem-lab's JupyterLab answers /api on 8888, lists the golem kernelspec, its
#          HEALTHCHECK passes, and the quick-start notebook runs end to end inside the
#          container: papermill -k golem (SKIP_NOTEBOOK=1 leaves it out)
#
#   scripts/image-smoke.sh [serve|lab]...    (default: both)
#
# Environment: SERVE_PORT (18080), LAB_PORT (18888): host ports; OCI_RUNTIME (default:
# podman's, or runc on a cgroup v1/v2 hybrid host, where crun fails); SKIP_NOTEBOOK=1.
set -euo pipefail

die() { echo "image-smoke: $*" >&2; exit 1; }
for t in podman curl; do command -v "$t" >/dev/null || die "$t is not installed"; done
runtime=${OCI_RUNTIME:-}
if [ -z "$runtime" ] && [ -d /sys/fs/cgroup/unified ] && command -v runc >/dev/null; then runtime=runc; fi
SERVE_PORT=${SERVE_PORT:-18080}
LAB_PORT=${LAB_PORT:-18888}

# podman's default limits for root (1048576 open files and processes) can be more than the
# runtime may set in a container on a host with lower hard limits ("error setting rlimits":
# so here); these fit under such a host's limits and are plenty for the checks.
run_args=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
[ -n "$runtime" ] && run_args+=(--runtime "$runtime")

started=()
errf=$(mktemp)
cleanup() {
  local c
  for c in "${started[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  rm -f "$errf"
}
trap cleanup EXIT

# wait_http URL SECONDS: until URL answers 200; prints the body
wait_http() {
  local url=$1 limit=$2 start=$SECONDS
  while ((SECONDS - start < limit)); do
    if curl -fsS --max-time 3 "$url" 2>/dev/null; then return 0; fi
    sleep 1
  done
  return 1
}

# healthcheck NAME: the image's HEALTHCHECK command, run by podman, must pass
healthcheck() {
  # podman runs the periodic checks with systemd timers; without systemd it says so on
  # stderr, and `podman healthcheck run` still runs the command once
  if podman healthcheck run "$1" 2>/dev/null; then
    echo "image-smoke: $1: HEALTHCHECK passes ($(podman inspect --format '{{.State.Health.Status}}' "$1"))"
  else
    podman logs "$1" 2>&1 | tail -20 >&2
    die "$1: the HEALTHCHECK command fails"
  fi
}

smoke_serve() {
  local name=golem-serve-smoke key h out
  podman rm -f "$name" >/dev/null 2>&1 || true
  key=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # the README's docker options, as podman spells them: bubblewrap makes the workers'
  # namespaces inside the container
  podman run -d --name "$name" "${run_args[@]}" -p "127.0.0.1:$SERVE_PORT:8080" \
    --security-opt seccomp=unconfined --security-opt unmask=ALL \
    -e GOLEM_API_KEYS="$key" golem-serve >/dev/null 2>"$errf" || die "podman run golem-serve failed: $(tail -3 "$errf")"
  started+=("$name")
  out=$(wait_http "http://127.0.0.1:$SERVE_PORT/_/health" 60) || {
    podman logs "$name" 2>&1 | tail -20 >&2
    die "golem-serve: GET /_/health did not answer 200 in 60s"
  }
  echo "image-smoke: golem-serve: GET /_/health 200 $out"
  healthcheck "$name"
  h="Authorization: Bearer $key"
  curl -fsS -X PUT -H "$h" -H 'Content-Type: application/json' -o /dev/null \
    -d '{"source": "package p\nfunc Handle(n int) int { return n * 2 }", "limits": {"timeout_ms": 10000}}' \
    "http://127.0.0.1:$SERVE_PORT/functions/double" || die "golem-serve: deploying a function failed"
  out=$(curl -fsS -H "$h" -d 21 "http://127.0.0.1:$SERVE_PORT/functions/double") || {
    podman logs "$name" 2>&1 | tail -20 >&2
    die "golem-serve: calling the deployed function failed"
  }
  [ "$out" = 42 ] || die "golem-serve: double(21) returned '$out', not 42"
  echo "image-smoke: golem-serve: a deployed function ran in the sandbox: double(21) = $out"
  podman rm -f "$name" >/dev/null 2>&1
}

smoke_lab() {
  local name=golem-lab-smoke token out start
  podman rm -f "$name" >/dev/null 2>&1 || true
  token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  podman run -d --name "$name" "${run_args[@]}" -p "127.0.0.1:$LAB_PORT:8888" \
    -e JUPYTER_TOKEN="$token" golem-lab >/dev/null 2>"$errf" || die "podman run golem-lab failed: $(tail -3 "$errf")"
  started+=("$name")
  out=$(wait_http "http://127.0.0.1:$LAB_PORT/api" 90) || {
    podman logs "$name" 2>&1 | tail -20 >&2
    die "golem-lab: GET /api did not answer 200 in 90s"
  }
  echo "image-smoke: golem-lab: GET /api 200 $out"
  out=$(curl -fsS -H "Authorization: token $token" "http://127.0.0.1:$LAB_PORT/api/kernelspecs") ||
    die "golem-lab: GET /api/kernelspecs failed"
  grep -q '"golem"' <<<"$out" || die "golem-lab: the golem kernelspec is not listed: $out"
  echo "image-smoke: golem-lab: /api/kernelspecs lists golem"
  healthcheck "$name"
  if [ "${SKIP_NOTEBOOK:-}" != 1 ]; then
    echo "image-smoke: golem-lab: papermill -k golem quickstart.ipynb inside the container"
    start=$SECONDS
    podman exec -w /home/jovyan/work/golem-notebooks "$name" \
      papermill -k golem quickstart.ipynb /tmp/quickstart-out.ipynb --log-output >/tmp/golem-lab-smoke-papermill.log 2>&1 || {
      tail -30 /tmp/golem-lab-smoke-papermill.log >&2
      die "golem-lab: the quick-start notebook failed under papermill (log: /tmp/golem-lab-smoke-papermill.log)"
    }
    out=$(podman exec "$name" python -c '
import json
nb = json.load(open("/tmp/quickstart-out.ipynb"))
text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream")
print("\n".join("    " + l for l in text.splitlines() if l.startswith(("validation loss", "sample:", "checkpoint:"))))')
    echo "image-smoke: golem-lab: the quick-start ran in $((SECONDS - start))s:"
    echo "$out"
    grep -q '^ *checkpoint: ' <<<"$out" || die "golem-lab: the quick-start printed no checkpoint"
  fi
  podman rm -f "$name" >/dev/null 2>&1
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(serve lab)
for t in "${targets[@]}"; do
  case "$t" in
    serve) smoke_serve ;;
    lab) smoke_lab ;;
    *) die "unknown image '$t' (serve or lab)" ;;
  esac
done
echo "image-smoke: ok (${targets[*]})"
