package cmd

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

// run runs the plugin with args and no kubeconfig server behind it.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	in := strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut}
	root := NewRootCmd(streams)
	root.SetArgs(append([]string{"--kubeconfig", "/dev/null", "-n", "tenant-a"}, args...))
	code = Execute(root, streams)
	return out.String(), errOut.String(), code
}

func TestCreateDryRunClientPrintsTheObjectOnStdout(t *testing.T) {
	out, errOut, code := run(t, "", "create", "cluster", "ml", "--node-group", "name=ml,instance-type=u1.2xlarge,min=1,max=5,gpus=nvidia.com/L40S:2",
		"--addon", "gpu-operator", "--dry-run=client", "-o", "yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var c v1alpha1.Cluster
	if err := yaml.UnmarshalStrict([]byte(out), &c); err != nil {
		t.Fatalf("stdout is not a Cluster: %v\n%s", err, out)
	}
	if c.Namespace != "tenant-a" || len(c.Spec.NodeGroups["ml"].GPUs) != 2 || !c.Spec.Addons.GPUOperator.Enabled {
		t.Errorf("printed %+v", c)
	}
	if strings.Contains(out, "status") || strings.Contains(out, "creationTimestamp") {
		t.Errorf("the printed object carries empty status or timestamps:\n%s", out)
	}
}

func TestUsageErrorsExitTwoWithOneLine(t *testing.T) {
	for name, args := range map[string][]string{
		"bad node group": {"create", "cluster", "x", "--node-group", "name=a,min=x", "--dry-run=client"},
		"bad gpu count":  {"create", "cluster", "x", "--node-group", "name=a,instance-type=u1.xlarge", "--gpu", "a=nvidia.com/L40S:9", "--dry-run=client"},
		"unknown flag":   {"scale", "web", "--bogus"},
		"missing name":   {"status"},
		"scale no bound": {"scale", "web", "--node-group", "web"},
		"scale min>max":  {"scale", "web", "--node-group", "web", "--min", "5", "--max", "2"},
		"unknown cmd":    {"frobnicate"},
		"bad output":     {"create", "cluster", "x", "--dry-run=client", "-o", "toml"},
		"bad dry-run":    {"create", "cluster", "x", "--dry-run=maybe"},
	} {
		_, errOut, code := run(t, "", args...)
		if code != exitcode.Usage {
			t.Errorf("%s: exit %d, want %d (stderr %q)", name, code, exitcode.Usage, errOut)
		}
		if !strings.HasPrefix(errOut, "error: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: stderr is not one error line: %q", name, errOut)
		}
	}
}

func TestCatalogCommandsNeedNoServer(t *testing.T) {
	out, _, code := run(t, "", "instance-types", "--family", "m1")
	if code != 0 || !strings.Contains(out, "m1.8xlarge") || strings.Contains(out, "s1.") {
		t.Errorf("instance-types --family m1: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "", "versions")
	if code != 0 || !strings.Contains(out, "v1.37") {
		t.Errorf("versions: exit %d\n%s", code, out)
	}
}

func TestCompletionOfNodeGroupSpecs(t *testing.T) {
	out, _, _ := run(t, "", "__complete", "create", "cluster", "x", "--node-group", "name=web,instance-type=u1.x")
	if !strings.Contains(out, "name=web,instance-type=u1.xlarge") {
		t.Errorf("instance types not completed inside the spec:\n%s", out)
	}
	out, _, _ = run(t, "", "__complete", "gpu", "attach", "ml", "--model", "")
	if !strings.Contains(out, "nvidia.com/L40S") {
		t.Errorf("GPU models not completed:\n%s", out)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out, _, code := run(t, "", "completion", shell); code != 0 || len(out) < 100 {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
}
