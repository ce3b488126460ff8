package controlplaneflags

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ControllerManager is what hikube decides about one kube-controller-manager.
type ControllerManager struct {
	// Kubeconfig reaches the API and also serves for delegated
	// authentication and authorization. Required.
	Kubeconfig string
	// SecurePort serves metrics and health; 0 serves nothing (no port to
	// allocate).
	SecurePort int
	// LeaderElect is needed only when more than one instance runs.
	LeaderElect bool
	// Controllers, when set, are the only controllers that run.
	Controllers []string
	// ServiceAccountKeyFile signs service-account tokens: the private key of
	// the apiservers' ServiceAccount.KeyFile.
	ServiceAccountKeyFile string
	// RootCAFile is put into every namespace's kube-root-ca.crt.
	RootCAFile string
	// ClusterSigningCertFile and ClusterSigningKeyFile sign approved
	// certificate signing requests.
	ClusterSigningCertFile string
	ClusterSigningKeyFile  string
	// ServiceClusterIPRange, when set, must be the apiservers'.
	ServiceClusterIPRange string
	// TolerateAuthenticationLookupFailure keeps it running when it starts
	// before its apiserver has bootstrapped RBAC (they start together in
	// one pod): it then authenticates its port by tokens only, which is
	// the scheduler's default.
	TolerateAuthenticationLookupFailure bool
}

// Validate reports the required fields that are missing.
func (c ControllerManager) Validate() error {
	return validateKubeconfig("kube-controller-manager", c.Kubeconfig, c.SecurePort)
}

// Flags returns the command line of c, in a fixed order; optional fields left
// empty are left out. Controllers always use their own service accounts.
func (c ControllerManager) Flags() []string {
	args := kubeconfigFlags(c.Kubeconfig, c.SecurePort, c.LeaderElect)
	args = append(args, "--use-service-account-credentials=true")
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	add("controllers", strings.Join(c.Controllers, ","))
	add("service-account-private-key-file", c.ServiceAccountKeyFile)
	add("root-ca-file", c.RootCAFile)
	add("cluster-signing-cert-file", c.ClusterSigningCertFile)
	add("cluster-signing-key-file", c.ClusterSigningKeyFile)
	add("service-cluster-ip-range", c.ServiceClusterIPRange)
	if c.TolerateAuthenticationLookupFailure {
		add("authentication-tolerate-lookup-failure", "true")
	}
	return args
}

// Scheduler is what hikube decides about one kube-scheduler.
type Scheduler struct {
	// Kubeconfig reaches the API and also serves for delegated
	// authentication and authorization. Required.
	Kubeconfig string
	// SecurePort serves metrics and health; 0 serves nothing.
	SecurePort int
	// LeaderElect is needed only when more than one instance runs.
	LeaderElect bool
}

// Validate reports the required fields that are missing.
func (s Scheduler) Validate() error {
	return validateKubeconfig("kube-scheduler", s.Kubeconfig, s.SecurePort)
}

// Flags returns the command line of s, in a fixed order.
func (s Scheduler) Flags() []string {
	return kubeconfigFlags(s.Kubeconfig, s.SecurePort, s.LeaderElect)
}

func validateKubeconfig(component, kubeconfig string, securePort int) error {
	var errs []error
	if kubeconfig == "" {
		errs = append(errs, fmt.Errorf("%s flags: Kubeconfig is required", component))
	}
	if securePort < 0 || securePort >= 1<<16 {
		errs = append(errs, fmt.Errorf("%s flags: SecurePort %d is not in 0-65535", component, securePort))
	}
	return errors.Join(errs...)
}

// kubeconfigFlags are the flags kube-controller-manager and kube-scheduler
// share: one kubeconfig for everything, the secure port and leader election.
func kubeconfigFlags(kubeconfig string, securePort int, leaderElect bool) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--secure-port=" + strconv.Itoa(securePort),
		"--leader-elect=" + strconv.FormatBool(leaderElect),
	}
}
