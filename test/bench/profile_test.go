package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// profileDuring takes CPU profiles of kube-apiserver and hikube-apiserver
// while a sub-benchmark runs, when HIKUBE_BENCH_PROFILE names a directory:
// both servers serve /debug/pprof (--profiling, on by default) to the admin.
// The profiles last HIKUBE_BENCH_PROFILE_SECONDS (10 by default), so run the
// benchmark with a -benchtime that lasts longer. The returned function waits
// for them and writes <dir>/<name>-<server>.pprof (and <name>-client.pprof
// for this process). Without the variable it does nothing.
func profileDuring(b *testing.B, name string) (wait func()) {
	dir := os.Getenv("HIKUBE_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	secs := 10
	if s, err := strconv.Atoi(os.Getenv("HIKUBE_BENCH_PROFILE_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	servers := map[string]rest.Interface{"kube-apiserver": env.kube.CoreV1().RESTClient()}
	if env.directKube != nil {
		servers["hikube-apiserver"] = env.directKube.CoreV1().RESTClient()
	}
	var wg sync.WaitGroup
	// The client too (this process: the benchmark's requests and watchers),
	// to tell its share of the 2 cores from the servers'.
	if f, err := os.Create(filepath.Join(dir, name+"-client.pprof")); err != nil {
		b.Logf("profile of the client during %s: %v", name, err)
	} else if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Logf("profile of the client during %s: %v", name, err)
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(secs) * time.Second)
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	for server, rc := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+60)*time.Second)
			defer cancel()
			raw, err := rc.Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(secs)).DoRaw(ctx)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.pprof", name, server)), raw, 0o644)
			}
			if err != nil {
				b.Logf("profile of %s during %s: %v", server, name, err)
			}
		}()
	}
	return wg.Wait
}
