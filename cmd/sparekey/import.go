package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sparekey"
	"sparekey/access"
	"sparekey/roster"
	"sparekey/store"
)

// importRoster adds the residents of a CSV roster: the whole file or
// nothing. Each resident gets a fresh access code on their unit's locks,
// programmed by the server's reconciler.
func importRoster(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import roster", "FILE.csv", stderr)
	db := fs.String("db", "sparekey.db", "SQLite file, or a postgres:// URL")
	region := fs.String("default-region", "US", "region for phone numbers written without a country code")
	secretKey := fs.String("secret-key", "", "32-byte master key, hex or base64 (default: the key file next to the SQLite file)")
	poolSize := fs.Int("pool-size", 3, "backup codes kept programmed on every new lock")
	welcome := fs.Bool("welcome", false, "email each new resident how to see their door code and what to do when locked out (needs --base-url); sent when sparekey serve runs")
	baseURL := fs.String("base-url", "", "public URL of the server, for the links in the welcome emails")
	rest, err := envFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("usage: sparekey import roster --db DB [--welcome --base-url URL] FILE.csv (one file)")
	}
	if *welcome {
		// No default from an address here: the import runs without the
		// server, and a welcome must link to where residents reach it.
		if *baseURL == "" {
			return fmt.Errorf("--welcome needs --base-url, the public URL residents open (e.g. https://keys.example.com)")
		}
		if *baseURL, err = checkBaseURL(*baseURL); err != nil {
			return err
		}
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := roster.ParseCSV(f, *region)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", rest[0], err)
	}
	// Importing into a new database is how a deployment starts (and the
	// load check does it), but a mistyped --db should not pass unnoticed.
	file, keyFile := strings.TrimSuffix(keyFilePath(*db), ".key"), keyFilePath(*db)
	created, keyCreated := false, false
	if !isPostgres(*db) {
		_, err := os.Stat(file)
		created = errors.Is(err, os.ErrNotExist)
		_, err = os.Stat(keyFile)
		keyCreated = errors.Is(err, os.ErrNotExist) && *secretKey == ""
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
	clock := sparekey.SystemClock{}
	codes := access.New(access.Config{Store: st, Clock: clock, PoolSize: *poolSize}).Codes
	people := &roster.Directory{Store: st, Codes: codes, Clock: clock, BaseURL: *baseURL}
	if err := people.Add(ctx, entries, "system", *welcome); err != nil {
		if created { // leave no empty database behind, nor its key
			st.Close()
			for _, p := range []string{file, file + "-wal", file + "-shm"} {
				os.Remove(p)
			}
			if keyCreated {
				os.Remove(keyFile)
			}
		}
		return fmt.Errorf("%s: %w (nothing was imported)", rest[0], err)
	}
	if created {
		fmt.Fprintf(stdout, "%s did not exist: created a new database there (its key is in %s; back both up).\n", *db, keyFilePath(*db))
	}
	fmt.Fprintf(stdout, "Imported %d %s from %s into %s. Their access codes go onto the locks when sparekey serve runs.\n",
		len(entries), plural(len(entries), "resident", "residents"), rest[0], *db)
	if *welcome {
		fmt.Fprintf(stdout, "%d welcome %s queued, with links to %s; they are sent when sparekey serve runs.\n",
			len(entries), plural(len(entries), "email", "emails"), *baseURL)
	}
	return nil
}
