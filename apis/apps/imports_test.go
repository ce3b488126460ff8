package apps

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIsImportNothingOfPkg keeps dependencies pointing down: the API types,
// their defaults and static validation are imported by every client (the
// kubectl plugin among them) and must not pull in the platform's packages.
// Checks against what the platform offers belong in admission.
func TestAPIsImportNothingOfPkg(t *testing.T) {
	const forbidden = "github.com/hikube/hikube/pkg/"
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		pkg, err := build.ImportDir(path, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		for _, imp := range pkg.Imports { // not test imports: tests may use anything
			if strings.HasPrefix(imp, forbidden) {
				t.Errorf("apis/%s imports %s", filepath.ToSlash(strings.TrimPrefix(path, "../")), imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
