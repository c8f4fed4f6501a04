package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sparekey/secret"
)

// envFlags sets every flag of fs that has no value on the command line from
// SPAREKEY_<NAME> (upper case, dashes as underscores), then parses args.
// Flags may come before or after positional arguments.
func envFlags(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SPAREKEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %v", name, e)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// errHelp ends a command after -h printed its flags: not a failure.
var errHelp = errors.New("help shown")

// newFlagSet is a subcommand's flag set; its usage text shows the flags
// as the docs write them (--db) and says each can be set from the
// environment. operands names what follows the flags.
func newFlagSet(name, operands string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\nFlags (each can also be set in the environment as SPAREKEY_<NAME>, e.g. SPAREKEY_DB):\n", strings.TrimSpace("sparekey "+name+" [flags] "+operands))
		fs.VisitAll(func(f *flag.Flag) {
			arg, usage := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if arg != "" {
				line += " " + arg
			}
			line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				def := f.DefValue
				if arg == "string" {
					def = strconv.Quote(def)
				}
				line += " (default " + def + ")"
			}
			fmt.Fprintln(w, line)
		})
	}
	return fs
}

// isHelp reports whether a command-line word asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// isPostgres reports whether --db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// loadKeys returns the master key from --secret-key, or from a 0600 key file
// next to the SQLite database (created on first run).
func loadKeys(secretKey, db string) (*secret.Keyring, string, error) {
	if secretKey != "" {
		key, err := secret.ParseKey(secretKey)
		if err != nil {
			return nil, "", fmt.Errorf("--secret-key: %w", err)
		}
		k, err := secret.New(key)
		return k, "", err
	}
	if isPostgres(db) {
		return nil, "", fmt.Errorf("--secret-key (or SPAREKEY_SECRET_KEY) is required with a PostgreSQL database")
	}
	if db == ":memory:" || strings.Contains(db, "mode=memory") {
		key := make([]byte, secret.KeySize) // lives as long as the database: this process
		if _, err := rand.Read(key); err != nil {
			return nil, "", err
		}
		k, err := secret.New(key)
		return k, "", err
	}
	path := keyFilePath(db)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if info, err := os.Stat(strings.TrimSuffix(path, ".key")); err == nil && info.Size() > 0 {
			return nil, "", fmt.Errorf("the key file %s is missing, but the database next to it exists: restore the key file (or pass --secret-key); a new key could not read the codes in it", path)
		}
	}
	key, err := secret.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, "", err
	}
	k, err := secret.New(key)
	return k, path, err
}

func keyFilePath(db string) string {
	p := strings.TrimPrefix(db, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return filepath.Clean(p) + ".key"
}

// checkBaseURL requires an absolute http(s) URL without query or fragment.
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--base-url must be an absolute http(s) URL such as https://sparekey.example.com, got %q", s)
	}
	return strings.TrimRight(s, "/"), nil
}
