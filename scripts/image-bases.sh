#!/usr/bin/env bash
# Makes the Dockerfile's base images locally, with buildah, for machines that reach
# the Debian archive but not a container registry:
#
#   debian:$DEBIAN-slim         a debootstrap --variant=minbase root of Debian $DEBIAN,
#                               trimmed as the slim images are (no docs, man pages, locales),
#                               plus this machine's extra certificate authorities, if any
#   golang:$GO_VERSION-$DEBIAN  that root plus what the official golang image adds: gcc, g++,
#                               make, pkg-config, git, curl, and the Go toolchain copied from
#                               $GOROOT_SRC, with GOPATH=/go and PATH=/go/bin:/usr/local/go/bin:...
#
# An image that already exists is kept (FORCE=1 remakes both). The images land in the
# local containers storage that buildah and podman share; `buildah bud --pull=never`
# then finds them by the Dockerfile's FROM names.
#
# Environment: DEBIAN (bookworm), GO_VERSION (1.26), GOROOT_SRC (/usr/local/go; its
# VERSION must be go$GO_VERSION.x), DEBIAN_MIRROR (default: the first Debian archive
# URI in this machine's apt sources), EXTRA_CA_DIR (the *.crt files copied in; default
# /usr/local/share/ca-certificates, empty for none), OCI_RUNTIME (default: buildah's, or runc on a
# cgroup v1/v2 hybrid host), FORCE=1. Needs root, buildah and debootstrap.
set -euo pipefail

DEBIAN=${DEBIAN:-bookworm}
GO_VERSION=${GO_VERSION:-1.26}
GOROOT_SRC=${GOROOT_SRC:-/usr/local/go}
slim=debian:$DEBIAN-slim
golang=golang:$GO_VERSION-$DEBIAN

die() { echo "image-bases: $*" >&2; exit 1; }
have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }
# crun refuses cgroup v1/v2 hybrid hosts ("cgroups in hybrid mode not supported"); runc runs there.
runtime=${OCI_RUNTIME:-}
if [ -z "$runtime" ] && [ -d /sys/fs/cgroup/unified ] && command -v runc >/dev/null; then runtime=runc; fi

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and buildah mount need it)"
for t in buildah debootstrap; do
  command -v "$t" >/dev/null || die "$t is not installed (apt-get install buildah debootstrap)"
done

# The mirror: this machine's configured Debian archive (deb822 or one-line sources).
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
fi
[ -n "$mirror" ] || die "no Debian archive found in /etc/apt/sources*; set DEBIAN_MIRROR"

extra_ca_dir=${EXTRA_CA_DIR-/usr/local/share/ca-certificates}
extra_cas=()
if [ -n "$extra_ca_dir" ] && [ -d "$extra_ca_dir" ]; then
  while IFS= read -r -d '' f; do extra_cas+=("$f"); done < <(find "$extra_ca_dir" -maxdepth 1 -name '*.crt' -print0)
fi

if [ "${FORCE:-}" = 1 ]; then
  for img in "$golang" "$slim"; do
    if have_image "$img"; then buildah rmi "$img" >/dev/null; fi
  done
fi

work=$(mktemp -d /var/tmp/golem-image-bases.XXXXXX)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- debian:$DEBIAN-slim
if have_image "$slim"; then
  echo "image-bases: $slim exists"
else
  echo "image-bases: debootstrap $DEBIAN (minbase) from $mirror"
  start=$SECONDS
  root=$work/rootfs
  debootstrap --variant=minbase "$DEBIAN" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # apt sources: the suite, its updates and security, from the same archive (a copy of
  # this machine's Debian sources when it runs the same release).
  rm -f "$root/etc/apt/sources.list"
  if [ -f /etc/apt/sources.list.d/debian.sources ] &&
    grep -q "^Suites:.*\b$DEBIAN\b" /etc/apt/sources.list.d/debian.sources; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
  else
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $DEBIAN $DEBIAN-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian*}/debian-security
Suites: $DEBIAN-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # slim: what the slim images leave out, and apt's caches cleaned after each install
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,groff,lintian,linda}/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # This machine's own certificate authorities (a TLS-inspecting proxy's, say): without
  # them the build's RUN steps cannot reach the Go module proxy, npm or PyPI from here.
  # update-ca-certificates adds them to the bundle when ca-certificates is installed, and
  # pip (whose own bundle lacks them) is pointed at the system bundle.
  if [ ${#extra_cas[@]} -gt 0 ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "${extra_cas[@]}" "$root/usr/local/share/ca-certificates/"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
  fi
  : >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  rm -f "$root/etc/machine-id" && : >"$root/etc/machine-id"

  c=$(buildah from scratch)
  containers+=("$c")
  mnt=$(buildah mount "$c")
  tar -C "$root" -cf - . | tar -C "$mnt" -xpf - --numeric-owner
  buildah umount "$c" >/dev/null
  buildah config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --os linux --arch amd64 --label "org.golem.base=debootstrap --variant=minbase $DEBIAN" \
    --label "org.golem.extra-cas=${#extra_cas[@]}" "$c"
  buildah commit -q --rm "$c" "localhost/$slim" >/dev/null
  containers=()
  echo "image-bases: $slim made in $((SECONDS - start))s"
fi

# ---- golang:$GO_VERSION-$DEBIAN
if have_image "$golang"; then
  echo "image-bases: $golang exists"
else
  [ -x "$GOROOT_SRC/bin/go" ] || die "no Go toolchain at GOROOT_SRC=$GOROOT_SRC"
  gov=$(head -1 "$GOROOT_SRC/VERSION")
  case "$gov" in
    "go$GO_VERSION" | "go$GO_VERSION".*) ;;
    *) die "$GOROOT_SRC holds $gov, not go$GO_VERSION.x (set GOROOT_SRC or GO_VERSION)" ;;
  esac
  echo "image-bases: $golang from $slim, build tools from the Debian archive, $gov from $GOROOT_SRC"
  start=$SECONDS
  c=$(buildah from --pull=never "$slim")
  containers+=("$c")
  # what buildpack-deps:$DEBIAN-scm and the golang image install (less mercurial/subversion)
  buildah run ${runtime:+--runtime "$runtime"} --network host "$c" -- sh -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates curl netbase wget gnupg git openssh-client procps \
      g++ gcc libc6-dev make pkg-config >/dev/null && rm -rf /var/lib/apt/lists/*'
  mnt=$(buildah mount "$c")
  mkdir -p "$mnt/usr/local/go" "$mnt/go/src" "$mnt/go/bin"
  tar -C "$GOROOT_SRC" -cf - . | tar -C "$mnt/usr/local/go" -xf - --no-same-owner
  chmod 1777 "$mnt/go"
  buildah umount "$c" >/dev/null
  buildah config --env GOLANG_VERSION="${gov#go}" --env GOTOOLCHAIN=local --env GOPATH=/go \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --workingdir /go --cmd bash --label "org.golem.base=$slim + $gov" "$c"
  buildah commit -q --rm "$c" "localhost/$golang" >/dev/null
  containers=()
  echo "image-bases: $golang made in $((SECONDS - start))s"
fi
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "/(debian:$DEBIAN-slim|golang:$GO_VERSION-$DEBIAN) " || true
