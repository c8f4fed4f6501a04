package store

import (
	"io/fs"
	"slices"
	"testing"
)

func TestPostgresRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`WHERE a = ? AND b IN (?, ?) LIMIT ?`, `WHERE a = $1 AND b IN ($2, $3) LIMIT $4`},
		{`WHERE a = '?' AND b = ?`, `WHERE a = '?' AND b = $1`},
		{`WHERE a = 'it''s ?' AND "odd?" = ?`, `WHERE a = 'it''s ?' AND "odd?" = $1`},
	} {
		if got := (pgDialect{}).rebind(c.in); got != c.want {
			t.Errorf("rebind(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Every migration exists for both databases under the same version and
// name, so goose keeps them at the same schema version.
func TestMigrationSetsMatch(t *testing.T) {
	names := func(dir string) []string {
		entries, err := fs.ReadDir(migrations, dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names("migrations/sqlite"), names("migrations/postgres")
	if len(sqlite) == 0 || !slices.Equal(sqlite, postgres) {
		t.Errorf("migrations differ:\nsqlite:   %v\npostgres: %v", sqlite, postgres)
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:secret@db:5432/x?sslmode=disable", "postgres://u:xxxxx@db:5432/x?sslmode=disable"},
		{"postgres://u@db/x?password=secret", "postgres://u@db/x?password=xxxxx"},
		{"postgres://db/x", "postgres://db/x"},
		{"postgres://u:secret@db:port/x", "(unparsable PostgreSQL URL)"},
	} {
		if got := redact(c.in); got != c.want {
			t.Errorf("redact(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
