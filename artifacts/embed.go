// Package artifacts embeds the shipped manifests, so that the local platform
// and the installer apply exactly the files that ship.
package artifacts

import "embed"

// FS holds the manifests under their repository paths ("deploy/rbac-tenants.yaml").
// deploy/ has the namespace, RBAC, the production Deployment and Service of
// hikube-apiserver and its APIService; kubevirt/ the KubeVirt and CDI CRDs
// and the catalog's cluster instancetypes (both generated).
//
//go:embed deploy/*.yaml kubevirt/crds/*.yaml kubevirt/instancetypes.yaml
var FS embed.FS
