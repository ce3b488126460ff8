package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/hikube/hikube/pkg/atomicfile"
	"github.com/hikube/hikube/pkg/clusterpki"
	"github.com/hikube/hikube/pkg/process"
	"github.com/hikube/hikube/pkg/provider"
)

// Bootstrap seeds. A kube-apiserver on a fresh etcd spends most of its
// start-up writing the same objects every time: the default RBAC roles and
// bindings, the system priority classes, the flow-control schemas and
// levels, one request at a time through its own API, and two of those
// post-start hooks wait a second before their first try. These objects
// depend on the binary alone, so the provider captures them once per
// kube-apiserver binary (a private etcd and kube-apiserver on loopback, which
// no tenant ever reaches: a tenant's own cluster is never the source, or one
// tenant's changes to a default role would reach the next) and writes them
// into each new cluster's etcd as it starts, each with a UID and creation
// time of its own. The hooks then find everything in place and only confirm
// it, and readiness need not wait for their second-long polls: /readyz of a
// seeded replica that runs the seed's binary excludes those two hooks.
// Everything else in a new etcd (namespaces, the kubernetes Service, leases,
// the client CA) is the cluster's own and is never seeded.

// seedPrefixes are the etcd key prefixes a seed holds.
var seedPrefixes = []string{
	"/registry/clusterroles/",
	"/registry/clusterrolebindings/",
	"/registry/roles/",
	"/registry/rolebindings/",
	"/registry/priorityclasses/",
	"/registry/flowschemas/",
	"/registry/prioritylevelconfigurations/",
}

// seededReadyz is /readyz without the two hooks whose objects a seed holds.
const seededReadyz = "/readyz?exclude=poststarthook/rbac/bootstrap-roles&exclude=poststarthook/scheduling/bootstrap-system-priority-classes"

// seedBuildTimeout bounds the private kube-apiserver a seed is captured
// from.
const seedBuildTimeout = 3 * time.Minute

// seed is the file a captured seed is kept in.
type seed struct {
	// Binary identifies the kube-apiserver binary that wrote the objects.
	Binary  string       `json:"binary"`
	Objects []seedObject `json:"objects"`
}

type seedObject struct {
	Key   string `json:"key"`
	Value []byte `json:"value"` // as kube-apiserver stored it (protobuf)
}

// seeds caches loaded seeds and the builds under way, by binary identity.
type seeds struct {
	loaded   map[string]*seed
	building map[string]bool
}

// binaryID identifies a binary file by path, size and modification time: a
// rebuilt binary gets a new seed.
func binaryID(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(path + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + fi.ModTime().UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:8]), nil
}

func (p *Provider) seedPath(id string) string {
	return filepath.Join(p.o.SeedDir, "seed-"+id+".json")
}

// seedFor returns the seed of minor's kube-apiserver, or nil when there is
// none yet, in which case one is captured in the background for the
// clusters that come later.
func (p *Provider) seedFor(minor string) (*seed, string) {
	if p.o.SeedDir == "" {
		return nil, ""
	}
	id, err := binaryID(p.binariesFor(minor).apiserver)
	if err != nil {
		return nil, ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.seeds.loaded[id]; s != nil {
		return s, id
	}
	if s, err := loadSeed(p.seedPath(id), id); err == nil {
		if p.seeds.loaded == nil {
			p.seeds.loaded = map[string]*seed{}
		}
		p.seeds.loaded[id] = s
		return s, id
	} else if !errors.Is(err, fs.ErrNotExist) {
		p.o.Log.Error(err, "Ignoring an unusable bootstrap seed; capturing it again", "path", p.seedPath(id))
	}
	if !p.seeds.building[id] {
		if p.seeds.building == nil {
			p.seeds.building = map[string]bool{}
		}
		p.seeds.building[id] = true
		go func() {
			start := time.Now()
			err := p.buildSeed(minor, id)
			p.mu.Lock()
			delete(p.seeds.building, id)
			p.mu.Unlock()
			if err != nil {
				p.o.Log.Error(err, "Capturing the bootstrap seed failed; new clusters bootstrap their etcd themselves", "minor", minor)
				return
			}
			p.o.Log.Info("Captured the bootstrap seed", "minor", minor, "path", p.seedPath(id), "duration", time.Since(start).Round(time.Millisecond))
		}()
	}
	return nil, ""
}

// loadSeed reads a seed file and checks that it is whole and what it claims.
func loadSeed(path, id string) (*seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s seed
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reading seed %s: %w", path, err)
	}
	if s.Binary != id {
		return nil, fmt.Errorf("seed %s is of binary %q, not %q", path, s.Binary, id)
	}
	if len(s.Objects) == 0 {
		return nil, fmt.Errorf("seed %s holds no object", path)
	}
	for _, o := range s.Objects {
		if !seedKey(o.Key) {
			return nil, fmt.Errorf("seed %s holds key %q outside the seeded kinds", path, o.Key)
		}
		if _, err := restamp(o.Value, time.Now()); err != nil {
			return nil, fmt.Errorf("seed %s, key %s: %w", path, o.Key, err)
		}
	}
	return &s, nil
}

func seedKey(key string) bool {
	for _, prefix := range seedPrefixes {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// buildSeed runs minor's kube-apiserver on a private etcd until /readyz,
// copies what it wrote under seedPrefixes and keeps it in SeedDir. The two
// processes are our children (they die with us), in a scratch directory.
func (p *Provider) buildSeed(minor, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), seedBuildTimeout)
	defer cancel()
	if err := os.MkdirAll(p.o.SeedDir, 0o700); err != nil {
		return fmt.Errorf("creating the seed directory: %w", err)
	}
	removeStaleSeedBuilds(p.o.SeedDir)
	dir, err := os.MkdirTemp(p.o.SeedDir, "build-")
	if err != nil {
		return fmt.Errorf("creating the seed's scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	f := files{dir: dir}
	var ports Ports
	if _, err := ensurePorts(&ports, 1, nil); err != nil {
		return err
	}
	ref := provider.ClusterRef{Namespace: "hikube-seed", Name: minor, UID: id}
	pkiData, err := clusterpki.Generate(ref)
	if err != nil {
		return fmt.Errorf("seed PKI: %w", err)
	}
	if err := ensureCerts(f, pkiData, endpoint(ports.APIServers[0])); err != nil {
		return fmt.Errorf("seed PKI: %w", err)
	}
	b := p.binariesFor(minor)
	var procs []*process.Process
	defer func() {
		hs := make([]process.Handle, len(procs))
		for i, proc := range procs {
			hs[i] = proc
		}
		_ = process.Stop(5*time.Second, hs...)
	}()
	for _, o := range []process.Options{
		{Name: "seed etcd", Binary: b.etcd, Args: etcdArgs(f, ports), LogPath: f.log(procEtcd)},
		{Name: "seed kube-apiserver", Binary: b.apiserver, Args: apiserverArgs(f, ports, 0, false), Env: processEnv(apiserverProc(0)), LogPath: f.log(apiserverProc(0))},
	} {
		o.Dir = dir
		proc, err := process.Start(o)
		if err != nil {
			return err
		}
		procs = append(procs, proc)
	}
	admin, err := adminConfig(f, ports.APIServers[0])
	if err != nil {
		return err
	}
	for {
		if _, err := get(ctx, admin, ports.APIServers[0], "/readyz"); err == nil {
			break
		}
		for _, proc := range procs {
			if proc.Exited() {
				return proc.ExitError()
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the seed's kube-apiserver was not ready within %s", seedBuildTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s := seed{Binary: id}
	if err := withEtcd(ctx, ports.EtcdClient, func(cli *clientv3.Client) error {
		for _, prefix := range seedPrefixes {
			resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
			if err != nil {
				return fmt.Errorf("reading %s: %w", prefix, err)
			}
			for _, kv := range resp.Kvs {
				s.Objects = append(s.Objects, seedObject{Key: string(kv.Key), Value: kv.Value})
			}
		}
		return nil
	}); err != nil {
		return err
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(p.seedPath(id), data, 0o600); err != nil {
		return fmt.Errorf("writing the seed: %w", err)
	}
	return nil
}

// removeStaleSeedBuilds removes the scratch directories of captures that
// cannot still run (their controller was killed: the processes died with
// it, the directory stayed). Another provider sharing the directory may be
// capturing right now, so only old ones go.
func removeStaleSeedBuilds(seedDir string) {
	dirs, _ := filepath.Glob(filepath.Join(seedDir, "build-*"))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 2*seedBuildTimeout {
			_ = os.RemoveAll(d)
		}
	}
}

// withEtcd runs fn with a client of the loopback etcd on port.
func withEtcd(ctx context.Context, port int, fn func(*clientv3.Client) error) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"http://127.0.0.1:" + strconv.Itoa(port)},
		DialTimeout: 5 * time.Second,
		Context:     ctx,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()
	return fn(cli)
}

// storageCodec reads and writes objects as kube-apiserver stores them.
var storageCodec = protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)

// restamp gives a stored object a new UID and creation time (and its
// managedFields entries that time), so that no two clusters share them.
func restamp(value []byte, now time.Time) ([]byte, error) {
	obj, gvk, err := storageCodec.Decode(value, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	t := metav1.NewTime(now.UTC().Truncate(time.Second))
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(t)
	mf := m.GetManagedFields()
	for i := range mf {
		mf[i].Time = &t
	}
	m.SetManagedFields(mf)
	obj.GetObjectKind().SetGroupVersionKind(*gvk)
	var buf strings.Builder
	if err := storageCodec.Encode(obj, &buf); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", gvk, err)
	}
	return []byte(buf.String()), nil
}

// applySeed writes the seed's objects into a new cluster's etcd once it
// answers, each only where the key is still absent (a kube-apiserver hook
// that got there first keeps its object), and returns when every seeded key
// exists.
func applySeed(ctx context.Context, port int, s *seed) error {
	for !etcdHealthy(ctx, port) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd did not answer: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	now := time.Now()
	var cmps []clientv3.Cmp
	var puts []clientv3.Op
	for _, o := range s.Objects {
		v, err := restamp(o.Value, now)
		if err != nil {
			return fmt.Errorf("key %s: %w", o.Key, err)
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(o.Key), "=", 0))
		puts = append(puts, clientv3.OpPut(o.Key, string(v)))
	}
	return withEtcd(ctx, port, func(cli *clientv3.Client) error {
		for from := 0; from < len(cmps); from += seedTxnOps {
			to := min(from+seedTxnOps, len(cmps))
			// A batch at once, which is the usual case; key by key when
			// something was there already.
			resp, err := cli.Txn(ctx).If(cmps[from:to]...).Then(puts[from:to]...).Commit()
			if err != nil {
				return fmt.Errorf("writing the seed: %w", err)
			}
			if resp.Succeeded {
				continue
			}
			for i := from; i < to; i++ {
				if _, err := cli.Txn(ctx).If(cmps[i]).Then(puts[i]).Commit(); err != nil {
					return fmt.Errorf("writing the seed: %w", err)
				}
			}
		}
		return nil
	})
}

// seedTxnOps stays under etcd's default --max-txn-ops (128).
const seedTxnOps = 100

// seededMarker names the file that says a cluster's etcd got the seed of
// which kube-apiserver binary.
func (f files) seededMarker() string { return filepath.Join(f.dir, "bootstrap-seeded") }

// readyzPath is the readiness path of a replica running apiserverBinary:
// without the seeded hooks when the cluster's etcd got that binary's seed.
func readyzPath(f files, apiserverBinary string) string {
	data, err := os.ReadFile(f.seededMarker())
	if err != nil {
		return "/readyz"
	}
	id, err := binaryID(apiserverBinary)
	if err != nil || id != strings.TrimSpace(string(data)) {
		return "/readyz"
	}
	return seededReadyz
}

// seedNewEtcd applies the seed of minor, if there is one, to the etcd just
// started on a new data directory, in the background: the kube-apiserver
// started beside it reaches the seeded kinds no sooner than a second after
// it serves. Success is marked for readyzPath; a failure only costs the
// speed.
func (r *round) seedNewEtcd(minor string) {
	s, id := r.p.seedFor(minor)
	if s == nil {
		return
	}
	_ = os.Remove(r.f.seededMarker())
	port, marker, log := r.st.Ports.EtcdClient, r.f.seededMarker(), r.log
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := applySeed(ctx, port, s); err != nil {
			log.Error(err, "Seeding a new etcd failed; its kube-apiserver bootstraps it itself")
			return
		}
		// Not atomicfile.Write: that would make the directory again if the
		// cluster was deleted meanwhile. A torn marker reads as no seed.
		if err := os.WriteFile(marker, []byte(id+"\n"), 0o600); err != nil {
			log.Error(err, "Marking the etcd seeded")
			return
		}
		log.V(2).Info("Seeded a new etcd", "objects", len(s.Objects), "duration", time.Since(start).Round(time.Millisecond))
	}()
}
