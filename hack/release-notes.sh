#!/usr/bin/env bash
# Prints the release notes of a version: its section of CHANGELOG.md, without
# the heading. The release workflow writes them into the GitHub release.
#
#   hack/release-notes.sh v0.1.0 [--allow-unreleased]
#
# Fails when the section is missing or empty, or when its heading still says
# "Unreleased" (a tag must come with a dated section); --allow-unreleased is
# for snapshot builds and the tests.
set -euo pipefail
tag=${1:?usage: release-notes.sh vX.Y.Z [--allow-unreleased]}
allow=${2:-}
v=${tag#v}
changelog=$(cd "$(dirname "$0")/.." && pwd)/CHANGELOG.md
heading=$(grep -m1 -E "^## \[${v//./\\.}\]" "$changelog" || true)
if [ -z "$heading" ]; then
  echo "release-notes: CHANGELOG.md has no section \"## [$v]\"" >&2
  exit 1
fi
if ! [[ $heading =~ ^"## [$v] - "[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] && [ "$allow" != --allow-unreleased ]; then
  echo "release-notes: CHANGELOG.md heading \"$heading\" has no release date (want \"## [$v] - YYYY-MM-DD\")" >&2
  exit 1
fi
# The lines after the heading up to the next version heading or link list.
notes=$(awk -v h="$heading" '$0 == h {on = 1; next} on && /^## \[|^\[[^]]+\]: / {exit} on {print}' "$changelog" |
  sed -e '/./,$!d')
if [ -z "${notes//[[:space:]]/}" ]; then
  echo "release-notes: CHANGELOG.md section \"$heading\" is empty" >&2
  exit 1
fi
printf '%s\n' "$notes"
