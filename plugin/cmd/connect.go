package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hikube/hikube/plugin/pkg/exitcode"
	"github.com/hikube/hikube/plugin/pkg/kubeconfig"
	"github.com/hikube/hikube/plugin/pkg/term"
)

func newConnectCmd(f *Factory) *cobra.Command {
	var viewer bool
	var expiration time.Duration
	c := &cobra.Command{
		Use:   "connect NAME [-- COMMAND [ARGS...]]",
		Short: "Run one command (or a shell) with a temporary kubeconfig of the cluster",
		Long: `Run a command with KUBECONFIG pointing at a temporary kubeconfig of the cluster, removed
when the command ends. Without a command, starts $SHELL on a terminal. Your own kubeconfig
is not touched. The exit code is the command's.`,
		Example:           "  kubectl hikube connect web -- kubectl get nodes\n  kubectl hikube connect web",
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			dash := c.ArgsLenAtDash()
			if len(args) == 0 || dash == 0 {
				return exitcode.UsageErrorf("connect needs the cluster NAME: kubectl hikube connect NAME -- COMMAND")
			}
			name := args[0]
			var command []string
			if dash > 0 {
				if dash != 1 {
					return exitcode.UsageErrorf("connect takes one cluster NAME before --")
				}
				command = args[1:]
			} else if len(args) > 1 {
				return exitcode.UsageErrorf("put the command after --: kubectl hikube connect %s -- %s", name, args[1])
			}
			if len(command) == 0 {
				if !term.IsTerminal(f.Streams.In) {
					return exitcode.UsageErrorf("no command given and stdin is not a terminal: kubectl hikube connect %s -- COMMAND", name)
				}
				shell := os.Getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				command = []string{shell}
				fmt.Fprintf(f.Streams.ErrOut, "Starting %s with the kubeconfig of %s; exit to leave.\n", shell, name)
			}
			ns, err := f.Namespace()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			cfg, _, err := fetchKubeconfig(ctx, f, ns, name, expiration, viewer)
			if err != nil {
				return err
			}
			ref, err := f.Ref(ns, name)
			if err != nil {
				return err
			}
			standalone, err := kubeconfig.Standalone(cfg, ref, "", nil)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "kubectl-hikube-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "kubeconfig")
			if err := clientcmd.WriteToFile(*standalone, path); err != nil {
				return err
			}
			cmd := exec.Command(command[0], command[1:]...)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+path)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = f.Streams.In, f.Streams.Out, f.Streams.ErrOut
			if err := cmd.Run(); err != nil {
				var exitErr *exec.ExitError
				if errors.As(err, &exitErr) {
					return exitcode.Wrap(exitErr.ExitCode(), fmt.Errorf("%s exited with code %d", command[0], exitErr.ExitCode()))
				}
				return err
			}
			return nil
		},
	}
	c.Flags().BoolVar(&viewer, "viewer", false, "read-only access (clusters/viewerkubeconfig)")
	c.Flags().DurationVar(&expiration, "expiration", 0, "lifetime of the certificate (server default 1h)")
	return c
}

func newCredentialCmd(f *Factory) *cobra.Command {
	var viewer bool
	var expiration time.Duration
	c := &cobra.Command{
		Use:   "credential NAME",
		Short: "Print an ExecCredential for a cluster (used by kubeconfigs written with --exec)",
		Long: `Print a client.authentication.k8s.io/v1 ExecCredential with a fresh client certificate for the
cluster. kubectl runs it from the user entry 'kubectl hikube kubeconfig NAME --exec' writes, so
no key is stored in the kubeconfig. Not meant to be run by hand.`,
		Args:              exactArgs("NAME"),
		ValidArgsFunction: completeClusters(f),
		RunE: func(c *cobra.Command, args []string) error {
			ns, err := f.Namespace()
			if err != nil {
				return err
			}
			ctx, cancel := Context()
			defer cancel()
			cfg, _, err := fetchKubeconfig(ctx, f, ns, args[0], expiration, viewer)
			if err != nil {
				return err
			}
			_, _, user, err := kubeconfig.Incoming(cfg)
			if err != nil {
				return err
			}
			cred := clientauthv1.ExecCredential{
				TypeMeta: metav1.TypeMeta{APIVersion: "client.authentication.k8s.io/v1", Kind: "ExecCredential"},
				Status: &clientauthv1.ExecCredentialStatus{
					ClientCertificateData: string(user.ClientCertificateData),
					ClientKeyData:         string(user.ClientKeyData),
				},
			}
			if exp := certExpiry(cfg); !exp.IsZero() {
				// Renew a minute early so a request never carries an expired certificate.
				t := metav1.NewTime(exp.Add(-time.Minute))
				cred.Status.ExpirationTimestamp = &t
			}
			enc := json.NewEncoder(f.Streams.Out)
			return enc.Encode(cred)
		},
	}
	c.Flags().BoolVar(&viewer, "viewer", false, "read-only access")
	c.Flags().DurationVar(&expiration, "expiration", 0, "lifetime of the certificate")
	return c
}
