#!/usr/bin/env bash
# Fails when artifacts/kubevirt/crds is not what hack/update-kubevirt-crds.sh
# generates from the pinned modules.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

KUBEVIRT_CRDS_OUT="${tmp}/crds" "${ROOT}/hack/update-kubevirt-crds.sh"
if ! diff -Nqr "${ROOT}/artifacts/kubevirt/crds" "${tmp}/crds" >/dev/null; then
  echo "verify-kubevirt-crds: artifacts/kubevirt/crds is out of date; run hack/update-kubevirt-crds.sh" >&2
  diff -Nur "${ROOT}/artifacts/kubevirt/crds" "${tmp}/crds" | head -40 >&2 || true
  exit 1
fi
