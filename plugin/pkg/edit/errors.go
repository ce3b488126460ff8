package edit

import (
	"strings"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/plugin/pkg/exitcode"
)

func notFoundGroup(c *v1alpha1.Cluster, name string) error {
	var names []string
	for n := range c.Spec.NodeGroups {
		names = append(names, n)
	}
	have := "it has none"
	if len(names) > 0 {
		have = "it has " + strings.Join(sortStrings(names), ", ")
	}
	return exitcode.New(exitcode.NotFound, "cluster %s has no node group %q (%s)", c.Name, name, have)
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
