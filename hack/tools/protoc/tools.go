//go:build tools

// Package main also pins the commands hack/build-tools.sh builds from this
// module besides protoc: go-to-protobuf and its plugin protoc-gen-gogo
// (keep k8s.io/code-generator at the version of the main go.mod) and
// goimports, which go-to-protobuf runs on its output.
package main

import (
	_ "golang.org/x/tools/cmd/goimports"
	_ "k8s.io/code-generator/cmd/go-to-protobuf"
	_ "k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo"
)
