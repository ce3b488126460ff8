// Command hikube-apiserver serves the apps.hikube.io API group behind the
// Kubernetes aggregation layer.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	cmd := NewCommand(ctx, NewOptions(os.Stdout, os.Stderr))
	os.Exit(cli.Run(cmd))
}
