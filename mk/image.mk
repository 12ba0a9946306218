# image: golem's container images (the top-level Dockerfile) built and checked with
# buildah and podman, no docker engine needed: the base images when local storage lacks
# them (scripts/image-bases.sh: debootstrap and this machine's Go toolchain), both
# targets (scripts/image-build.sh), then the smoke checks (scripts/image-smoke.sh:
# health, HEALTHCHECKs, a deployed function, JupyterLab's API and kernelspec, the
# quick-start under papermill in the lab image). Needs root, buildah, podman, runc or
# crun, debootstrap; from empty storage it took under 7 minutes on 2 cores (README
# "Container images"). Not part of `make test` or .ci/run.
.PHONY: image image-bases image-build image-smoke
image: image-bases image-build image-smoke
image-bases:
	scripts/image-bases.sh
image-build: image-bases
	scripts/image-build.sh
image-smoke:
	scripts/image-smoke.sh
