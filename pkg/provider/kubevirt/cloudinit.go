package kubevirt

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// UserDataKey is the key of the cloud-init user data in its Secret, the one
// KubeVirt's cloudInitNoCloud secretRef reads.
const UserDataKey = "userdata"

// Join is what a VM's operating system needs to become a Node of the tenant
// cluster: kubeadm join with a bootstrap token, discovery pinned to the CA.
type Join struct {
	NodeName string
	// APIServerEndpoint is host:port of the tenant API, as VMs reach it.
	APIServerEndpoint string
	Token             BootstrapToken
	CACertHash        string
	// Labels and Taints the Node registers with. Labels the kubelet may not
	// set on itself (node-role.kubernetes.io/…) are left to the provider,
	// which sets them once the Node exists.
	Labels map[string]string
	Taints []corev1.Taint
}

// kubeadm's JoinConfiguration (kubeadm.k8s.io/v1beta4), the fields we set.
// Written here rather than imported: kubeadm's API lives in
// k8s.io/kubernetes, which a provider should not depend on.
type joinConfiguration struct {
	APIVersion       string           `json:"apiVersion"`
	Kind             string           `json:"kind"`
	Discovery        discovery        `json:"discovery"`
	NodeRegistration nodeRegistration `json:"nodeRegistration"`
}

type discovery struct {
	BootstrapToken bootstrapTokenDiscovery `json:"bootstrapToken"`
}

type bootstrapTokenDiscovery struct {
	APIServerEndpoint string   `json:"apiServerEndpoint"`
	Token             string   `json:"token"`
	CACertHashes      []string `json:"caCertHashes"`
}

type nodeRegistration struct {
	Name             string         `json:"name"`
	Taints           []corev1.Taint `json:"taints"`
	KubeletExtraArgs []arg          `json:"kubeletExtraArgs,omitempty"`
}

type arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cloudConfig struct {
	WriteFiles []writeFile `json:"write_files"`
	RunCmd     [][]string  `json:"runcmd"`
}

type writeFile struct {
	Path        string `json:"path"`
	Permissions string `json:"permissions"`
	Content     string `json:"content"`
}

// JoinConfigPath is where the user data puts kubeadm's join configuration.
const JoinConfigPath = "/etc/kubernetes/hikube-join.yaml"

// UserData is the cloud-init user data (#cloud-config) that joins the node.
func UserData(j Join) ([]byte, error) {
	self, _ := SplitKubeletLabels(j.Labels)
	args := []arg{{Name: "provider-id", Value: ProviderID(j.NodeName)}}
	if len(self) > 0 {
		args = append(args, arg{Name: "node-labels", Value: joinLabels(self)})
	}
	taints := j.Taints
	if taints == nil {
		taints = []corev1.Taint{} // explicit: kubeadm would otherwise add its own defaults
	}
	jc, err := yaml.Marshal(joinConfiguration{
		APIVersion: "kubeadm.k8s.io/v1beta4",
		Kind:       "JoinConfiguration",
		Discovery: discovery{BootstrapToken: bootstrapTokenDiscovery{
			APIServerEndpoint: j.APIServerEndpoint,
			Token:             j.Token.String(),
			CACertHashes:      []string{j.CACertHash},
		}},
		NodeRegistration: nodeRegistration{Name: j.NodeName, Taints: taints, KubeletExtraArgs: args},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the join configuration of %s: %w", j.NodeName, err)
	}
	cc, err := yaml.Marshal(cloudConfig{
		WriteFiles: []writeFile{{Path: JoinConfigPath, Permissions: "0600", Content: string(jc)}},
		RunCmd:     [][]string{{"kubeadm", "join", "--config", JoinConfigPath}},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the cloud-config of %s: %w", j.NodeName, err)
	}
	return append([]byte("#cloud-config\n"), cc...), nil
}

// ParseUserData reads back the join configuration of user data written by
// UserData: what a node's operating system acts on.
func ParseUserData(data []byte) (Join, error) {
	var cc cloudConfig
	if err := yaml.UnmarshalStrict(data, &cc); err != nil {
		return Join{}, fmt.Errorf("decoding the cloud-config: %w", err)
	}
	for _, f := range cc.WriteFiles {
		if f.Path != JoinConfigPath {
			continue
		}
		var jc joinConfiguration
		if err := yaml.UnmarshalStrict([]byte(f.Content), &jc); err != nil {
			return Join{}, fmt.Errorf("decoding the join configuration: %w", err)
		}
		j := Join{
			NodeName:          jc.NodeRegistration.Name,
			APIServerEndpoint: jc.Discovery.BootstrapToken.APIServerEndpoint,
			Taints:            jc.NodeRegistration.Taints,
		}
		if hashes := jc.Discovery.BootstrapToken.CACertHashes; len(hashes) == 1 {
			j.CACertHash = hashes[0]
		}
		id, secret, ok := strings.Cut(jc.Discovery.BootstrapToken.Token, ".")
		if !ok {
			return Join{}, fmt.Errorf("join configuration has a malformed token")
		}
		j.Token = BootstrapToken{ID: id, Secret: secret}
		for _, a := range jc.NodeRegistration.KubeletExtraArgs {
			if a.Name == "node-labels" {
				j.Labels = splitLabels(a.Value)
			}
		}
		return j, nil
	}
	return Join{}, fmt.Errorf("cloud-config writes no %s", JoinConfigPath)
}

// UserDataSecret holds a VM's user data in its host namespace.
func UserDataSecret(namespace, name string, labels map[string]string, userData []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: maps.Clone(labels)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{UserDataKey: userData},
	}
}

// SplitKubeletLabels separates the labels a kubelet may set on its own Node
// (the NodeRestriction admission plugin's rule: none under kubernetes.io or
// k8s.io but the well-known kubelet, node and topology ones) from those the
// provider must set after the Node registered.
func SplitKubeletLabels(labels map[string]string) (self, later map[string]string) {
	self, later = map[string]string{}, map[string]string{}
	for k, v := range labels {
		if kubeletMaySet(k) {
			self[k] = v
		} else {
			later[k] = v
		}
	}
	return self, later
}

func kubeletMaySet(key string) bool {
	prefix, _, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		return true
	}
	restricted := prefix == "kubernetes.io" || strings.HasSuffix(prefix, ".kubernetes.io") ||
		prefix == "k8s.io" || strings.HasSuffix(prefix, ".k8s.io")
	if !restricted {
		return true
	}
	switch prefix {
	case "kubelet.kubernetes.io", "node.kubernetes.io":
		return true
	}
	return slices.Contains([]string{
		"kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
		"topology.kubernetes.io/zone", "topology.kubernetes.io/region",
		"beta.kubernetes.io/instance-type", "failure-domain.beta.kubernetes.io/zone",
		"failure-domain.beta.kubernetes.io/region",
	}, key)
}

func joinLabels(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func splitLabels(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}
