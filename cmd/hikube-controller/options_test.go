package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/hikube/hikube/pkg/provider"
)

func TestControlPlaneProviderFlag(t *testing.T) {
	parse := func(args ...string) *Options {
		o := NewOptions()
		cmd := NewCommand(context.Background(), o)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return o
	}
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	o := parse("--control-plane-provider=kubevirt", "--etcd-storage-class=fast", "--control-plane-service-type=ClusterIP",
		"--control-plane-node-selector=b=1,a=2", "--control-plane-versions=v1.35=v1.35.9")
	p, err := o.newProvider(cfg, fake.NewClientset())
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "kubevirt+kubevirt" {
		t.Errorf("provider %s, want kubevirt control planes with KubeVirt workers", p.Name())
	}
	if _, ok := p.(provider.TenantStorage); !ok {
		t.Error("the kubevirt provider names no tenant storage classes")
	}
	if tol := o.KubeVirtCP.NodeSelector; tol["a"] != "2" || tol["b"] != "1" || o.KubeVirtCP.EtcdStorageClass != "fast" || o.KubeVirtCP.Versions["v1.35"] != "v1.35.9" {
		t.Errorf("options %+v", o.KubeVirtCP)
	}
	for _, bad := range [][]string{
		{"--control-plane-provider=gardener"},
		{"--control-plane-provider=kubevirt", "--node-provider=local"},
		{"--control-plane-provider=kubevirt", "--control-plane-service-type=NodePort"},
		{"--control-plane-provider=kubevirt", "--etcd-storage-size=lots"},
	} {
		if _, err := parse(bad...).newProvider(cfg, fake.NewClientset()); err == nil {
			t.Errorf("%s accepted", strings.Join(bad, " "))
		}
	}
	// The old spelling still works.
	if o := parse("--provider=kubevirt"); o.Provider != "kubevirt" {
		t.Errorf("--provider gives %q", o.Provider)
	}
}

func TestLeaderElectionAndHostClientFlags(t *testing.T) {
	parse := func(args ...string) *Options {
		t.Helper()
		o := NewOptions()
		if err := NewCommand(context.Background(), o).ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if err := parse().Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	o := parse("--leader-elect-lease-duration=60s", "--leader-elect-renew-deadline=40s", "--leader-elect-retry-period=5s",
		"--kube-api-qps=200", "--kube-api-burst=400")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if le := o.LeaderElection; le.LeaseDuration != 60*time.Second || le.RenewDeadline != 40*time.Second || le.RetryPeriod != 5*time.Second {
		t.Errorf("timings %+v", le)
	}
	if o := parse("--etcd-bootstrap-timeout=20s"); o.EtcdBootstrapTimeout != 20*time.Second {
		t.Errorf("etcd bootstrap timeout %s", o.EtcdBootstrapTimeout)
	}
	if o.KubeAPIQPS != 200 || o.KubeAPIBurst != 400 {
		t.Errorf("host client %g QPS, burst %d", o.KubeAPIQPS, o.KubeAPIBurst)
	}
	for bad, flag := range map[string][]string{
		"--leader-elect-lease-duration": {"--leader-elect-lease-duration=10s"},
		"--leader-elect-renew-deadline": {"--leader-elect-retry-period=9s"},
		"--leader-elect-retry-period":   {"--leader-elect-retry-period=0s"},
		"--kube-api-qps":                {"--kube-api-qps=0"},
		"--kube-api-burst":              {"--kube-api-burst=0"},
		"--etcd-bootstrap-timeout":      {"--etcd-bootstrap-timeout=0s"},
	} {
		err := parse(flag...).Validate()
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%v: error %v, want one naming %s", flag, err, bad)
		}
	}
	// Without leader election the timings do not matter.
	if err := parse("--leader-elect=false", "--leader-elect-lease-duration=1s").Validate(); err != nil {
		t.Errorf("timings checked without leader election: %v", err)
	}
}
