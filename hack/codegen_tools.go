//go:build tools

// Package hack pins the code generators that hack/update-codegen.sh runs, so
// that go.mod records their versions.
package hack

import (
	_ "k8s.io/code-generator"
	_ "k8s.io/kube-openapi/cmd/openapi-gen"
)
