// Package store keeps Sparekey's data in SQL, on SQLite (modernc.org/sqlite,
// no cgo) for a single process or on PostgreSQL (jackc/pgx through
// database/sql) for many instances. Open picks the database by its DSN.
//
// Both databases run the same queries. They are written once with ?
// placeholders and portable SQL (INSERT … RETURNING, ON CONFLICT, times as
// BIGINT Unix microseconds in UTC, booleans as 0/1, no LIKE, no NULL
// ordering); the small dialect interface holds the few things that differ:
// placeholder syntax, unique-violation codes, row-locking clauses and
// whether a failed statement ends the transaction. The two migration sets
// (migrations/sqlite, migrations/postgres) mirror each other version for
// version and column for column; a test compares them.
//
// Concurrency: on SQLite one writer connection serializes every Tx. On
// PostgreSQL a Tx is READ COMMITTED, so whatever is read and then written
// back is protected explicitly: the claim queries take their rows with FOR
// UPDATE SKIP LOCKED, and a read-write transaction that reads a lock (Lock,
// LockByDevice, SlotsByLock) or a backup link owns that row until it commits.
// Read is a REPEATABLE READ, READ ONLY transaction: one snapshot, like a
// SQLite read transaction.
//
// The tests run every storage test on SQLite, and on PostgreSQL too when
// SPAREKEY_TEST_POSTGRES holds a connection URL (each test in a schema of
// its own).
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
	"math"
	"strings"
	"time"

	"sparekey"
)

// migrations holds both goose migration sets. They keep the same version
// numbers: a new migration is added to both.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is the Sparekey store; it implements sparekey.Store.
type DB struct {
	// write runs Tx and read runs Read. On SQLite write has one connection
	// (one writer at a time, so our own writers queue here instead of
	// failing with SQLITE_BUSY) and read holds query_only connections; on
	// PostgreSQL, or an in-memory SQLite, they are the same pool.
	write, read *sql.DB
	// writeOpts and readOpts begin Tx and Read transactions.
	writeOpts, readOpts *sql.TxOptions
	keys                sparekey.Keyring
	dialect             dialect
	// claimant names the instance in the claims this store makes.
	claimant sql.NullString
}

// ClaimAs names the instance whose claims this store makes (the cluster's
// instance id): each claimed row records it, so that the instance, started
// again under the same id after a crash, can take its claims back at once
// (ReleaseClaims). Call it before any claim; without it claims name nobody.
func (db *DB) ClaimAs(id string) { db.claimant = sql.NullString{String: id, Valid: id != ""} }

var (
	_ sparekey.Store = (*DB)(nil)
	_ sparekey.Tx    = (*tx)(nil)
)

// Open opens the database at dsn and migrates it to the latest schema.
//
// A dsn starting with postgres:// or postgresql:// is a PostgreSQL
// connection URL (libpq's parameters, plus search_path=… to use a schema
// other than public); several instances may open the same database at once.
// Anything else is a SQLite file path or "file:" URI, created if needed;
// ":memory:" works too, for demos: the whole store then shares one
// connection and Read is not enforced read-only.
//
// Open refuses a keyring other than the one that first opened the database.
func Open(ctx context.Context, dsn string, keys sparekey.Keyring) (*DB, error) {
	if keys == nil {
		return nil, errors.New("open store: no keyring")
	}
	var db *DB
	var name string // dsn as errors may show it
	var err error
	if isPostgres(dsn) {
		name = redact(dsn)
		db, err = openPostgres(ctx, dsn, name)
	} else {
		name = dsn
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	db.keys = keys
	if err := checkKey(ctx, db, keys); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	return db, nil
}

// checkKey makes sure the keyring is the one that sealed this database.
// The first open records a keyed hash of a fixed text; every later open must
// reproduce it. A wrong key would otherwise start "fine" and fail later at
// every sealed code, and contacts would silently stop matching. The insert
// does nothing if the row is there, so instances opening a new database at
// once agree on the first key.
func checkKey(ctx context.Context, db *DB, keys sparekey.Keyring) error {
	want := keys.Hash("key-check", "sparekey")
	_, err := db.write.ExecContext(ctx, db.dialect.rebind(
		`INSERT INTO meta (name, value) VALUES ('key_check', ?) ON CONFLICT (name) DO NOTHING`), want)
	if err != nil {
		return err
	}
	var got string
	if err := db.write.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&got); err != nil {
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
// Do not call Tx again from inside fn: on SQLite writers queue on one
// connection, and on PostgreSQL the inner transaction could wait for rows
// the outer one holds.
func (db *DB) Tx(ctx context.Context, fn func(sparekey.Tx) error) error {
	return db.inTx(ctx, db.write, db.writeOpts, fn)
}

// Read runs fn in a read-only transaction.
func (db *DB) Read(ctx context.Context, fn func(sparekey.Tx) error) error {
	return db.inTx(ctx, db.read, db.readOpts, fn)
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
	if err := fn(&tx{tx: sqlTx, keys: db.keys, dialect: db.dialect, claimant: db.claimant, readOnly: opts != nil && opts.ReadOnly}); err != nil {
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
	// skipLocked is the locking clause that ends a claim's SELECT, so that
	// concurrent claimers skip each other's rows instead of waiting for
	// them; "" where writers are serialized anyway.
	skipLocked() string
	// rowLock is the locking clause that ends a read a read-write
	// transaction will write back, so no other transaction changes the row
	// in between; "" where writers are serialized anyway.
	rowLock() string
	// abortsTx reports whether a failed statement ends the whole
	// transaction (PostgreSQL) instead of only itself (SQLite).
	abortsTx() bool
	// nowMicros is an SQL expression of the database's clock in Unix
	// microseconds: one clock for every instance, whatever their hosts say.
	nowMicros() string
	// serialize is the statement that takes a named lock held to the end
	// of the transaction (one ? for the name); "" where writers are
	// serialized anyway.
	serialize() string
}

// tx is one transaction; it implements sparekey.Tx. Every query goes
// through exec, query and queryRow, which apply the dialect.
type tx struct {
	tx       *sql.Tx
	keys     sparekey.Keyring
	dialect  dialect
	claimant sql.NullString
	readOnly bool
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

// insert runs an INSERT … RETURNING id and returns the id. Errors are
// translated by fail; conflict is as for fail.
func (t *tx) insert(ctx context.Context, op, conflict, query string, args ...any) (int64, error) {
	var id int64
	err := t.mayConflict(ctx, conflict, func() error {
		return t.queryRow(ctx, query, args...).Scan(&id)
	})
	if err != nil {
		return 0, t.fail(err, op, conflict)
	}
	return id, nil
}

// update runs an UPDATE of one row and returns missing when there is no
// such row; conflict is as for fail.
func (t *tx) update(ctx context.Context, op string, missing error, conflict string, query string, args ...any) error {
	var res sql.Result
	err := t.mayConflict(ctx, conflict, func() (err error) {
		res, err = t.exec(ctx, query, args...)
		return err
	})
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

// mayConflict runs a statement that may break a unique constraint, which a
// caller may take as ECONFLICT and go on with the transaction. SQLite undoes
// only the failed statement; PostgreSQL would end the whole transaction, so
// there the statement runs in a savepoint that its failure rolls back to.
// Statements with no expected conflict (conflict == "") run bare: any error
// of theirs is a bug that ends the transaction anyway.
func (t *tx) mayConflict(ctx context.Context, conflict string, stmt func() error) error {
	if conflict == "" || !t.dialect.abortsTx() {
		return stmt()
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT may_conflict"); err != nil {
		return err
	}
	if err := stmt(); err != nil {
		if _, rbErr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT may_conflict"); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT may_conflict")
	return err
}

// rowLock is the dialect's row-locking clause in a read-write transaction,
// "" in a read-only one (which cannot lock rows and writes nothing back).
func (t *tx) rowLock() string {
	if t.readOnly {
		return ""
	}
	return t.dialect.rowLock()
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
