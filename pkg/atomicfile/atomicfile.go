// Package atomicfile writes files that readers must never see half-written:
// certificates and keys, kubeconfigs, pid and state files. The data goes to a
// temporary file in the same directory, which is then renamed over the target;
// a reader sees the old content or the new one, never a mix, and a crash
// leaves at most a stray temporary file.
package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// dirMode is the mode of directories Write creates: they hold credentials.
const dirMode = 0o700

// Write replaces path with data, mode set before the file gets its name, so
// that a key is never readable by others even for a moment. Missing parent
// directories are created with mode 0700.
func Write(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("writing %s: creating directory: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Without the sync a crash right after the rename can leave an empty
	// file under the new name on some filesystems.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteIfChanged is Write unless path already holds exactly data (its mode is
// then left as it is). It reports whether it wrote. Callers that run in a loop
// use it so that an unchanged file keeps its modification time and costs no
// write.
func WriteIfChanged(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := Write(path, data, mode); err != nil {
		return false, err
	}
	return true, nil
}
