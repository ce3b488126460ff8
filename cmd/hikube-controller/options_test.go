package main

import (
	"context"
	"strings"
	"testing"

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
