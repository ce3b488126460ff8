// Command kubevirt-instancetypes writes artifacts/kubevirt/instancetypes.yaml:
// the VirtualMachineClusterInstancetypes of every instance type of the
// catalog, rendered by pkg/provider/kubevirt. A unit test there fails when
// the shipped file differs from what this prints.
//
//	go run ./hack/kubevirt-instancetypes > artifacts/kubevirt/instancetypes.yaml
package main

import (
	"fmt"
	"os"

	"github.com/hikube/hikube/pkg/provider/kubevirt"
)

func main() {
	out, err := kubevirt.InstancetypesManifest()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubevirt-instancetypes:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
