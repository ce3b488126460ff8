package cmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// options is the contract of every verb, in the style of
// k8s.io/sample-cli-plugin: Complete fills in what the flags and the
// kubeconfig give (clients, namespace, arguments), Validate refuses bad input
// before anything is sent, Run does the work. The Options structs are plain
// values, so the tests build them directly, with fake clients, and never go
// through cobra.
type options interface {
	Complete(f *Factory, c *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runE is the RunE of a verb: Complete, Validate, then Run with a context
// that Ctrl-C cancels.
func runE(f *Factory, o options) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(f, c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		ctx, cancel := Context()
		defer cancel()
		return o.Run(ctx)
	}
}

// optionalInt32 is an int32 flag that stays nil unless given, so that
// "--min 0" and "no --min" differ without asking cobra which flags changed.
type optionalInt32 struct{ p **int32 }

var _ pflag.Value = optionalInt32{}

func (v optionalInt32) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return strconv.FormatInt(int64(**v.p), 10)
}

func (v optionalInt32) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	i := int32(n)
	*v.p = &i
	return nil
}

func (optionalInt32) Type() string { return "int32" }
