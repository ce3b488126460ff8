package cluster

import (
	"context"
	"testing"

	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"

	"github.com/hikube/hikube/pkg/clusterpki"
	hikubefake "github.com/hikube/hikube/pkg/generated/clientset/versioned/fake"
	hikubeinformers "github.com/hikube/hikube/pkg/generated/informers/externalversions"
	"github.com/hikube/hikube/pkg/provider/providertest"
)

func TestSyncOfAGoneClusterForgetsItsTenantClients(t *testing.T) {
	hikube := hikubefake.NewSimpleClientset()
	inf := hikubeinformers.NewSharedInformerFactory(hikube, 0).Apps().V1alpha1().Clusters()
	c, err := New(hikube, kubefake.NewClientset(), inf, &providertest.Provider{}, record.NewFakeRecorder(10), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []clusterpki.ClusterRef{{Namespace: "tenant-a", Name: "web", UID: "u1"}, {Namespace: "tenant-a", Name: "db", UID: "u2"}} {
		c.tenants.clients[ref.UID] = &tenantClient{ref: ref, kube: kubefake.NewClientset()}
	}
	requeue, err := c.sync(context.Background(), "tenant-a/web")
	if err != nil || requeue != 0 {
		t.Fatalf("sync of a gone cluster: requeue %s, err %v; want neither", requeue, err)
	}
	if _, ok := c.tenants.clients["u1"]; ok {
		t.Error("the gone cluster's tenant client is still cached")
	}
	if _, ok := c.tenants.clients["u2"]; !ok {
		t.Error("another cluster's tenant client was dropped")
	}
}
