#!/usr/bin/env bash
# Builds actionlint (the linter `make lint` runs on .github/workflows) from the
# Go module proxy at hack/tools/actionlint's version, once, and prints the
# binary's path. One time: 35 s of CPU, 33-62 s wall on 2 cores from an empty
# module and build cache (BENCHMARKS.md); cached by
# version next to install.sh's tools. Its own lock, like install-mailpit.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SYNCREPORT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/syncreport/tools}
built=$cache/bin
mkdir -p "$built"
VERSION=$(cd "$here/actionlint" && go list -m -f '{{.Version}}' github.com/rhysd/actionlint)
out=$built/actionlint-$VERSION
if [ ! -x "$out" ]; then
  exec 9>"$cache/.actionlint.lock"
  flock 9
  if [ ! -x "$out" ]; then
    echo "building actionlint $VERSION (one time)..." >&2
    (cd "$here/actionlint" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/rhysd/actionlint.version=$VERSION" -o "$out.tmp" github.com/rhysd/actionlint/cmd/actionlint) >&2
    mv "$out.tmp" "$out"
  fi
fi
echo "$out"
