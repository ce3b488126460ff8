#!/usr/bin/env bash
# Fails when the generated code is not what hack/update-codegen.sh produces
# from the current sources: it regenerates into a scratch copy and diffs.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT

# Copy the module sources (not _output or .git) and generate there.
tar -C "${ROOT}" --exclude=./_output --exclude=./.git -cf - . | tar -C "${TMP}" -xf -
OUT_ROOT="${TMP}" "${ROOT}/hack/update-codegen.sh" >/dev/null

status=0
for dir in apis pkg/generated hack/api-violations.list; do
  if ! diff -Nqr "${ROOT}/${dir}" "${TMP}/${dir}" >/dev/null; then
    echo "verify-codegen: ${dir} is out of date; run hack/update-codegen.sh" >&2
    diff -Nur "${ROOT}/${dir}" "${TMP}/${dir}" | head -40 >&2 || true
    status=1
  fi
done
exit "${status}"
