package naming

import "testing"

func TestDerivedNamesFitADNSLabel(t *testing.T) {
	for name, n := range map[string]int{"node": longestNodeName(), "component": longestComponentName()} {
		if n > 63 {
			t.Errorf("longest %s name is %d characters, more than a DNS label's 63", name, n)
		}
	}
}

func TestHostNamespaceFitsADNSLabel(t *testing.T) {
	long := "tenant-with-a-namespace-name-that-is-as-long-as-kubernetes-allows"[:63]
	a := HostNamespace(long, "prod", "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d")
	b := HostNamespace(long, "prod", "9f8e7d6c-3f40-4a5b-8c6d-7e8f9a0b1c2d")
	if len(a) > 63 || a == b {
		t.Errorf("long names: %q and %q; want at most 63 characters and different for different clusters", a, b)
	}
	if got := HostNamespace("tenant-a", "ml", "x"); got != "hikube-tenant-a-ml" {
		t.Errorf("short name = %q, want hikube-tenant-a-ml", got)
	}
}
