// Command kubectl-hikube is the kubectl plugin of Hikube: `kubectl hikube ...`.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/hikube/hikube/plugin/cmd"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cmd.Execute(cmd.NewRootCmd(streams), streams))
}
