// Command images builds hikube's container images without a Docker daemon:
// for each binary, a static Go build (CGO_ENABLED=0, -trimpath, version
// stamped by the linker) in a single layer on an empty base, run as the
// non-root user 65532, with the OCI labels of its version, revision and
// source; written as an OCI image-layout archive (<output>/<binary>.oci.tar,
// loadable with `skopeo copy oci-archive:…`, `ctr image import`, `crane
// push`). Timestamps are fixed (the commit's time), so the same commit gives
// the same digest on any machine with the same Go.
//
//	go run ./hack/images --output _output/images --version v0.1.0 --revision $(git rev-parse HEAD)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/hikube/hikube/pkg/version"
)

func main() {
	var o Options
	var binaries string
	var epoch int64
	flag.StringVar(&o.Output, "output", "_output/images", "Directory of the OCI archives.")
	flag.StringVar(&binaries, "binaries", strings.Join(Binaries, ","), "Binaries to build images of (comma-separated, commands under ./cmd).")
	flag.StringVar(&o.Registry, "registry", DefaultRegistry, "Registry and path the image references name.")
	flag.StringVar(&o.Version, "version", version.Default, "Version stamped into the binaries, the image tag and label.")
	flag.StringVar(&o.Revision, "revision", "", "Git commit stamped into the binaries and the revision label.")
	flag.StringVar(&o.Source, "source", DefaultSource, "The source label: where the code lives.")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "Target architecture (linux/<arch>).")
	flag.Int64Var(&epoch, "source-date-epoch", 0, "Timestamp of the image and its files, in seconds since 1970 (SOURCE_DATE_EPOCH; the commit's time keeps builds reproducible).")
	flag.Parse()
	o.Created = time.Unix(epoch, 0).UTC()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	for _, b := range strings.Split(binaries, ",") {
		res, err := Build(ctx, o, b)
		if err != nil {
			fmt.Fprintln(os.Stderr, "images:", err)
			os.Exit(1)
		}
		fmt.Printf("%s %s %s\n", res.Archive, res.Reference, res.Digest)
	}
}
