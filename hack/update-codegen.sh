#!/usr/bin/env bash
# Regenerates everything under pkg/generated and the zz_generated files of
# apis/ with k8s.io/code-generator's kube_codegen.sh. Never edit their output.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_ROOT=${OUT_ROOT:-${ROOT}}   # verify-codegen.sh generates into a copy
cd "${OUT_ROOT}"

CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
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
