package kubevirt

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	"github.com/hikube/hikube/pkg/catalog"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/pki"
	"github.com/hikube/hikube/pkg/provider"
)

// seedSpec reads one of the seed's example clusters and turns it into the
// ref and ControlPlaneSpec the core would hand the provider.
func seedSpec(t *testing.T, seed string) (provider.ClusterRef, provider.ControlPlaneSpec) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "artifacts", "examples", seed+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cl v1alpha1.Cluster
	if err := yaml.UnmarshalStrict(raw, &cl); err != nil {
		t.Fatalf("%s: %v", seed, err)
	}
	v1alpha1.SetObjectDefaults_Cluster(&cl)
	if cl.Spec.Version == "" {
		cl.Spec.Version = catalog.NewestVersion() // admission's default
	}
	ref := provider.ClusterRef{Namespace: "tenant-a", Name: cl.Name, UID: "5f0c2d3e-0000-4000-8000-00000000000" + seed[:1]}
	p, err := clusterpki.Generate(ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref, provider.ControlPlaneSpec{
		Minor: cl.Spec.Version, Replicas: *cl.Spec.ControlPlane.Replicas, Zones: roundRobinZones(*cl.Spec.ControlPlane.Replicas), Preset: cl.Spec.ControlPlane.ResourcesPreset, PKI: p,
	}
}

// The host objects the control-plane half writes for the seed's three
// clusters (and prod, the example with three replicas over the zones),
// once their endpoint has an address: one golden file per cluster, every document decoded strictly into its Kubernetes type (a
// field the type does not know fails). Certificates, keys and kubeconfigs
// appear as placeholders that describe them.
func TestControlPlaneObjectsOfTheSeedClusters(t *testing.T) {
	cp := NewControlPlane(nil, ControlPlaneOptions{StorageClasses: map[string]string{"local": "local-path"}})
	for _, seed := range []string{"web", "ml", "production", "prod"} {
		t.Run(seed, func(t *testing.T) {
			ref, spec := seedSpec(t, seed)
			objs, err := cp.DesiredObjects(ref, spec, "203.0.113.10")
			if err != nil {
				t.Fatal(err)
			}
			var docs [][]byte
			objs.Each(func(kind, name string, obj any) {
				switch o := obj.(type) {
				case *corev1ac.SecretApplyConfiguration:
					obj = describeSecret(t, o)
				case *appsv1ac.DeploymentApplyConfiguration:
					// A hash of random keys: stable within a cluster,
					// not between test runs.
					if o.Spec.Template.Annotations[annotationCredentials] != "" {
						o.Spec.Template.Annotations[annotationCredentials] = "<hash of the mounted secrets>"
					}
				}
				b, err := yaml.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, b)
			})
			got := bytes.Join(docs, []byte("---\n"))
			path := filepath.Join("testdata", "controlplane-"+seed+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/provider/kubevirt -run ControlPlaneObjects -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (rerun with -update if the change is meant):\n%s", path, got)
			}
			decodeStrictly(t, path, want)
		})
	}
}

// decodeStrictly decodes every document of a golden file into the type its
// kind names.
func decodeStrictly(t *testing.T, path string, data []byte) {
	t.Helper()
	types := map[string]func() any{
		"Namespace": func() any { return &corev1.Namespace{} }, "Secret": func() any { return &corev1.Secret{} },
		"ConfigMap": func() any { return &corev1.ConfigMap{} }, "ServiceAccount": func() any { return &corev1.ServiceAccount{} },
		"Role": func() any { return &rbacv1.Role{} }, "RoleBinding": func() any { return &rbacv1.RoleBinding{} },
		"Service": func() any { return &corev1.Service{} }, "NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
		"PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
		"StatefulSet":         func() any { return &appsv1.StatefulSet{} }, "Deployment": func() any { return &appsv1.Deployment{} },
	}
	for i, doc := range bytes.Split(data, []byte("---\n")) {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s document %d: %v", path, i, err)
		}
		newObj, ok := types[meta.Kind]
		if !ok {
			t.Errorf("%s document %d: unexpected kind %q", path, i, meta.Kind)
			continue
		}
		if err := yaml.UnmarshalStrict(doc, newObj()); err != nil {
			t.Errorf("%s document %d (%s) does not decode strictly: %v", path, i, meta.Kind, err)
		}
	}
}

// describeSecret is s with each value replaced by a stable description:
// certificates by subject, names and issuer, keys by kind, kubeconfigs by
// server, user and the description of their certificate.
func describeSecret(t *testing.T, s *corev1ac.SecretApplyConfiguration) *corev1ac.SecretApplyConfiguration {
	t.Helper()
	out := *s
	out.Data = nil
	out.StringData = map[string]string{}
	for k, v := range s.Data {
		out.StringData[k] = describe(t, v)
	}
	return &out
}

func describe(t *testing.T, v []byte) string {
	t.Helper()
	switch {
	case bytes.Contains(v, []byte("BEGIN CERTIFICATE")):
		certs, err := pki.ParseCertsPEM(v)
		if err != nil {
			t.Fatal(err)
		}
		c := certs[0]
		var ips []string
		for _, ip := range c.IPAddresses {
			ips = append(ips, ip.String())
		}
		dns := append([]string(nil), c.DNSNames...)
		sort.Strings(dns)
		return fmt.Sprintf("<certificate CN=%q O=%v DNS=%v IP=%v CA=%v issuer=%q>", c.Subject.CommonName, c.Subject.Organization, dns, ips, c.IsCA, c.Issuer.CommonName)
	case bytes.Contains(v, []byte("PRIVATE KEY")):
		return "<private key>"
	case bytes.Contains(v, []byte("PUBLIC KEY")):
		return "<public key>"
	case bytes.Contains(v, []byte("kind: Config")):
		kc, err := clientcmd.Load(v)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, name := range sortedKeys(kc.Clusters) {
			parts = append(parts, "server="+kc.Clusters[name].Server)
		}
		for _, name := range sortedKeys(kc.AuthInfos) {
			parts = append(parts, "user="+name, "client "+describe(t, kc.AuthInfos[name].ClientCertificateData))
		}
		return "<kubeconfig " + strings.Join(parts, " ") + ">"
	}
	return string(v)
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// roundRobinZones places n replicas over the datacenters as the core does.
func roundRobinZones(n int32) []string {
	zones := make([]string, n)
	for i := range zones {
		zones[i] = catalog.Datacenters[i%len(catalog.Datacenters)]
	}
	return zones
}
