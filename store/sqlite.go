package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Connection settings. The writer's BEGIN IMMEDIATE takes the write lock up
// front, so a transaction never fails half-way upgrading a read lock; the
// busy timeout covers other processes on the same file. synchronous(FULL)
// syncs every commit: a 202 must survive a power cut, not only a crash.
const (
	sqliteCommon = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	sqliteWriter = sqliteCommon + "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	sqliteReader = sqliteCommon + "&_pragma=query_only(1)"
	readerConns  = 4
)

// openSQLite opens (creating it if needed) the SQLite database at dsn with
// a writer and a reader pool, and migrates it.
func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	if err := createPrivate(dsn); err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	write, err := openSQLitePool(ctx, dsn, sqliteWriter, 1)
	if err != nil {
		return nil, err
	}
	if err := migrateSQLite(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate database %s: %w", dsn, err)
	}
	read := write
	if !inMemory(dsn) {
		if read, err = openSQLitePool(ctx, dsn, sqliteReader, readerConns); err != nil {
			write.Close()
			return nil, err
		}
	}
	return &DB{write: write, read: read, readOpts: &sql.TxOptions{ReadOnly: true}, dialect: sqliteDialect{}}, nil
}

func openSQLitePool(ctx context.Context, dsn, params string, conns int) (*sql.DB, error) {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	pool, err := sql.Open("sqlite", dsn+sep+params)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	pool.SetMaxOpenConns(conns)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	return pool, nil
}

// createPrivate creates a new database file readable by its owner only (it
// holds residents' emails, phones and the audit trail); SQLite gives its
// -wal and -shm files the same mode. An existing file is left as it is.
func createPrivate(dsn string) error {
	if inMemory(dsn) {
		return nil
	}
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	} else if err != nil {
		return err
	}
	return f.Close()
}

// inMemory reports whether dsn names an in-memory database, which exists
// only inside one connection.
func inMemory(dsn string) bool {
	return dsn == ":memory:" || strings.HasPrefix(dsn, "file::memory:") || strings.Contains(dsn, "mode=memory")
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx) // provider.Close would close db: not called
	return err
}

// sqliteDialect: ? placeholders as they are; one writer at a time, so no
// row locks are needed; a failed statement undoes only itself.
type sqliteDialect struct{}

func (sqliteDialect) rebind(query string) string { return query }

func (sqliteDialect) isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) &&
		(e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func (sqliteDialect) skipLocked() string { return "" }

func (sqliteDialect) rowLock() string { return "" }

func (sqliteDialect) abortsTx() bool { return false }

func (sqliteDialect) serialize() string { return "" }

func (sqliteDialect) nowMicros() string { return "CAST(unixepoch('subsec') * 1000000 AS INTEGER)" }
