// Package store keeps Sparekey's data in SQL. It speaks SQLite today
// (modernc.org/sqlite, no cgo) and is written so PostgreSQL can follow with
// the same queries: ? placeholders go through one dialect seam, ids come
// back with INSERT … RETURNING, times are BIGINT Unix microseconds in UTC
// and booleans are 0/1.
//
// Door codes and message bodies are sealed with the keyring before they
// reach the database; contacts and link tokens are kept only as keyed hashes.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"sparekey"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

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

// DB is the Sparekey store; it implements sparekey.Store.
type DB struct {
	// write has one connection: SQLite allows one writer at a time, so our
	// own writers queue here instead of failing with SQLITE_BUSY.
	write *sql.DB
	// read holds query_only connections for Read; WAL lets them read while
	// a write is under way. For an in-memory database it is write itself.
	read    *sql.DB
	keys    sparekey.Keyring
	dialect dialect
}

var (
	_ sparekey.Store = (*DB)(nil)
	_ sparekey.Tx    = (*tx)(nil)
)

// Open opens (creating it if needed) the SQLite database at dsn, a file
// path or a "file:" URI, and migrates it to the latest schema. ":memory:"
// works too, for demos: the whole store then shares one connection and Read
// is not enforced read-only.
func Open(ctx context.Context, dsn string, keys sparekey.Keyring) (*DB, error) {
	if keys == nil {
		return nil, errors.New("open store: no keyring")
	}
	if err := createPrivate(dsn); err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	write, err := openPool(ctx, dsn, sqliteWriter, 1)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("migrate database %s: %w", dsn, err)
	}
	if err := checkKey(ctx, write, keys); err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	read := write
	if !inMemory(dsn) {
		if read, err = openPool(ctx, dsn, sqliteReader, readerConns); err != nil {
			write.Close()
			return nil, err
		}
	}
	return &DB{write: write, read: read, keys: keys, dialect: sqliteDialect{}}, nil
}

func openPool(ctx context.Context, dsn, params string, conns int) (*sql.DB, error) {
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

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
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

// checkKey makes sure the keyring is the one that sealed this database.
// The first open records a keyed hash of a fixed text; every later open must
// reproduce it. A wrong key would otherwise start "fine" and fail later at
// every sealed code, and contacts would silently stop matching.
func checkKey(ctx context.Context, db *sql.DB, keys sparekey.Keyring) error {
	want := keys.Hash("key-check", "sparekey")
	var got string
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = db.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('key_check', ?)`, want)
		return err
	} else if err != nil {
		return err
	}
	if got != want {
		return errors.New("the secret key does not match this database: it was sealed with another key (restore the key file that belongs to it, or pass the right --secret-key)")
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var err error
	if db.read != db.write {
		err = db.read.Close()
	}
	return errors.Join(err, db.write.Close())
}

// Tx runs fn in a read-write transaction and commits when fn returns nil.
// Do not call Tx again from inside fn: writers queue on one connection.
func (db *DB) Tx(ctx context.Context, fn func(sparekey.Tx) error) error {
	return db.inTx(ctx, db.write, nil, fn)
}

// Read runs fn in a read-only transaction on the reader pool.
func (db *DB) Read(ctx context.Context, fn func(sparekey.Tx) error) error {
	return db.inTx(ctx, db.read, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) inTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(sparekey.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// A no-op after Commit. It also runs while a panic in fn unwinds, so the
	// transaction is rolled back and its connection freed before the panic
	// goes on.
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx, keys: db.keys, dialect: db.dialect}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// dialect is everything the queries need to know about the database they
// run on. Queries are written once, with ? placeholders.
type dialect interface {
	// rebind rewrites the ? placeholders of query into the database's own.
	rebind(query string) string
	// isUniqueViolation reports whether err is a unique-constraint violation.
	isUniqueViolation(err error) bool
}

type sqliteDialect struct{}

func (sqliteDialect) rebind(query string) string { return query }

func (sqliteDialect) isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) &&
		(e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// tx is one transaction; it implements sparekey.Tx. Every query goes
// through exec, query and queryRow, which apply the dialect.
type tx struct {
	tx      *sql.Tx
	keys    sparekey.Keyring
	dialect dialect
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.dialect.rebind(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.dialect.rebind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.dialect.rebind(query), args...)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.queryRow(ctx, query, args...).Scan(&id)
	return id, err
}

// update runs an UPDATE of one row and returns missing when there is no
// such row; conflict is as for fail.
func (t *tx) update(ctx context.Context, op string, missing error, conflict string, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return t.fail(err, op, conflict)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	} else if n == 0 {
		return missing
	}
	return nil
}

// fail translates a driver error: a unique-constraint violation becomes
// ECONFLICT with the readable conflict message (when one is given), anything
// else is wrapped with op.
func (t *tx) fail(err error, op, conflict string) error {
	if conflict != "" && t.dialect.isUniqueViolation(err) {
		return &sparekey.Error{Code: sparekey.ECONFLICT, Message: conflict}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func notFound(format string, args ...any) error {
	return sparekey.Errorf(sparekey.ENOTFOUND, format, args...)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// getOne runs a query for one row; no row is the missing error.
func getOne[T any](ctx context.Context, t *tx, op string, missing error, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(t.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return v, nil
}

// getAll runs a query and scans every row; no row is an empty slice.
func getAll[T any](ctx context.Context, t *tx, op string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// count runs a SELECT COUNT(*) query.
func (t *tx) count(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int
	if err := t.queryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// seal encrypts a secret for storage; an empty secret is stored as NULL.
func (t *tx) seal(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return t.keys.Seal([]byte(s))
}

// open reverses seal.
func (t *tx) open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	plain, err := t.keys.Open(sealed)
	return string(plain), err
}

// hashContact is the keyed hash stored next to a resident's email or phone;
// no contact hashes to "", which no lookup matches.
func (t *tx) hashContact(contact string) string {
	if contact == "" {
		return ""
	}
	return t.keys.Hash(sparekey.HashContact, contact)
}

// limitOrAll turns a limit of zero or less into "no limit".
func limitOrAll(limit int) int {
	if limit <= 0 {
		return math.MaxInt32
	}
	return limit
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Times are stored as Unix microseconds in UTC; nullable columns hold
// pointer fields.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timePtr(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := fromMicros(us.Int64)
	return &t
}

// nullID stores the id 0 ("none") as NULL so foreign keys hold.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
