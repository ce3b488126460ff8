#!/usr/bin/env bash
# Regenerates everything under pkg/generated, the zz_generated files of apis/
# (k8s.io/code-generator's kube_codegen.sh) and the protobuf marshalling of
# the versioned types, generated.proto and generated.pb.go (go-to-protobuf).
# Never edit their output.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_ROOT=${OUT_ROOT:-${ROOT}}   # verify-codegen.sh generates into a copy
cd "${OUT_ROOT}"

# `go list -m` names a module's directory only once it is in the module cache
# and never downloads it, so download first: on a fresh machine (or an empty
# GOMODCACHE) the directory would otherwise be empty.
# module_dir <module> [<go module directory to resolve it in>]
module_dir() {
  local dir
  dir=$(cd "${2:-.}" && go mod download "$1" && go list -m -f '{{.Dir}}' "$1")
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

# Protobuf first: go-to-protobuf rewrites the protobuf struct tags of
# types.go, which the other generators read. It runs protoc, protoc-gen-gogo
# and goimports from PATH; hack/build-tools.sh builds all four from the
# module hack/tools/protoc (protoc is our protocompile-based stand-in, so a
# fresh machine needs no system package).
"${ROOT}/hack/build-tools.sh" protobuf
PATH="${ROOT}/_output/bin/codegen:${PATH}"
# go-to-protobuf names packages by import path: it finds the .proto files
# and writes its output under --output-dir/<import path>, so it gets a
# GOPATH-like tree of links to this module and to the modules whose
# generated.proto ours imports (apimachinery's, and gogo.proto that the
# intermediate IDL imports; gogo from the tool module that pins it).
PROTO_ROOT=$(mktemp -d)
trap 'rm -rf "${PROTO_ROOT}"' EXIT
mkdir -p "${PROTO_ROOT}/github.com/hikube" "${PROTO_ROOT}/k8s.io" "${PROTO_ROOT}/github.com/gogo"
ln -s "${OUT_ROOT}" "${PROTO_ROOT}/github.com/hikube/hikube"
ln -s "$(module_dir k8s.io/apimachinery)" "${PROTO_ROOT}/k8s.io/apimachinery"
ln -s "$(module_dir github.com/gogo/protobuf "${ROOT}/hack/tools/protoc")" "${PROTO_ROOT}/github.com/gogo/protobuf"
# The apimachinery packages are listed with "-": their messages are
# imported, never regenerated.
go-to-protobuf \
  --go-header-file "${BOILERPLATE}" \
  --output-dir "${PROTO_ROOT}" \
  --proto-import "${PROTO_ROOT}" \
  --apimachinery-packages "-k8s.io/apimachinery/pkg/util/intstr,-k8s.io/apimachinery/pkg/api/resource,-k8s.io/apimachinery/pkg/runtime/schema,-k8s.io/apimachinery/pkg/runtime,-k8s.io/apimachinery/pkg/apis/meta/v1" \
  --packages "${THIS_PKG}/apis/apps/v1alpha1"

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
  --prefers-protobuf \
  --with-applyconfig \
  --applyconfig-openapi-schema <(go run ./hack/models-schema) \
  --output-dir "${OUT_ROOT}/pkg/generated" \
  --output-pkg "${THIS_PKG}/pkg/generated" \
  --boilerplate "${BOILERPLATE}" \
  "${OUT_ROOT}/apis"
