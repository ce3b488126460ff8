// Package version is the version of hikube's binaries, stamped at build time
// by the linker (make images: -X .../pkg/version.Version=... -X
// .../pkg/version.Revision=...).
package version

// Version is the release, a semantic version; Default until stamped.
var Version = Default

// Revision is the git commit the binary was built from; empty until stamped.
var Revision = ""

// Default is the version of this tree, what an unstamped build (go build,
// make build, make images without a v* tag on HEAD) says: the chart's
// appVersion, so that the chart's defaults run the images make images
// writes (hack/images tests it).
const Default = "v0.1.0"

// String is the version and, when known, the revision: "v0.1.0 (3f2a1c9…)".
func String() string {
	if Revision == "" {
		return Version
	}
	return Version + " (" + Revision + ")"
}
