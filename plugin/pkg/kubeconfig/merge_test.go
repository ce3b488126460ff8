package kubeconfig

import (
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// served is what the clusters/kubeconfig subresource returns for ns/name.
func served(ns, name, server, cert string) *clientcmdapi.Config {
	id := ns + "-" + name
	c := clientcmdapi.NewConfig()
	c.Clusters[id] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: []byte("ca")}
	c.AuthInfos[id] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte(cert), ClientKeyData: []byte("key")}
	c.Contexts[id] = &clientcmdapi.Context{Cluster: id, AuthInfo: id, Namespace: "default"}
	c.CurrentContext = id
	return c
}

// userConfig is a kubeconfig with the user's own entries.
func userConfig() *clientcmdapi.Config {
	c := clientcmdapi.NewConfig()
	c.Clusters["host"] = &clientcmdapi.Cluster{Server: "https://host:6443"}
	c.AuthInfos["alice"] = &clientcmdapi.AuthInfo{Token: "t"}
	c.Contexts["alice@host"] = &clientcmdapi.Context{Cluster: "host", AuthInfo: "alice", Namespace: "tenant-a"}
	c.CurrentContext = "alice@host"
	return c
}

var web = ClusterRef{Host: "https://host:6443", Namespace: "tenant-a", Name: "web"}

func assertUserEntriesKept(t *testing.T, c *clientcmdapi.Config) {
	t.Helper()
	want := userConfig()
	for n, ctx := range want.Contexts {
		if got := c.Contexts[n]; got == nil || got.Cluster != ctx.Cluster || got.AuthInfo != ctx.AuthInfo || got.Namespace != ctx.Namespace {
			t.Errorf("context %s lost or changed: %+v", n, got)
		}
	}
	if c.Clusters["host"] == nil || c.Clusters["host"].Server != "https://host:6443" || c.AuthInfos["alice"] == nil || c.AuthInfos["alice"].Token != "t" {
		t.Errorf("the user's cluster or user entry changed: %+v %+v", c.Clusters["host"], c.AuthInfos["alice"])
	}
}

func TestMergeNeverLosesAnExistingContext(t *testing.T) {
	c := userConfig()
	name, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert1"), web, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name != "tenant-a-web" {
		t.Errorf("context name = %s, want tenant-a-web", name)
	}
	assertUserEntriesKept(t, c)
	if c.CurrentContext != "alice@host" {
		t.Errorf("current context changed to %s without --switch", c.CurrentContext)
	}
	if got := c.Contexts[name]; got.Cluster != name || got.AuthInfo != name {
		t.Errorf("merged context %+v", got)
	}
}

func TestRepeatedMergesAreIdempotent(t *testing.T) {
	c := userConfig()
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert1"), web, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	once := c.DeepCopy()
	// The same certificate again: nothing changes.
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert1"), web, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(once, c) {
		t.Errorf("a second identical merge changed the kubeconfig")
	}
	// A refreshed certificate replaces ours in place, under the same name.
	name, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert2"), web, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name != "tenant-a-web" || len(c.Contexts) != 2 || string(c.AuthInfos[name].ClientCertificateData) != "cert2" {
		t.Errorf("refresh: name %s, %d contexts, cert %s", name, len(c.Contexts), c.AuthInfos[name].ClientCertificateData)
	}
	assertUserEntriesKept(t, c)
}

func TestMergeChoosesUniqueNames(t *testing.T) {
	c := userConfig()
	// Somebody else's context already holds the default name.
	c.Contexts["tenant-a-web"] = &clientcmdapi.Context{Cluster: "host", AuthInfo: "alice"}
	// And somebody else's user entry holds the next one.
	c.AuthInfos["tenant-a-web-2"] = &clientcmdapi.AuthInfo{Token: "other"}
	name, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert"), web, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name != "tenant-a-web-3" {
		t.Errorf("name = %s, want tenant-a-web-3", name)
	}
	if c.Contexts["tenant-a-web"].Cluster != "host" || c.AuthInfos["tenant-a-web-2"].Token != "other" {
		t.Error("a foreign entry was overwritten")
	}
	// Merging again finds our own entry rather than making a fourth.
	again, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert"), web, MergeOptions{})
	if err != nil || again != name {
		t.Errorf("second merge = %s, %v; want %s", again, err, name)
	}
	// The same name on another host platform is another cluster.
	other := web
	other.Host = "https://other:6443"
	n2, err := Merge(c, served("tenant-a", "web", "https://web:2", "cert"), other, MergeOptions{})
	if err != nil || n2 == name || n2 == "tenant-a-web" {
		t.Errorf("cluster of another host got %s, %v", n2, err)
	}
}

func TestMergeWithContextNameRefusesForeignNames(t *testing.T) {
	c := userConfig()
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert"), web, MergeOptions{ContextName: "alice@host"}); err == nil {
		t.Fatal("--context-name overwrote the user's own context")
	}
	assertUserEntriesKept(t, c)
	name, err := Merge(c, served("tenant-a", "web", "https://web:1", "cert"), web, MergeOptions{ContextName: "web", Switch: true})
	if err != nil || name != "web" || c.CurrentContext != "web" {
		t.Errorf("merge as web: %s, %v, current %s", name, err, c.CurrentContext)
	}
}

func TestRemoveTakesOnlyWhatMergeAdded(t *testing.T) {
	c := userConfig()
	ml := ClusterRef{Host: web.Host, Namespace: "tenant-a", Name: "ml"}
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "c"), web, MergeOptions{Switch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "c"), web, MergeOptions{ContextName: "web-admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(c, served("tenant-a", "ml", "https://ml:1", "c"), ml, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	removed := Remove(c, web)
	if !reflect.DeepEqual(removed, []string{"tenant-a-web", "web-admin"}) {
		t.Errorf("removed %v", removed)
	}
	if c.CurrentContext != "" {
		t.Errorf("current context %q still names a removed context", c.CurrentContext)
	}
	if _, ok := c.Contexts["tenant-a-ml"]; !ok {
		t.Error("the context of another cluster was removed")
	}
	if _, ok := c.Clusters["tenant-a-web"]; ok {
		t.Error("the cluster entry of the removed context is left behind")
	}
	assertUserEntriesKept(t, c)
}

func TestOwnershipSurvivesTheFile(t *testing.T) {
	c := userConfig()
	if _, err := Merge(c, served("tenant-a", "web", "https://web:1", "c"), web, MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		t.Fatal(err)
	}
	loaded, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if owner, ok := Owner(loaded.Contexts["tenant-a-web"]); !ok || owner != web {
		t.Fatalf("owner after a write and a read = %+v, %v", owner, ok)
	}
	again, err := Merge(loaded, served("tenant-a", "web", "https://web:1", "c"), web, MergeOptions{})
	if err != nil || again != "tenant-a-web" {
		t.Errorf("merge after reload = %s, %v", again, err)
	}
}
