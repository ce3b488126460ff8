// Package kubeconfig merges the kubeconfig of a tenant cluster into the
// user's kubeconfig without ever touching an entry it did not write: each
// context it adds carries an extension naming the hikube cluster it is for,
// so a repeated merge replaces its own entries (idempotent), a name taken by
// something else gets a unique suffix, and removal takes only what it added.
package kubeconfig

import (
	"encoding/json"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ExtensionName marks the contexts kubectl-hikube wrote.
const ExtensionName = "hikube.io/cluster"

// ClusterRef identifies a tenant cluster: the hikube API it lives on (the
// host server URL) and its namespace and name.
type ClusterRef struct {
	Host      string `json:"host"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// DefaultContextName is the name the server gives the entries: <namespace>-<name>.
func (r ClusterRef) DefaultContextName() string { return r.Namespace + "-" + r.Name }

func (r ClusterRef) String() string { return r.Namespace + "/" + r.Name }

// MergeOptions say how to merge.
type MergeOptions struct {
	// ContextName, when set, is the name of the context (and of its cluster
	// and user entries); it must be free or already ours for this cluster.
	ContextName string
	// Switch makes the merged context the current one.
	Switch bool
	// AuthInfo, when set, replaces the incoming user entry (the exec
	// credential mode: the file then holds no key).
	AuthInfo *clientcmdapi.AuthInfo
}

// Incoming extracts the single context of a kubeconfig served by the
// clusters/kubeconfig subresource, with its cluster and user.
func Incoming(in *clientcmdapi.Config) (*clientcmdapi.Context, *clientcmdapi.Cluster, *clientcmdapi.AuthInfo, error) {
	name := in.CurrentContext
	if name == "" && len(in.Contexts) == 1 {
		for n := range in.Contexts {
			name = n
		}
	}
	ctx, ok := in.Contexts[name]
	if !ok {
		return nil, nil, nil, fmt.Errorf("the served kubeconfig has no context %q", name)
	}
	cl, ok := in.Clusters[ctx.Cluster]
	if !ok {
		return nil, nil, nil, fmt.Errorf("the served kubeconfig has no cluster %q", ctx.Cluster)
	}
	user, ok := in.AuthInfos[ctx.AuthInfo]
	if !ok {
		return nil, nil, nil, fmt.Errorf("the served kubeconfig has no user %q", ctx.AuthInfo)
	}
	return ctx, cl, user, nil
}

// Merge adds the tenant kubeconfig in to dst under a context name that is
// unique and returns that name. Entries of dst it did not write are never
// changed; merging the same cluster again replaces the entries it wrote.
func Merge(dst, in *clientcmdapi.Config, ref ClusterRef, o MergeOptions) (string, error) {
	ctx, cl, user, err := Incoming(in)
	if err != nil {
		return "", err
	}
	if o.AuthInfo != nil {
		user = o.AuthInfo
	}
	name, err := chooseName(dst, ref, o.ContextName)
	if err != nil {
		return "", err
	}
	// Another context of ours for the same cluster under a different name
	// (an earlier --context-name) stays: the user asked for both names.
	ensureMaps(dst)
	dst.Clusters[name] = cl.DeepCopy()
	dst.AuthInfos[name] = user.DeepCopy()
	newCtx := ctx.DeepCopy()
	newCtx.Cluster, newCtx.AuthInfo = name, name
	newCtx.Extensions = map[string]runtime.Object{ExtensionName: marker(ref)}
	dst.Contexts[name] = newCtx
	if o.Switch {
		dst.CurrentContext = name
	}
	return name, nil
}

// Standalone returns a kubeconfig holding only the tenant cluster under name
// (for --print and connect).
func Standalone(in *clientcmdapi.Config, ref ClusterRef, name string, authInfo *clientcmdapi.AuthInfo) (*clientcmdapi.Config, error) {
	out := clientcmdapi.NewConfig()
	if name == "" {
		name = ref.DefaultContextName()
	}
	if _, err := Merge(out, in, ref, MergeOptions{ContextName: name, Switch: true, AuthInfo: authInfo}); err != nil {
		return nil, err
	}
	return out, nil
}

// Remove deletes the contexts of dst written for ref, with their cluster and
// user entries when no other context uses them, and returns the removed
// context names. A current context it removes is unset.
func Remove(dst *clientcmdapi.Config, ref ClusterRef) []string {
	var removed []string
	for name, ctx := range dst.Contexts {
		if owner, ok := Owner(ctx); ok && owner == ref {
			removed = append(removed, name)
		}
	}
	sort.Strings(removed)
	for _, name := range removed {
		ctx := dst.Contexts[name]
		delete(dst.Contexts, name)
		if !used(dst, func(c *clientcmdapi.Context) bool { return c.Cluster == ctx.Cluster }) {
			delete(dst.Clusters, ctx.Cluster)
		}
		if !used(dst, func(c *clientcmdapi.Context) bool { return c.AuthInfo == ctx.AuthInfo }) {
			delete(dst.AuthInfos, ctx.AuthInfo)
		}
		if dst.CurrentContext == name {
			dst.CurrentContext = ""
		}
	}
	return removed
}

// Owner returns the cluster a context was written for, if kubectl-hikube wrote it.
func Owner(ctx *clientcmdapi.Context) (ClusterRef, bool) {
	if ctx == nil {
		return ClusterRef{}, false
	}
	ext, ok := ctx.Extensions[ExtensionName]
	if !ok {
		return ClusterRef{}, false
	}
	var raw []byte
	switch e := ext.(type) {
	case *runtime.Unknown:
		raw = e.Raw
	default:
		b, err := json.Marshal(e)
		if err != nil {
			return ClusterRef{}, false
		}
		raw = b
	}
	var ref ClusterRef
	if err := json.Unmarshal(raw, &ref); err != nil || ref.Name == "" {
		return ClusterRef{}, false
	}
	return ref, true
}

// ContextsFor lists the contexts of dst written for ref, sorted.
func ContextsFor(dst *clientcmdapi.Config, ref ClusterRef) []string {
	var out []string
	for name, ctx := range dst.Contexts {
		if owner, ok := Owner(ctx); ok && owner == ref {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func marker(ref ClusterRef) runtime.Object {
	raw, _ := json.Marshal(ref)
	return &runtime.Unknown{Raw: raw, ContentType: runtime.ContentTypeJSON}
}

// chooseName picks the context name: the one asked for (free or ours), else
// the one an earlier merge of ref used, else <namespace>-<name> with a
// numeric suffix when something else holds that name.
func chooseName(dst *clientcmdapi.Config, ref ClusterRef, asked string) (string, error) {
	if asked != "" {
		if !free(dst, ref, asked) {
			return "", fmt.Errorf("context, cluster or user %q already exists in the kubeconfig and is not kubectl-hikube's for %s; choose another --context-name", asked, ref)
		}
		return asked, nil
	}
	if mine := ContextsFor(dst, ref); len(mine) > 0 {
		for _, n := range mine {
			if n == ref.DefaultContextName() {
				return n, nil
			}
		}
		return mine[0], nil
	}
	base := ref.DefaultContextName()
	name := base
	for i := 2; !free(dst, ref, name); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name, nil
}

// free says whether name may be (over)written for ref: nothing holds it, or
// the context of that name is ours for ref.
func free(dst *clientcmdapi.Config, ref ClusterRef, name string) bool {
	if ctx, ok := dst.Contexts[name]; ok {
		owner, mine := Owner(ctx)
		return mine && owner == ref
	}
	_, clusterTaken := dst.Clusters[name]
	_, userTaken := dst.AuthInfos[name]
	return !clusterTaken && !userTaken
}

func used(dst *clientcmdapi.Config, pred func(*clientcmdapi.Context) bool) bool {
	for _, c := range dst.Contexts {
		if pred(c) {
			return true
		}
	}
	return false
}

func ensureMaps(c *clientcmdapi.Config) {
	if c.Clusters == nil {
		c.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if c.AuthInfos == nil {
		c.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if c.Contexts == nil {
		c.Contexts = map[string]*clientcmdapi.Context{}
	}
}
