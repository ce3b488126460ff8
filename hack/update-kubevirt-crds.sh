#!/usr/bin/env bash
# Regenerates artifacts/kubevirt/crds: the CustomResourceDefinitions of the
# KubeVirt and CDI kinds hikube writes in a host cluster (VirtualMachine,
# VirtualMachineInstance, VirtualMachineClusterInstancetype,
# VirtualMachineClusterPreference, DataVolume). controller-gen
# (sigs.k8s.io/controller-tools, pinned in hack/tools/kubevirt-crds) reads the
# pinned kubevirt.io API modules; hack/tools/kubevirt-crds then adds what the
# Go types carry no markers for. Never edit the output by hand.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${KUBEVIRT_CRDS_OUT:-${ROOT}/artifacts/kubevirt/crds}   # verify writes to a scratch dir
MOD="${ROOT}/hack/tools/kubevirt-crds"

tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

cd "${MOD}"
go build -o "${tmp}/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen
"${tmp}/controller-gen" crd:allowDangerousTypes=true \
  paths=kubevirt.io/api/core/v1 \
  paths=kubevirt.io/api/instancetype/v1beta1 \
  paths=kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1 \
  output:crd:dir="${tmp}/raw"
rm -rf "${OUT}"
go run . -in "${tmp}/raw" -out "${OUT}"
