#!/usr/bin/env bash
# Builds mailpit (the SMTP server the email tests send to) from the Go module
# proxy at hack/tools/mailpit's version, once, and prints the binary's path.
# One time: ~4.5 min on 2 cores (modernc.org/sqlite is most of it); cached by
# version next to install.sh's tools. Its own lock: it shares no output with
# install.sh, whose lock a long Kubernetes or Argo CD build may hold.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SYNCREPORT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/syncreport/tools}
built=$cache/bin
mkdir -p "$built"
VERSION=$(cd "$here/mailpit" && go list -m -f '{{.Version}}' github.com/axllent/mailpit)
out=$built/mailpit-$VERSION
if [ ! -x "$out" ]; then
  exec 9>"$cache/.mailpit.lock"
  flock 9
  if [ ! -x "$out" ]; then
    echo "building mailpit $VERSION (one time)..." >&2
    (cd "$here/mailpit" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" github.com/axllent/mailpit) >&2
    mv "$out.tmp" "$out"
  fi
fi
echo "$out"
