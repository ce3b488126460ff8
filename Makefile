# hikube: `make run` starts the platform locally, `make test` runs every test.
GO       ?= go
BIN      := _output/bin
# Upstream binaries the platform and the tests run (built by hack/build-tools.sh).
TOOLS    := etcd kube-apiserver kube-controller-manager kube-scheduler kubectl v1.37 v1.36 kwok
# Our binaries.
CMDS     := hikube-apiserver
# What make images stamps: the version (a v* tag on HEAD, else pkg/version's default), the commit, and its
# time as every timestamp of the image (the same commit gives the same digest).
VERSION           ?= $(shell git describe --tags --match 'v*' --exact-match 2>/dev/null)
REVISION          ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: soak fuzz chaos test-chaos all build images tools run test test-unit test-integration test-e2e test-plugin test-kubevirt verify verify-gofmt vet verify-codegen verify-codegen-fresh verify-kubevirt-crds codegen bench plugin-session clean

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/hikube-apiserver ./cmd/hikube-apiserver
	$(GO) build -o $(BIN)/hikube-controller ./cmd/hikube-controller
	$(GO) build -o $(BIN)/hikube-local ./hack/run
	$(GO) build -o $(BIN)/kubectl-hikube ./plugin/kubectl-hikube
	install -m 0755 plugin/kubectl_complete-hikube $(BIN)/kubectl_complete-hikube
	@# The KubeVirt stand-in of the local kubevirt mode (simulation, docs/kubevirt-provider.md).
	$(GO) build -o $(BIN)/hikube-guest-sim ./hack/kubevirt-sim/guest
	install -m 0644 hack/kubevirt-sim/stages.yaml $(BIN)/kubevirt-sim-stages.yaml
	@# The process node of the local kubevirt mode (simulation, docs/process-node.md).
	$(GO) build -o $(BIN)/hikube-process-node ./hack/processnode

## images: an OCI image per binary (static, non-root, reproducible), built without a Docker daemon by
## hack/images into _output/images/<binary>.oci.tar.
images:
	$(GO) run ./hack/images --output _output/images --revision "$(REVISION)" --source-date-epoch "$(SOURCE_DATE_EPOCH)" $(if $(VERSION),--version "$(VERSION)")

tools:
	hack/build-tools.sh $(TOOLS)

## run: the local platform in the foreground (state in $${HIKUBE_HOME:-_output/local}); Ctrl-C stops it.
## HIKUBE_PROVIDER=kubevirt: KubeVirt workers and control planes as host workloads; HIKUBE_INSTALL=chart: hikube
## installed by its Helm chart, its pods on the process node (implies the kubevirt mode; docs/local-platform.md).
run: tools build
	$(BIN)/hikube-local

## test: static checks, unit tests, generated-code check and integration tests on real binaries.
test: verify test-unit test-integration test-e2e test-plugin test-kubevirt test-chaos

## verify: gofmt, go vet and the generated-code check, the latter from an empty module cache so that
## a script relying on what an earlier run left on this machine fails here first.
verify: verify-gofmt vet verify-codegen-fresh verify-kubevirt-crds

verify-gofmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/tools/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

verify-codegen:
	hack/verify-codegen.sh

verify-codegen-fresh:
	hack/verify-codegen-fresh.sh

## verify-kubevirt-crds: artifacts/kubevirt/crds is what controller-gen makes of the pinned KubeVirt/CDI APIs.
verify-kubevirt-crds:
	hack/verify-kubevirt-crds.sh

codegen:
	hack/update-codegen.sh
	hack/update-kubevirt-crds.sh
	$(GO) run ./hack/kubevirt-instancetypes > artifacts/kubevirt/instancetypes.yaml

test-unit: tools build
	$(GO) test ./apis/... ./pkg/... ./cmd/... ./plugin/... ./hack/processnode/... ./hack/benchplot/... ./test/benchsamples/...
	@# hack/tools/protoc is its own module (the protoc of hack/update-codegen.sh).
	cd hack/tools/protoc && $(GO) test ./...
	@# Builds a static binary (a cold build cache compiles every dependency once more for CGO_ENABLED=0).
	$(GO) test -timeout 30m ./hack/images/...

test-integration: tools build
	$(GO) test -count=1 -timeout 40m ./test/integration/...

## test-plugin: kubectl hikube through the real kubectl against the local platform.
test-plugin: tools build
	$(GO) test -count=1 -timeout 30m ./test/plugin/...

## plugin-session: records docs/plugin-session.txt, a kubectl hikube session run for real on a fresh local platform.
plugin-session: tools build
	hack/record-plugin-session.sh

## bench: aggregated clusters vs. an equivalent CRD on the same kube-apiserver, then create-to-Ready and
## autoscaler reaction of the local provider (docs/benchmarks.md).
BENCH_SAMPLES := $(CURDIR)/_output/bench
bench: tools build
	rm -rf $(BENCH_SAMPLES)
	HIKUBE_BENCH_SAMPLES=$(BENCH_SAMPLES) $(GO) test -count=1 -run '^$$' -bench . -skip Shutdown -benchtime 200x -timeout 60m ./test/bench/
	$(GO) test -count=1 -run '^$$' -bench Shutdown -benchtime 5x -timeout 30m ./test/bench/
	HIKUBE_BENCH_SAMPLES=$(BENCH_SAMPLES) $(GO) test -count=1 -run '^$$' -bench . -skip TenantMemory -benchtime 5x -timeout 30m ./test/bench/provisioning/
	$(GO) test -count=1 -run '^$$' -bench TenantMemory -benchtime 1x -timeout 40m ./test/bench/provisioning/
	HIKUBE_BENCH_SAMPLES=$(BENCH_SAMPLES) HIKUBE_NODE_PROVIDER=kubevirt $(GO) test -count=1 -run '^$$' -bench CreateToReady -benchtime 5x -timeout 30m ./test/bench/provisioning/
	$(GO) test -count=1 -run '^$$' -bench ControllerScale -benchtime 1x -timeout 30m ./test/bench/controller/
	$(GO) test -count=1 -run '^$$' -bench GPUAdmission -benchtime 1x -timeout 30m ./test/bench/controller/
	$(GO) run ./hack/benchplot -in $(BENCH_SAMPLES) -out docs/img

clean:
	rm -rf _output

## test-e2e: the controller provisioning real tenant control planes (local provider).
test-e2e: tools build
	$(GO) test -count=1 -timeout 40m ./test/e2e/...

## test-kubevirt: KubeVirt workers end to end on the host's real KubeVirt CRDs and the simulated KubeVirt, and
## hikube itself installed by its chart on the process node.
test-kubevirt: tools build
	$(GO) test -count=1 -timeout 30m ./test/kubevirt/...
	@# The process node running a control plane's pods as processes (needs root).
	$(GO) test -count=1 -timeout 15m ./test/processnode/...
	@# hikube installed by its Helm chart, its pods on the process node (HIKUBE_INSTALL=chart; needs root).
	$(GO) test -count=1 -timeout 10m ./test/install/...

## test-chaos: a seeded sample of the fault matrix in each mode of the platform (three kills on the local
## provider, one in the kubevirt mode); chaos: all of it, HIKUBE_CHAOS_PROVIDER=local|kubevirt|both (the
## default) (docs/reliability.md).
HIKUBE_CHAOS_PROVIDER ?= both
CHAOS_MODES = $(if $(filter both,$(HIKUBE_CHAOS_PROVIDER)),local kubevirt,$(HIKUBE_CHAOS_PROVIDER))
test-chaos: tools build
	HIKUBE_CHAOS_PROVIDER=local $(GO) test -count=1 -timeout 30m ./test/chaos/...
	HIKUBE_CHAOS_PROVIDER=kubevirt $(GO) test -count=1 -timeout 15m ./test/chaos/...

chaos: tools build
	set -e; for m in $(CHAOS_MODES); do HIKUBE_CHAOS=full HIKUBE_CHAOS_PROVIDER=$$m $(GO) test -count=1 -v -timeout 180m ./test/chaos/...; done

## soak: SOAK_TENANTS tenants create, scale, upgrade and delete clusters for SOAK_DURATION on a fresh local
## platform; errors, conflicts, memory and leftovers are printed (docs/reliability.md).
SOAK_DURATION ?= 10m
SOAK_TENANTS  ?= 20
soak: tools build
	$(GO) run ./hack/soak -duration $(SOAK_DURATION) -tenants $(SOAK_TENANTS)

## fuzz: every fuzz target for $(FUZZTIME) each (the seed corpora also run in `make test`, as unit tests).
FUZZTIME ?= 3m
FUZZ_TARGETS := \
	./apis/apps/validation:FuzzValidateCluster \
	./apis/apps/v1alpha1:FuzzConversionRoundTrip \
	./pkg/registry/apps/cluster:FuzzTableConvertor \
	./pkg/registry/apps/cluster:FuzzKubeconfigQuery \
	./pkg/addons/catalog:FuzzValuesOverride \
	./plugin/pkg/clusterspec:FuzzParseNodeGroup
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
