#!/usr/bin/env bash
# Runs hack/verify-codegen.sh against an empty module cache, as a fresh
# machine (or CI on one) would: anything the generators read must be fetched
# by our own scripts, not found because an earlier run left it in the cache.
# Only the generators' modules are downloaded; the build cache is shared, so
# a warm machine compiles nothing new.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

cache=$(mktemp -d)
cleanup() {
  # Module cache files are read-only unless -modcacherw was set; clean
  # through go so the removal works either way.
  GOMODCACHE="${cache}" go clean -modcache >/dev/null 2>&1 || true
  rm -rf "${cache}"
}
trap cleanup EXIT

export GOMODCACHE="${cache}"
export GOFLAGS="$(go env GOFLAGS) -modcacherw"
echo "verify-codegen-fresh: generating with an empty module cache (${cache})" >&2
"${ROOT}/hack/verify-codegen.sh"
