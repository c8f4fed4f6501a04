package sparekey_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers is docs/architecture.md's map, top down: a package may import
// only packages of lower layers, never one of its own layer or above. A
// new package gets a line here (and on the map) before it can be built.
var layers = [][]string{
	{"cmd/sparekey"},
	{"web"},
	{"lockout", "resident", "roster", "upkeep", "staff", "audit", "access"},
	{"sim"},
	{"z2m", "zwave"},
	{"device", "notify", "cluster", "metrics"},
	{"locale", "contact", "secret", "loop"},
	{"store"},
	{""}, // the root package: the domain
}

// TestImportsPointDown keeps the map true: every import between the
// repository's packages (tests and internal/ test helpers aside) goes from
// a higher layer to a lower one, so there are no cycles and a capability
// never builds on another.
func TestImportsPointDown(t *testing.T) {
	t.Parallel()
	layer := map[string]int{}
	for i, names := range layers {
		for _, n := range names {
			layer[n] = i
		}
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || path == "internal") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if pkg == "." {
			pkg = ""
		}
		from, ok := layer[pkg]
		if !ok {
			if !seen[pkg] {
				t.Errorf("package %q is not on the map: add it to layers here and to docs/architecture.md", pkg)
			}
			seen[pkg] = true
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != "sparekey" && !strings.HasPrefix(p, "sparekey/") {
				continue
			}
			to := strings.TrimPrefix(strings.TrimPrefix(p, "sparekey"), "/")
			if l, ok := layer[to]; ok && l <= from {
				t.Errorf("%s imports %s: %q is not below %q on the map (docs/architecture.md)", path, p, to, pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
