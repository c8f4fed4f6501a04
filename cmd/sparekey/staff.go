package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sparekey"
	"sparekey/staff"
	"sparekey/store"
)

// Demo staff accounts, printed at start-up in demo mode.
var demoStaff = []staff.NewAccount{
	{Email: "manager@example.com", Name: "Maya Patel", Role: sparekey.RoleManager, Password: "demo-password"},
	{Email: "maintenance@example.com", Name: "Luis Romero", Role: sparekey.RoleMaintenance, Password: "demo-password"},
}

// seedDemoStaff makes sure the demo's two staff accounts exist, working for
// the demo property.
func seedDemoStaff(ctx context.Context, team *staff.Service) error {
	for _, a := range demoStaff {
		a.Properties = []string{"Maple Court Apartments"}
		if _, err := team.Add(ctx, a); err != nil && sparekey.ErrorCode(err) != sparekey.ECONFLICT {
			return err
		}
	}
	return nil
}

// staffCommand runs "sparekey staff add": it creates a staff account. The
// password is read from standard input (one line), never from a flag that
// would show in ps.
func staffCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		args = []string{"add", "-h"}
	}
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: sparekey staff add --db DB --email EMAIL --role manager|maintenance [--name NAME] [--property NAME]... (password on standard input)")
	}
	fs := newFlagSet("staff add", "(the password is read from standard input)", stderr)
	db := fs.String("db", "sparekey.db", "database: a SQLite file or a postgres:// URL")
	secretKey := fs.String("secret-key", "", "the server's secret key (default: the key file next to a SQLite database)")
	email := fs.String("email", "", "the account's email (its sign-in name)")
	name := fs.String("name", "", "the person's name as the console shows it (default: the email)")
	role := fs.String("role", "", "manager (everything) or maintenance (work orders and locks)")
	var props multiFlag
	fs.Var(&props, "property", "a property the account works for, by `NAME`; repeat for several (default: every property there is now)")
	rest, err := envFlags(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("staff add: unexpected argument %q (the password is read from standard input)", rest[0])
	}
	if *email == "" || *role == "" {
		return fmt.Errorf("staff add: --email and --role are required")
	}
	if err := (staff.NewAccount{Email: *email, Role: sparekey.StaffRole(*role)}).Check(); err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	if !isPostgres(*db) && !strings.Contains(*db, "mode=memory") && *db != ":memory:" {
		// A mistyped path would otherwise leave a new, empty database.
		if _, err := os.Stat(strings.TrimSuffix(keyFilePath(*db), ".key")); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("staff add: there is no database at %s: check --db (sparekey serve or sparekey import roster creates one)", *db)
		}
	}
	keys, _, err := loadKeys(*secretKey, *db)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *db, keys)
	if err != nil {
		return err
	}
	defer st.Close()
	team := staff.New(staff.Config{Store: st, Keys: keys, Clock: sparekey.SystemClock{}})
	acct := staff.NewAccount{Email: *email, Name: *name, Role: sparekey.StaffRole(*role), Properties: props}
	// Everything but the password first: nobody types one for nothing.
	if err := team.CheckNew(ctx, acct); err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	fmt.Fprintf(stderr, "Password for %s (at least %d characters, then Enter): ", *email, staff.MinPasswordLength)
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	fmt.Fprintln(stderr)
	acct.Password = strings.TrimRight(line, "\r\n")
	if acct.Password == "" {
		return fmt.Errorf("staff add: no password on standard input (type it, or pipe it in: printf '%%s\\n' \"$PASSWORD\" | sparekey staff add ...)")
	}
	created, err := team.Add(ctx, acct)
	if err != nil {
		return fmt.Errorf("staff add: %w", err)
	}
	fmt.Fprintf(stdout, "Added %s (%s), %s, for %d %s. Sign in at /console/sign-in.\n",
		created.Name, created.Email, created.Role, len(created.Properties), plural(len(created.Properties), "property", "properties"))
	return nil
}

// multiFlag is a flag that may be given several times.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ", ") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
