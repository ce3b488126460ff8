// Package artifacts embeds what ships beside the binaries, so that the local
// platform and the tests use exactly the files an operator installs.
package artifacts

import "embed"

// FS holds the files under their repository paths. charts/hikube is the
// install chart (the namespace, RBAC, hikube-apiserver, hikube-controller,
// etcd and the APIService; the local platform applies its RBAC); kubevirt/
// has the KubeVirt and CDI CRDs and the catalog's cluster instancetypes
// (both generated). "all:" keeps the chart's _helpers.tpl.
//
//go:embed all:charts/hikube kubevirt/crds/*.yaml kubevirt/instancetypes.yaml
var FS embed.FS

// ChartDir is the install chart's directory in FS.
const ChartDir = "charts/hikube"
