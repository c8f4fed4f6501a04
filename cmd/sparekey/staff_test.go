package main

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
)

// TestStaffAdd: "sparekey staff add" creates an account that can sign in to
// the running server, with the password read from standard input and
// stored only as an argon2id hash; bad input is refused with a message
// saying what is wrong, and no account is created.
func TestStaffAdd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const password = "a-long-enough-password"

	stdout, stderr, err := s.cli(password+"\n", []string{"staff", "add"},
		"--email", "Dana.Kim@Example.com", "--name", "Dana Kim", "--role", "maintenance", "--property", "Maple Court Apartments")
	if err != nil {
		t.Fatalf("staff add: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "Added Dana Kim (dana.kim@example.com), maintenance, for 1 property") {
		t.Errorf("staff add said %q", stdout)
	}
	if !strings.Contains(stderr, "Password for Dana.Kim@Example.com") {
		t.Errorf("staff add did not ask for the password on stderr: %q", stderr)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("staff add echoed the password")
	}
	dana := s.signIn("dana.kim@example.com", password)
	home := string(dana.get("/console/work-orders").body)
	if !strings.Contains(home, "Dana Kim · maintenance") || strings.Contains(home, `href="/console/residents"`) {
		t.Errorf("the new account's console:\n%s", home)
	}
	if r := dana.get("/console/residents"); r.status != http.StatusForbidden {
		t.Errorf("the new maintenance account opens the residents page: %d", r.status)
	}
	dump := pgtest.Dump(t, s.db)
	if !strings.Contains(dump, "dana.kim@example.com") || strings.Contains(dump, password) || !strings.Contains(dump, "$argon2id$") {
		t.Fatal("the account is not stored, or its password is stored other than as an argon2id hash")
	}

	// A manager with CRLF line ending and no --property works for every
	// property there is.
	if _, stderr, err := s.cli(password+"\r\n", []string{"staff", "add"}, "--email", "omar@example.com", "--role", "manager"); err != nil {
		t.Fatalf("staff add manager: %v\n%s", err, stderr)
	}
	if r := s.signIn("omar@example.com", password).get("/console/residents"); r.status != http.StatusOK || !strings.Contains(string(r.body), "Ana Ruiz") {
		t.Errorf("the new manager's residents page = %d", r.status)
	}

	var refused []string
	for _, c := range []struct {
		name, stdin, email string
		args               []string
		want               string
	}{
		{"short password", "short-pw\n", "short@example.com",
			[]string{"--email", "short@example.com", "--role", "maintenance"}, "at least 10 characters"},
		{"empty password", "", "empty@example.com",
			[]string{"--email", "empty@example.com", "--role", "maintenance"}, "no password on standard input"},
		{"bad role", password + "\n", "janitor@example.com",
			[]string{"--email", "janitor@example.com", "--role", "janitor"}, `The role must be manager or maintenance, not "janitor"`},
		{"duplicate email", password + "\n", "",
			[]string{"--email", "MANAGER@example.com", "--role", "manager"}, "There is already an account for manager@example.com"},
		{"unknown property", password + "\n", "nowhere@example.com",
			[]string{"--email", "nowhere@example.com", "--role", "maintenance", "--property", "Maple Court Apartments", "--property", "Nowhere Towers"}, `There is no property named "Nowhere Towers"`},
		{"not an email", password + "\n", "",
			[]string{"--email", "not-an-email", "--role", "maintenance"}, `"not-an-email" is not an email address`},
		{"no role", password + "\n", "norole@example.com",
			[]string{"--email", "norole@example.com"}, "--email and --role are required"},
		{"password as an argument", "", "arg@example.com",
			[]string{"--email", "arg@example.com", "--role", "maintenance", password}, "the password is read from standard input"},
	} {
		stdout, stderr, err := s.cli(c.stdin, []string{"staff", "add"}, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: staff add = %v, want an error saying %q", c.name, err, c.want)
		}
		if strings.Contains(stdout, "Added") {
			t.Errorf("%s: staff add said %q", c.name, stdout)
		}
		if c.stdin != "" && strings.Contains(stdout+stderr, strings.TrimSpace(c.stdin)) {
			t.Errorf("%s: the password was echoed", c.name)
		}
		if c.email == "" {
			continue
		}
		refused = append(refused, c.email)
		if r := s.signInAttempt(c.email, strings.TrimSpace(c.stdin), "/console/work-orders"); r.status != http.StatusUnauthorized {
			t.Errorf("%s: signing in as %s = %d, want 401", c.name, c.email, r.status)
		}
	}
	dump = pgtest.Dump(t, s.db)
	for _, email := range refused {
		if strings.Contains(dump, email) {
			t.Errorf("a refused staff add created an account for %s", email)
		}
	}
	// The duplicate left the existing manager as it was.
	s.signIn("manager@example.com", "demo-password")
	if r := s.signInAttempt("manager@example.com", password, "/console/work-orders"); r.status != http.StatusUnauthorized {
		t.Errorf("the duplicate's password signs the manager in: %d", r.status)
	}

	for _, args := range [][]string{{"staff"}, {"staff", "remove"}} {
		out, errOut := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
		err := run(t.Context(), append([]string{"sparekey"}, args...), func(string) string { return "" }, strings.NewReader(""), out, errOut)
		if err == nil || !strings.Contains(err.Error(), "usage: sparekey staff add") {
			t.Errorf("sparekey %v = %v, want the usage", args, err)
		}
	}
}

// TestStaffAddChecksBeforeAsking: a wrong email or role, or a database
// path that holds none, is refused before the password is asked for, and
// no empty database is left behind at a mistyped path.
func TestStaffAddChecksBeforeAsking(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "sparekye.db")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"bad role", []string{"--db", missing, "--email", "a@example.com", "--role", "janitor"}, `The role must be manager or maintenance, not "janitor"`},
		{"not an email", []string{"--db", missing, "--email", "not-an-email", "--role", "manager"}, `"not-an-email" is not an email address`},
		{"mistyped database", []string{"--db", missing, "--email", "a@example.com", "--role", "manager"}, "there is no database at " + missing + ": check --db"},
	} {
		out, errOut := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
		err := run(t.Context(), append([]string{"sparekey", "staff", "add"}, c.args...), func(string) string { return "" },
			strings.NewReader("a-long-enough-password\n"), out, errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: staff add = %v, want an error saying %q", c.name, err, c.want)
		}
		if strings.Contains(errOut.String(), "Password for") {
			t.Errorf("%s: staff add asked for the password before refusing: %q", c.name, errOut.String())
		}
	}
	for _, p := range []string{missing, missing + ".key"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused staff add left %s behind (%v)", p, err)
		}
	}

	// What only the database can tell is checked before the password too:
	// an email that has an account, a property that does not exist.
	db := filepath.Join(t.TempDir(), "sparekey.db")
	if _, _, err := importRun(t, nil, "--db", db, writeRoster(t, birchRoster)); err != nil {
		t.Fatal(err)
	}
	add := func(stdin string, args ...string) (error, string) {
		out, errOut := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
		err := run(t.Context(), append([]string{"sparekey", "staff", "add", "--db", db}, args...), func(string) string { return "" },
			strings.NewReader(stdin), out, errOut)
		return err, errOut.String()
	}
	if err, _ := add("a-long-enough-password\n", "--email", "lee@example.com", "--role", "manager"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"email taken", []string{"--email", "Lee@Example.com", "--role", "maintenance"}, "There is already an account for lee@example.com."},
		{"no such property", []string{"--email", "kim@example.com", "--role", "maintenance", "--property", "Brich Hall"}, `There is no property named "Brich Hall".`},
	} {
		err, errOut := add("a-long-enough-password\n", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: staff add = %v, want an error saying %q", c.name, err, c.want)
		}
		if strings.Contains(errOut, "Password for") {
			t.Errorf("%s: staff add asked for the password before refusing: %q", c.name, errOut)
		}
	}
	if err, _ := add("", "--email", "kim@example.com", "--role", "maintenance"); err == nil || !strings.Contains(err.Error(), "no password on standard input") {
		t.Errorf("staff add with nothing on standard input = %v", err)
	}
}

// TestHelp: every command's -h shows its usage with the flags written as
// the docs write them and says the environment can set them, and is not
// an error (main exits 0 on errHelp).
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "-h"}, {"import", "-h"}, {"import", "roster", "--help"}, {"staff", "-h"}, {"staff", "add", "-h"}, {"simulate", "-h"}} {
		out, errOut := &testkit.SyncBuffer{}, &testkit.SyncBuffer{}
		err := run(t.Context(), append([]string{"sparekey"}, args...), func(string) string { return "" }, strings.NewReader(""), out, errOut)
		if err != nil && !errors.Is(err, errHelp) {
			t.Errorf("%v: %v, want help", args, err)
		}
		text := out.String() + errOut.String()
		if !strings.Contains(text, "Usage: sparekey "+args[0]) || !strings.Contains(text, "\n  --db ") && args[0] != "simulate" ||
			!strings.Contains(text, "SPAREKEY_<NAME>") || strings.Contains(text, "\n  -db") {
			t.Errorf("%v printed:\n%s", args, text)
		}
	}
}
