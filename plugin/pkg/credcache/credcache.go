// Package credcache keeps the client certificates `kubectl-hikube
// credential` was issued, on disk, until shortly before they expire. kubectl
// runs an exec credential plugin for every command (it caches only within
// one process), and each run would otherwise ask the API server to sign a new
// certificate. The files hold private keys: mode 0600 in a 0700 directory
// under the user's cache directory, written atomically, and a file that
// others may read is never used.
package credcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hikube/hikube/pkg/atomicfile"
)

// DefaultRenewBefore is how long before its expiry a cached certificate is
// no longer handed out: a command started with it must not see it expire.
const DefaultRenewBefore = 5 * time.Minute

// Entry is one cached credential.
type Entry struct {
	// Expires is when the certificate expires (its NotAfter).
	Expires               time.Time `json:"expires"`
	ClientCertificateData string    `json:"clientCertificateData"`
	ClientKeyData         string    `json:"clientKeyData"`
}

// Cache is a directory of entries.
type Cache struct {
	Dir         string
	RenewBefore time.Duration    // 0: DefaultRenewBefore
	Now         func() time.Time // nil: time.Now
}

// DefaultDir is kubectl-hikube/credentials in the user's cache directory
// ($XDG_CACHE_HOME, else ~/.cache, on Linux).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(base, "kubectl-hikube", "credentials"), nil
}

// Key names the entry of a cluster for one caller: the cluster's namespace
// and name, readable, and a digest of everything else that makes the
// credential differ (host API server, context, user, impersonation,
// viewer, lifetime), so that two identities never share an entry.
func Key(namespace, name string, identity ...string) string {
	h := sha256.Sum256([]byte(strings.Join(identity, "\x00")))
	return namespace + "_" + name + "_" + hex.EncodeToString(h[:8])
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) renewBefore() time.Duration {
	if c.RenewBefore > 0 {
		return c.RenewBefore
	}
	return DefaultRenewBefore
}

// Get returns the entry of key if it is there, private and still fresh.
func (c *Cache) Get(key string) (*Entry, bool) {
	p := c.path(key)
	info, err := os.Stat(p)
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o077 != 0 {
		return nil, false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil || e.ClientCertificateData == "" || e.ClientKeyData == "" {
		return nil, false
	}
	if !c.now().Add(c.renewBefore()).Before(e.Expires) {
		return nil, false
	}
	return &e, true
}

// Put stores e under key.
func (c *Cache) Put(key string, e Entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return atomicfile.Write(c.path(key), data, 0o600)
}

// RemoveCluster drops every entry of cluster namespace/name: a cluster
// re-created under the same name has a new CA, and a certificate of the old
// one would be refused until it expired. Names are DNS labels, so the
// "namespace_name_" prefix of Key is unambiguous.
func (c *Cache) RemoveCluster(namespace, name string) error {
	matches, err := filepath.Glob(filepath.Join(c.Dir, namespace+"_"+name+"_*.json"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Remove drops the entry of key; a missing one is not an error.
func (c *Cache) Remove(key string) error {
	if err := os.Remove(c.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
