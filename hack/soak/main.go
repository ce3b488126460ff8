// Command soak loads a local platform for a bounded time (`make soak`): N
// tenants each create a cluster, scale it with kubectl hikube, upgrade it and
// delete it, again and again, concurrently, through kubectl and client-go.
// It counts every error (409 conflicts are retried and counted apart),
// samples the memory of hikube-apiserver and hikube-controller after the
// warm-up and at the end, checks that every cluster is accounted for, and
// prints the figures docs/reliability.md records. Loopback only: it starts
// its own platform in a temporary directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/hikube/hikube/apis/apps/v1alpha1"
	clientset "github.com/hikube/hikube/pkg/generated/clientset/versioned"
	"github.com/hikube/hikube/pkg/localplatform"
	"github.com/hikube/hikube/pkg/platform"
)

func main() {
	duration := flag.Duration("duration", 10*time.Minute, "how long tenants keep starting new rounds")
	tenants := flag.Int("tenants", 20, "concurrent tenants")
	warmup := flag.Duration("warmup", 2*time.Minute, "when the first memory sample is taken")
	binDir := flag.String("bin-dir", filepath.Join("_output", "bin"), "the platform's binaries")
	flag.Parse()
	if err := run(*duration, *warmup, *tenants, *binDir); err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
		os.Exit(1)
	}
}

// stats are one tenant's counts.
type stats struct {
	rounds, conflicts int
	errs              []string
}

func run(duration, warmup time.Duration, tenants int, binDir string) error {
	home, err := os.MkdirTemp("", "hikube-soak-")
	if err != nil {
		return err
	}
	ctx := context.Background()
	bin, err := filepath.Abs(binDir)
	if err != nil {
		return err
	}
	p, err := localplatform.Start(ctx, localplatform.Options{Home: home, BinDir: bin, Log: os.Stderr, Supervise: true})
	if err != nil {
		return fmt.Errorf("starting the platform (logs in %s): %w", home, err)
	}
	defer func() { _ = p.Stop() }()

	admin, err := p.RESTConfig("admin")
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	kubeconfigs := make([]string, tenants)
	for i := range tenants {
		ns, user := fmt.Sprintf("soak-%02d", i), fmt.Sprintf("soak-user-%02d", i)
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{platform.TenantLabel: ns}}}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("tenant %s: %w", ns, err)
		}
		if err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", p.KubeconfigPath("admin"), "create", "rolebinding",
			user+"-admin", "-n", ns, "--clusterrole", "admin", "--user", user).Run(); err != nil {
			return fmt.Errorf("binding %s: %w", user, err)
		}
		if kubeconfigs[i], err = p.NewUserKubeconfig(user); err != nil {
			return err
		}
	}

	deadline := time.Now().Add(duration)
	results := make([]stats, tenants)
	var wg sync.WaitGroup
	for i := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = tenant(ctx, bin, fmt.Sprintf("soak-%02d", i), kubeconfigs[i], deadline)
		}()
	}
	time.Sleep(min(warmup, duration))
	warm := memory(p)
	wg.Wait()
	end := memory(p)

	// Every cluster accounted for: all were deleted, nothing is left behind.
	hikube, err := clientset.NewForConfig(admin)
	if err != nil {
		return err
	}
	var left []string
	for i := range tenants {
		list, err := hikube.AppsV1alpha1().Clusters(fmt.Sprintf("soak-%02d", i)).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, c := range list.Items {
			left = append(left, c.Namespace+"/"+c.Name)
		}
		if dirs, _ := os.ReadDir(filepath.Join(p.ClustersDir(), fmt.Sprintf("soak-%02d", i))); len(dirs) > 0 {
			left = append(left, fmt.Sprintf("%d state directories of soak-%02d", len(dirs), i))
		}
	}

	var rounds, conflicts int
	var errs []string
	for _, r := range results {
		rounds += r.rounds
		conflicts += r.conflicts
		errs = append(errs, r.errs...)
	}
	sort.Strings(errs)
	fmt.Printf("soak: %d tenants for %s: %d rounds (create, scale, upgrade, delete), %d conflicts retried, %d errors, %d left over\n",
		tenants, duration, rounds, conflicts, len(errs), len(left))
	for name, w := range warm {
		e := end[name]
		fmt.Printf("soak: %s RSS %d MiB after warm-up, %d MiB at the end (%+.0f%%)\n", name, w>>20, e>>20, 100*(float64(e)-float64(w))/float64(w))
	}
	for _, e := range errs {
		fmt.Printf("soak: error: %s\n", e)
	}
	for _, l := range left {
		fmt.Printf("soak: left over: %s\n", l)
	}
	if len(errs) > 0 || len(left) > 0 {
		return fmt.Errorf("%d errors, %d left over (platform state in %s)", len(errs), len(left), home)
	}
	for name, w := range warm {
		if e := end[name]; float64(e) > 1.2*float64(w) {
			return fmt.Errorf("%s grew from %d to %d MiB (more than 20%%)", name, w>>20, e>>20)
		}
	}
	_ = os.RemoveAll(home)
	return nil
}

// tenant runs rounds until the deadline: create (client-go), scale
// (kubectl hikube), upgrade (client-go), delete (kubectl hikube).
func tenant(ctx context.Context, bin, ns, kubeconfig string, deadline time.Time) stats {
	var s stats
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		s.errs = append(s.errs, err.Error())
		return s
	}
	hikube, err := clientset.NewForConfig(cfg)
	if err != nil {
		s.errs = append(s.errs, err.Error())
		return s
	}
	clusters := hikube.AppsV1alpha1().Clusters(ns)
	fail := func(round int, step string, err error) {
		s.errs = append(s.errs, fmt.Sprintf("%s round %d %s: %v", ns, round, step, err))
	}
	kubectl := func(args ...string) error {
		// kubectl wants a plugin's flags after the plugin's name.
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), append(args, "--kubeconfig", kubeconfig, "-n", ns)...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	wait := func(name, what string, cond func(*v1alpha1.Cluster) bool) error {
		for end := time.Now().Add(6 * time.Minute); time.Now().Before(end); time.Sleep(time.Second) {
			c, err := clusters.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cond(c) {
				return nil
			}
		}
		return fmt.Errorf("not %s within 6 minutes", what)
	}
	ready := func(c *v1alpha1.Cluster) bool {
		for _, cond := range c.Status.Conditions {
			if cond.Type == v1alpha1.ConditionReady && cond.Status == metav1.ConditionTrue {
				return true
			}
		}
		return false
	}
	for round := 0; time.Now().Before(deadline); round++ {
		name := "c" + strconv.Itoa(round)
		c := &v1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ClusterSpec{Version: "v1.36",
			NodeGroups: map[string]v1alpha1.NodeGroup{"workers": {MinReplicas: ptr.To[int32](1), MaxReplicas: ptr.To[int32](2), InstanceType: "u1.large"}}}}
		if _, err := clusters.Create(ctx, c, metav1.CreateOptions{}); err != nil {
			fail(round, "create", err)
			return s
		}
		if err := wait(name, "Ready", ready); err != nil {
			fail(round, "create", err)
		}
		if err := kubectl("hikube", "scale", name, "--node-group", "workers", "--min", "2", "--max", "3"); err != nil {
			fail(round, "scale", err)
		} else if err := wait(name, "scaled to 2 nodes", func(c *v1alpha1.Cluster) bool {
			g, ok := c.Status.NodeGroups["workers"]
			return ok && g.ReadyReplicas >= 2
		}); err != nil {
			fail(round, "scale", err)
		}
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := clusters.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Spec.Version = "v1.37"
			_, err = clusters.Update(ctx, cur, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				s.conflicts++
			}
			return err
		})
		if err != nil {
			fail(round, "upgrade", err)
		} else if err := wait(name, "upgraded", func(c *v1alpha1.Cluster) bool {
			return ready(c) && strings.HasPrefix(c.Status.Version, "v1.37")
		}); err != nil {
			fail(round, "upgrade", err)
		}
		if err := kubectl("hikube", "delete", "cluster", name, "--yes"); err != nil {
			fail(round, "delete", err)
		}
		err = wait(name, "deleted", func(*v1alpha1.Cluster) bool { return false })
		if !apierrors.IsNotFound(err) && !errors.Is(err, context.Canceled) {
			fail(round, "delete", fmt.Errorf("still there: %v", err))
			return s
		}
		s.rounds++
	}
	return s
}

// memory samples the resident memory of hikube's two processes.
func memory(p *localplatform.Platform) map[string]int64 {
	out := map[string]int64{}
	for _, name := range []string{"hikube-apiserver", "hikube-controller"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID(name)))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				out[name] = kb << 10
			}
		}
	}
	return out
}
