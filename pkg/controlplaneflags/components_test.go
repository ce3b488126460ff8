package controlplaneflags

import (
	"slices"
	"strings"
	"testing"
)

func TestControllerManagerFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    ControllerManager
		want []string
	}{
		{
			name: "a tenant's: every controller, signing with the cluster CA",
			c: ControllerManager{
				Kubeconfig: "/c/kcm.kubeconfig", ServiceAccountKeyFile: "/c/sa.key", RootCAFile: "/c/ca.crt",
				ClusterSigningCertFile: "/c/ca.crt", ClusterSigningKeyFile: "/c/ca.key", ServiceClusterIPRange: "10.96.0.0/16",
			},
			want: []string{
				"--kubeconfig=/c/kcm.kubeconfig", "--authentication-kubeconfig=/c/kcm.kubeconfig", "--authorization-kubeconfig=/c/kcm.kubeconfig",
				"--secure-port=0", "--leader-elect=false", "--use-service-account-credentials=true",
				"--service-account-private-key-file=/c/sa.key", "--root-ca-file=/c/ca.crt",
				"--cluster-signing-cert-file=/c/ca.crt", "--cluster-signing-key-file=/c/ca.key", "--service-cluster-ip-range=10.96.0.0/16",
			},
		},
		{
			name: "the host's: a few controllers only, leader-elected on a port",
			c:    ControllerManager{Kubeconfig: "/h/kcm", SecurePort: 10257, LeaderElect: true, Controllers: []string{"a", "b"}},
			want: []string{
				"--kubeconfig=/h/kcm", "--authentication-kubeconfig=/h/kcm", "--authorization-kubeconfig=/h/kcm",
				"--secure-port=10257", "--leader-elect=true", "--use-service-account-credentials=true", "--controllers=a,b",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.c.Flags(); !slices.Equal(got, tc.want) {
				t.Errorf("flags:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestControllerManagerMayTolerateAnAPIWithoutRBACYet(t *testing.T) {
	got := ControllerManager{Kubeconfig: "k", TolerateAuthenticationLookupFailure: true}.Flags()
	if got[len(got)-1] != "--authentication-tolerate-lookup-failure=true" {
		t.Errorf("flags %v", got)
	}
	if slices.Contains(ControllerManager{Kubeconfig: "k"}.Flags(), "--authentication-tolerate-lookup-failure=true") {
		t.Error("the flag is set without being asked for")
	}
}

func TestSchedulerFlags(t *testing.T) {
	want := []string{
		"--kubeconfig=/c/s", "--authentication-kubeconfig=/c/s", "--authorization-kubeconfig=/c/s",
		"--secure-port=0", "--leader-elect=false",
	}
	if got := (Scheduler{Kubeconfig: "/c/s"}).Flags(); !slices.Equal(got, want) {
		t.Errorf("flags %v, want %v", got, want)
	}
}

func TestComponentsValidateTheKubeconfigAndPort(t *testing.T) {
	if err := (ControllerManager{SecurePort: -1}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "kube-controller-manager flags: Kubeconfig is required") || !strings.Contains(err.Error(), "SecurePort -1") {
		t.Errorf("ControllerManager.Validate = %v", err)
	}
	if err := (Scheduler{Kubeconfig: "k", SecurePort: 1 << 16}).Validate(); err == nil || !strings.Contains(err.Error(), "kube-scheduler flags: SecurePort 65536") {
		t.Errorf("Scheduler.Validate = %v", err)
	}
	if err := (Scheduler{Kubeconfig: "k"}).Validate(); err != nil {
		t.Errorf("a valid scheduler: %v", err)
	}
}
