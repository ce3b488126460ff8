#!/usr/bin/env bash
# Regenerates everything under pkg/generated and the zz_generated files of
# apis/ with k8s.io/code-generator's kube_codegen.sh. Never edit their output.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_ROOT=${OUT_ROOT:-${ROOT}}   # verify-codegen.sh generates into a copy
cd "${OUT_ROOT}"

# `go list -m` names a module's directory only once it is in the module cache
# and never downloads it, so download first: on a fresh machine (or an empty
# GOMODCACHE) the directory would otherwise be empty.
module_dir() {
  local dir
  go mod download "$1"
  dir=$(go list -m -f '{{.Dir}}' "$1")
  if [[ -z "${dir}" || ! -d "${dir}" ]]; then
    echo "update-codegen: module $1 is not in the module cache after 'go mod download $1'" >&2
    exit 1
  fi
  echo "${dir}"
}

CODEGEN_PKG=$(module_dir k8s.io/code-generator)
if [[ ! -f "${CODEGEN_PKG}/kube_codegen.sh" ]]; then
  echo "update-codegen: ${CODEGEN_PKG}/kube_codegen.sh not found" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

THIS_PKG=github.com/hikube/hikube
BOILERPLATE="${OUT_ROOT}/hack/boilerplate.go.txt"

kube::codegen::gen_helpers --boilerplate "${BOILERPLATE}" "${OUT_ROOT}/apis"

kube::codegen::gen_openapi \
  --output-dir "${OUT_ROOT}/pkg/generated/openapi" \
  --output-pkg "${THIS_PKG}/pkg/generated/openapi" \
  --output-model-name-file zz_generated.model_name.go \
  --report-filename "${OUT_ROOT}/hack/api-violations.list" \
  --update-report \
  --boilerplate "${BOILERPLATE}" \
  "${OUT_ROOT}/apis"

kube::codegen::gen_client \
  --with-watch \
  --with-applyconfig \
  --applyconfig-openapi-schema <(go run ./hack/models-schema) \
  --output-dir "${OUT_ROOT}/pkg/generated" \
  --output-pkg "${THIS_PKG}/pkg/generated" \
  --boilerplate "${BOILERPLATE}" \
  "${OUT_ROOT}/apis"
