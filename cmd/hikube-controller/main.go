// Command hikube-controller reconciles clusters.apps.hikube.io: it
// provisions control planes, worker nodes and add-ons through a provider.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
)

func main() {
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(NewCommand(ctx, NewOptions())))
}
