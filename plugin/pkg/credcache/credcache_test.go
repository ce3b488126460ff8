package credcache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPutThenGetUntilShortlyBeforeExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	c := &Cache{Dir: filepath.Join(t.TempDir(), "credentials"), Now: func() time.Time { return now }}
	key := Key("tenant-a", "web", "https://host:6443", "alice@host")
	e := Entry{Expires: now.Add(time.Hour), ClientCertificateData: "CERT", ClientKeyData: "KEY"}
	if _, ok := c.Get(key); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(key, e); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(key)
	if !ok || got.ClientCertificateData != "CERT" || got.ClientKeyData != "KEY" || !got.Expires.Equal(e.Expires) {
		t.Fatalf("Get after Put = %+v, %v", got, ok)
	}
	info, err := os.Stat(c.path(key))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the entry's mode is %v (%v), want 0600", info.Mode().Perm(), err)
	}
	if info, err := os.Stat(c.Dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("the directory's mode is %v (%v), want 0700", info.Mode().Perm(), err)
	}

	now = e.Expires.Add(-DefaultRenewBefore - time.Second)
	if _, ok := c.Get(key); !ok {
		t.Error("miss just before the renewal margin")
	}
	now = e.Expires.Add(-DefaultRenewBefore)
	if _, ok := c.Get(key); ok {
		t.Error("hit within the renewal margin: a command could outlive the certificate")
	}
}

func TestKeySeparatesIdentities(t *testing.T) {
	a := Key("tenant-a", "web", "https://host:6443", "ctx", "alice")
	for _, other := range []string{
		Key("tenant-a", "web", "https://host:6443", "ctx", "admin"),
		Key("tenant-a", "web", "https://other:6443", "ctx", "alice"),
		Key("tenant-a", "web", "https://host:6443", "ctx", "alice", "viewer"),
		Key("tenant-a", "api", "https://host:6443", "ctx", "alice"),
	} {
		if other == a {
			t.Errorf("two identities share the key %s", a)
		}
	}
	if a != Key("tenant-a", "web", "https://host:6443", "ctx", "alice") {
		t.Error("the key is not stable")
	}
}

func TestGetIgnoresUnsafeOrBrokenEntries(t *testing.T) {
	now := time.Now()
	c := &Cache{Dir: t.TempDir()}
	key := Key("tenant-a", "web")
	if err := c.Put(key, Entry{Expires: now.Add(time.Hour), ClientCertificateData: "CERT", ClientKeyData: "KEY"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(c.path(key), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key); ok {
		t.Error("a world-readable entry was used")
	}
	if err := os.WriteFile(c.path(key), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key); ok {
		t.Error("a corrupt entry was used")
	}
	if err := c.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(key); err != nil {
		t.Errorf("removing a missing entry: %v", err)
	}
}

func TestRemoveClusterDropsOnlyThatClustersEntries(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	e := Entry{Expires: time.Now().Add(time.Hour), ClientCertificateData: "CERT", ClientKeyData: "KEY"}
	keys := map[string]bool{
		Key("tenant-a", "web", "alice"):  true,
		Key("tenant-a", "web", "admin"):  true,
		Key("tenant-a", "web2", "alice"): false,
		Key("tenant-b", "web", "alice"):  false,
	}
	for k := range keys {
		if err := c.Put(k, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveCluster("tenant-a", "web"); err != nil {
		t.Fatal(err)
	}
	for k, removed := range keys {
		if _, ok := c.Get(k); ok == removed {
			t.Errorf("%s: present=%v after RemoveCluster(tenant-a, web)", k, ok)
		}
	}
}
