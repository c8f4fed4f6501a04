package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"sparekey"
	"sparekey/access"
	"sparekey/roster"
	"sparekey/store"
)

// importRoster adds the residents of a CSV roster: the whole file or
// nothing. Each resident gets a fresh access code on their unit's locks,
// programmed by the server's reconciler.
func importRoster(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import roster", stderr)
	db := fs.String("db", "sparekey.db", "SQLite file, or a postgres:// URL")
	region := fs.String("default-region", "US", "region for phone numbers written without a country code")
	secretKey := fs.String("secret-key", "", "32-byte master key, hex or base64 (default: the key file next to the SQLite file)")
	poolSize := fs.Int("pool-size", 3, "backup codes kept programmed on every new lock")
	rest, err := envFlags(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("usage: sparekey import roster --db DB FILE.csv (one file)")
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
	codes := access.New(access.Config{Store: st, Clock: clock, PoolSize: *poolSize})
	if err := roster.Add(ctx, st, codes, clock, entries); err != nil {
		return fmt.Errorf("%s: %w (nothing was imported)", rest[0], err)
	}
	noun := "residents"
	if len(entries) == 1 {
		noun = "resident"
	}
	fmt.Fprintf(stdout, "Imported %d %s from %s into %s. Their access codes go onto the locks when sparekey serve runs.\n", len(entries), noun, rest[0], *db)
	return nil
}
