package main

import (
	"reflect"
	"testing"
)

// TestParseArgs covers the command line go-to-protobuf passes.
func TestParseArgs(t *testing.T) {
	got, err := parseArgs([]string{"-I", ".", "-I", "/out", "-I", "/mod", "--gogo_out=/out", "/out/example.com/a/generated.proto"})
	if err != nil {
		t.Fatal(err)
	}
	want := args{includes: []string{".", "/out", "/mod"}, outDir: "/out", file: "/out/example.com/a/generated.proto"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseArgs = %+v, want %+v", got, want)
	}
	if got, _ := parseArgs([]string{"--gogo_out=plugins=grpc:/out", "a.proto"}); got.param != "plugins=grpc" || got.outDir != "/out" {
		t.Errorf("PARAMS:DIR form parsed as %+v", got)
	}
	for _, bad := range [][]string{{"--go_out=/x", "a.proto"}, {"-I", "."}, {"--gogo_out=/x", "a.proto", "b.proto"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

// TestImportName: the file is named relative to the first -I containing it,
// as imports name it.
func TestImportName(t *testing.T) {
	got, err := importName("/out/example.com/a/generated.proto", []string{"/elsewhere", "/out", "/"})
	if err != nil || got != "example.com/a/generated.proto" {
		t.Errorf("importName = %q, %v", got, err)
	}
	if _, err := importName("/x/a.proto", []string{"/out"}); err == nil {
		t.Error("a file outside every -I was accepted")
	}
}
