// Package artifacts embeds the shipped manifests, so that the local platform
// and the installer apply exactly the files that ship.
package artifacts

import "embed"

// FS holds the manifests under their repository paths ("deploy/rbac-tenants.yaml").
// deploy/ has the namespace, RBAC, the production Deployment and Service of
// hikube-apiserver and its APIService. To embed examples/ too, extend the
// pattern once that directory has files (embed refuses a pattern that matches
// nothing).
//
//go:embed deploy/*.yaml
var FS embed.FS
