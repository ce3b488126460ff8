package naming

import "testing"

func TestDerivedNamesFitADNSLabel(t *testing.T) {
	for name, n := range map[string]int{"node": longestNodeName(), "component": longestComponentName()} {
		if n > 63 {
			t.Errorf("longest %s name is %d characters, more than a DNS label's 63", name, n)
		}
	}
}
