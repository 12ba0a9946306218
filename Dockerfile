# golem's images, following the Jupyter docker-stacks conventions.
#
#   docker build --target lab   -t golem-lab .     JupyterLab with the golem kernel (port 8888)
#   docker build --target serve -t golem-serve .   the function host, golem serve (port 8080)
#
# The install steps live in scripts/image-install.sh, which tests/test_image_install.py
# runs outside any container, so `make test` tests them without building an image;
# `make image` builds both images with buildah and checks them with podman (mk/image.mk).

ARG GO_VERSION=1.26
ARG DEBIAN=bookworm

# ---- build: the golem binary (cgo, OpenBLAS) and what the notebooks read at run time
FROM golang:${GO_VERSION}-${DEBIAN} AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libopenblas-dev pkg-config npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-X github.com/golem-lm/golem/internal/version.Version=0.1.0" -o /out/golem ./cmd/golem \
 && make assets \
 && mkdir -p /out/golem-root/build && cp -r build/npm /out/golem-root/build/ && cp go.mod /out/golem-root/

# ---- lab: JupyterLab + the golem kernel, as docker-stacks' images (jovyan, NB_UID, /home/jovyan/work)
FROM debian:${DEBIAN}-slim AS lab
ARG NB_USER=jovyan
ARG NB_UID=1000
ARG NB_GID=100
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# The Go toolchain and the module holding Tom Sawyer: data.Shipped finds the texts that
# ship with the tools through them (the Go standard library is also the code corpus).
# GOPROXY=off: nothing is downloaded at run time. GOSUMDB=off: go mod download checks a
# module missing from a go.sum against the checksum database, which GOPROXY=off makes
# unreachable ("module lookup disabled"); the build stage checked it when it downloaded it.
COPY --from=build /usr/local/go /usr/local/go
COPY --from=build /go/pkg/mod/cache/download/github.com/klauspost /go/pkg/mod/cache/download/github.com/klauspost
COPY --from=build /go/pkg/mod/github.com/klauspost /go/pkg/mod/github.com/klauspost
COPY --from=build /out/golem-root /opt/golem
ENV PATH=/opt/venv/bin:/usr/local/go/bin:$PATH GOPATH=/go GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOLEM_ROOT=/opt/golem \
    NB_USER=${NB_USER} NB_UID=${NB_UID} NB_GID=${NB_GID} HOME=/home/${NB_USER} SHELL=/bin/bash
WORKDIR /tmp/golem
COPY --from=build /out/golem bin/golem
COPY scripts/image-install.sh scripts/
COPY requirements-image.txt constraints.txt ./
COPY kernel/papermill kernel/papermill
COPY notebooks notebooks
RUN scripts/image-install.sh lab && chmod -R a+rX /go && rm -rf /tmp/golem
USER ${NB_UID}
WORKDIR /home/${NB_USER}/work
EXPOSE 8888
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/opt/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"]
ENTRYPOINT ["tini", "-g", "--"]
CMD ["start-notebook.sh"]

# ---- serve: the function host
FROM debian:${DEBIAN}-slim AS serve
ARG NB_UID=1000
ARG NB_GID=100
WORKDIR /tmp/golem
COPY --from=build /out/golem bin/golem
COPY scripts/image-install.sh scripts/
RUN NB_UID=${NB_UID} NB_GID=${NB_GID} scripts/image-install.sh serve && rm -rf /tmp/golem
USER ${NB_UID}
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /_/health HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["golem", "serve", "--addr", ":8080", "--data", "/data"]
