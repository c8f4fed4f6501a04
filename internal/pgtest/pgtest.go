// Package pgtest gives tests their own PostgreSQL schema in the database
// named by SPAREKEY_TEST_POSTGRES, so tests on one server can run in
// parallel. Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
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
