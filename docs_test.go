package sparekey_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The repository stands alone (docs/security.md rule 24): these tests keep
// what its comments and docs point at in the repository. They run from
// the repository's root, where the root package's tests run.

// cited matches a Markdown file named in a comment, e.g. docs/api.md.
var cited = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)

// TestCommentsCiteRepositoryFiles: every Markdown file a Go comment names
// exists, as a path from the root (docs/api.md) or a file of the root or
// of docs/ (README.md, security.md).
func TestCommentsCiteRepositoryFiles(t *testing.T) {
	t.Parallel()
	exists := func(name string) bool {
		for _, p := range []string{name, filepath.Join("docs", name)} {
			if _, err := os.Stat(p); err == nil {
				return true
			}
		}
		return false
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, g := range f.Comments {
			for _, name := range cited.FindAllString(g.Text(), -1) {
				if !exists(strings.TrimPrefix(name, "../")) {
					t.Errorf("%s: a comment cites %s, which the repository does not have", fset.Position(g.Pos()), name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDocsLinkRepositoryFiles: every relative link of the README and of
// docs/*.md leads to a file or folder of the repository.
func TestDocsLinkRepositoryFiles(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range append(docs, "README.md") {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(text), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), target)); err != nil {
				t.Errorf("%s links %s, which the repository does not have", doc, m[1])
			}
		}
	}
}

// TestSecurityDocNamesRealTests: docs/security.md states all 24 rules,
// and every test it names for a rule is a function of the file it names,
// so the document cannot claim a check that was renamed, moved or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(text)
	for n := 1; n <= 24; n++ {
		if !regexp.MustCompile(`(?m)^\*\*` + strconv.Itoa(n) + `\. `).MatchString(doc) {
			t.Errorf("docs/security.md lacks rule %d", n)
		}
	}
	// A line names a test file, then its tests: - `lockout/link_test.go`: `TestA`, `TestB` (why)
	line := regexp.MustCompile("(?m)^- `([^`]+_test\\.go)`: (.*)$")
	name := regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]*)`")
	lines := line.FindAllStringSubmatch(doc, -1)
	if len(lines) < 24 {
		t.Fatalf("docs/security.md names tests on %d lines; the format is - `dir/x_test.go`: `TestName`", len(lines))
	}
	for _, l := range lines {
		src, err := os.ReadFile(l[1])
		if err != nil {
			t.Errorf("docs/security.md names %s: %v", l[1], err)
			continue
		}
		names := name.FindAllStringSubmatch(l[2], -1)
		if len(names) == 0 {
			t.Errorf("docs/security.md names %s without a test of it", l[1])
		}
		for _, n := range names {
			if !strings.Contains(string(src), "\nfunc "+n[1]+"(") {
				t.Errorf("docs/security.md names %s in %s, which has no such function", n[1], l[1])
			}
		}
	}
}

// TestDocsNameRealTests: a test that the README or docs/*.md names exists,
// somewhere in the repository.
func TestDocsNameRealTests(t *testing.T) {
	t.Parallel()
	funcs := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w*)\(`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			funcs[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`\b(?:Test|Fuzz|Benchmark)[A-Z]\w*`)
	for _, doc := range append(docs, "README.md") {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range named.FindAllString(string(text), -1) {
			if !funcs[n] {
				t.Errorf("%s names %s, which no test file has", doc, n)
			}
		}
	}
}
