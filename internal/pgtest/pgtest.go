// Package pgtest gives tests their own PostgreSQL schema in the database
// named by SPAREKEY_TEST_POSTGRES, so tests on one server can run in
// parallel. Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// Env is the variable that names the test database.
const Env = "SPAREKEY_TEST_POSTGRES"

// Schema creates an empty schema and returns a DSN that uses it; the
// schema is dropped when the test ends. Without SPAREKEY_TEST_POSTGRES the
// test is skipped with a message saying how to run it.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		t.Skip("PostgreSQL not tested: set " + Env + ", e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	schema := "sparekey_test_" + strings.ToLower(rand.Text())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	// Registered before anything of the test opens the schema, so it runs
	// after their cleanups have closed it.
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // a run-time parameter, sent when pgx connects
	u.RawQuery = q.Encode()
	return u.String()
}

// StoreEnv chooses the database the capability packages' tests run on:
// "postgres" runs them on a schema of their own in SPAREKEY_TEST_POSTGRES;
// anything else (the default) on a fresh SQLite file. .ci/run runs the
// whole suite both ways.
const StoreEnv = "SPAREKEY_TEST_STORE"

// OnPostgres reports whether tests run on PostgreSQL.
func OnPostgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// DSN returns a fresh, empty database for a test: a SQLite file in the
// test's temporary directory, or with SPAREKEY_TEST_STORE=postgres a
// PostgreSQL schema of its own.
func DSN(t testing.TB) string {
	t.Helper()
	if OnPostgres() {
		if os.Getenv(Env) == "" {
			t.Fatalf("%s=postgres needs %s", StoreEnv, Env)
		}
		return Schema(t)
	}
	return filepath.Join(t.TempDir(), "sparekey.db")
}

// Dump returns every row of every table of the database at dsn (a SQLite
// file or a PostgreSQL DSN from Schema) as text, table by table, in
// insertion order, with byte values in hex: for tests that check nothing
// was written, or that a secret was never stored.
func Dump(t testing.TB, dsn string) string {
	t.Helper()
	driver, list := "sqlite", `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	order, conn := "rowid", dsn+"?_pragma=query_only(1)"
	if strings.HasPrefix(dsn, "postgres") {
		driver, conn, order = "pgx", dsn, "1"
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var tables []string
	rows, err := db.QueryContext(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables in %s", len(tables), dsn)
	}
	var out strings.Builder
	for _, table := range tables {
		fmt.Fprintf(&out, "== %s\n", table)
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY `+order)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", bs)
				}
				fmt.Fprintf(&out, "%s=%v ", cols[i], v)
			}
			out.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out.String()
}
