// Module protoc builds the protobuf tool chain hack/update-codegen.sh runs:
// protoc (a protoc-compatible command of this module, on
// github.com/bufbuild/protocompile, so no system protoc is needed),
// go-to-protobuf and protoc-gen-gogo (k8s.io/code-generator, the version the
// main go.mod pins) and goimports. Separate from hack/tools so that changing
// it does not rebuild kube-apiserver.
module github.com/hikube/hikube/hack/tools/protoc

go 1.26.0

require (
	github.com/bufbuild/protocompile v0.14.1
	golang.org/x/tools v0.51.0
	google.golang.org/protobuf v1.36.12-0.20260120151049-f2248ac996af
	k8s.io/code-generator v0.37.2
)

require (
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/telemetry v0.0.0-20260924152758-ed294f943157 // indirect
	k8s.io/gengo/v2 v2.0.0-20260408192533-25e2208e0dc3 // indirect
	k8s.io/klog/v2 v2.140.0 // indirect
)
