// Command protoc is the part of protoc that k8s.io/code-generator's
// go-to-protobuf runs, built from Go modules so that hack/update-codegen.sh
// needs no system package:
//
//	protoc -I DIR [-I DIR ...] --gogo_out=OUTDIR FILE.proto
//
// It compiles FILE.proto with github.com/bufbuild/protocompile, resolving
// imports in the -I directories (in order) and then in the well-known types
// (google/protobuf/*.proto), and runs the plugin protoc-gen-gogo from PATH
// over the plugin protocol: a CodeGeneratorRequest on its stdin, a
// CodeGeneratorResponse on its stdout, whose files are written under OUTDIR.
// Any other flag is an error: this is not a general protoc.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// plugin is the only generator go-to-protobuf asks for.
const plugin = "gogo"

type args struct {
	includes []string
	outDir   string
	param    string
	file     string
}

func main() {
	a, err := parseArgs(os.Args[1:])
	if err == nil {
		err = run(context.Background(), a)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "protoc: %v\n", err)
		os.Exit(1)
	}
}

func parseArgs(argv []string) (args, error) {
	var a args
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case arg == "-I" || arg == "--proto_path":
			if i+1 >= len(argv) {
				return a, fmt.Errorf("%s needs a directory", arg)
			}
			i++
			a.includes = append(a.includes, argv[i])
		case strings.HasPrefix(arg, "-I"):
			a.includes = append(a.includes, arg[2:])
		case strings.HasPrefix(arg, "--proto_path="):
			a.includes = append(a.includes, strings.TrimPrefix(arg, "--proto_path="))
		case strings.HasPrefix(arg, "--"+plugin+"_out="):
			out := strings.TrimPrefix(arg, "--"+plugin+"_out=")
			// protoc's "PARAMS:DIR" form passes PARAMS to the plugin.
			if p, dir, ok := strings.Cut(out, ":"); ok {
				a.param, out = p, dir
			}
			a.outDir = out
		case strings.HasPrefix(arg, "-"):
			return a, fmt.Errorf("unsupported flag %q (only -I and --%s_out)", arg, plugin)
		default:
			if a.file != "" {
				return a, fmt.Errorf("one .proto file only, got %q and %q", a.file, arg)
			}
			a.file = arg
		}
	}
	if a.file == "" || a.outDir == "" {
		return a, fmt.Errorf("usage: protoc -I DIR... --%s_out=DIR FILE.proto", plugin)
	}
	if len(a.includes) == 0 {
		a.includes = []string{"."}
	}
	return a, nil
}

func run(ctx context.Context, a args) error {
	name, err := importName(a.file, a.includes)
	if err != nil {
		return err
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: a.includes}),
		// Comments reach the plugin as protoc passes them.
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := c.Compile(ctx, name)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", name, err)
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate:  []string{name},
		ProtoFile:       dependencyOrder(files[0]),
		CompilerVersion: &pluginpb.Version{Major: proto.Int32(3), Minor: proto.Int32(21), Patch: proto.Int32(0)},
	}
	if a.param != "" {
		req.Parameter = proto.String(a.param)
	}
	resp, err := runPlugin(ctx, req)
	if err != nil {
		return err
	}
	return writeFiles(a.outDir, resp)
}

// importName maps the file argument to its name relative to the first -I
// directory containing it, as protoc does (the name imports refer to).
func importName(file string, includes []string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", file, err)
	}
	for _, inc := range includes {
		dir, err := filepath.Abs(inc)
		if err != nil {
			return "", fmt.Errorf("resolving -I %s: %w", inc, err)
		}
		rel, err := filepath.Rel(dir, abs)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel), nil
		}
	}
	return "", fmt.Errorf("%s is in none of the -I directories %v", file, includes)
}

// dependencyOrder lists f and everything it imports, each file after its
// imports, as the plugin protocol requires.
func dependencyOrder(f linker.File) []*descriptorpb.FileDescriptorProto {
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var visit func(fd protoreflect.FileDescriptor)
	visit = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			visit(imports.Get(i).FileDescriptor)
		}
		out = append(out, fileProto(fd))
	}
	visit(f)
	return out
}

func fileProto(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	if r, ok := fd.(linker.Result); ok {
		return r.FileDescriptorProto()
	}
	// Files found in a -I directory are wrapped; the well-known ones are not.
	if w, ok := fd.(interface {
		Unwrap() protoreflect.FileDescriptor
	}); ok {
		return fileProto(w.Unwrap())
	}
	return protodesc.ToFileDescriptorProto(fd)
}

func runPlugin(ctx context.Context, req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the CodeGeneratorRequest: %w", err)
	}
	exe := "protoc-gen-" + plugin
	cmd := exec.CommandContext(ctx, exe)
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running %s: %w", exe, err)
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), resp); err != nil {
		return nil, fmt.Errorf("decoding the CodeGeneratorResponse of %s: %w", exe, err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("%s: %s", exe, resp.GetError())
	}
	return resp, nil
}

func writeFiles(outDir string, resp *pluginpb.CodeGeneratorResponse) error {
	for _, f := range resp.File {
		if f.InsertionPoint != nil {
			return errors.New("insertion points are not supported")
		}
		name := filepath.FromSlash(f.GetName())
		if filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
			return fmt.Errorf("plugin wrote outside the output directory: %s", f.GetName())
		}
		path := filepath.Join(outDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating the directory of %s: %w", path, err)
		}
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
