# The hook image: a static binary on distroless, running as 65532.
#
#   docker build --build-arg VERSION="$(cat VERSION)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg BUILD_DATE="$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)" \
#     -t ghcr.io/syncreport/syncreport:"$(cat VERSION)" .
#
# Every base is pinned by exact tag and digest (the digest wins; the tag says
# what it is). Refresh both together, e.g. with
# `docker buildx imagetools inspect golang:1.26.8-bookworm`.
# test/ship checks the pins and builds the binary with this file's own
# `go build` line to prove it is static.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
# Modules first: this layer is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# Set by BuildKit for --platform builds; empty means the build machine's.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
ARG BUILD_DATE=unknown
# -buildvcs=false: .git is not in the build context (.dockerignore); the
# commit and its date come as build arguments (`hook version` prints them,
# "unknown" when not given) and the commit goes into the image label too.
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${REVISION} -X main.date=${BUILD_DATE}" -o /hook ./cmd/hook

FROM gcr.io/distroless/static-debian12:nonroot@sha256:b7bb25d9f7c31d2bdd1982feb4dafcaf137703c7075dbe2febb41c24212b946f
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.source="https://github.com/syncreport/syncreport" \
      org.opencontainers.image.title="syncreport" \
      org.opencontainers.image.description="Argo CD resource hook that reports a sync to Slack" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /hook /hook
USER 65532:65532
ENTRYPOINT ["/hook"]
