//go:build tools

// Package tools pins controller-gen and the API packages it reads.
package tools

import (
	_ "kubevirt.io/api/core/v1"
	_ "kubevirt.io/api/instancetype/v1beta1"
	_ "kubevirt.io/containerized-data-importer-api/pkg/apis/core/v1beta1"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
