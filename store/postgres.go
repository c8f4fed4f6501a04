package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// Pool settings for PostgreSQL. Every instance has its own pool; ten
// connections per instance leave room for many instances under the default
// max_connections of 100.
const (
	pgConns          = 10
	pgConnIdleTime   = 5 * time.Minute
	pgConnectTimeout = 10 * time.Second // when the DSN sets no connect_timeout
)

// isPostgres reports whether dsn is a PostgreSQL connection URL.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// redact returns dsn without its password, for error messages and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable PostgreSQL URL)"
	}
	if u.Query().Has("password") {
		q := u.Query()
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// openPostgres opens a pool on the PostgreSQL database at dsn and migrates
// it. name is dsn without its password.
func openPostgres(ctx context.Context, dsn, name string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(pgConns)
	pool.SetMaxIdleConns(pgConns)
	pool.SetConnMaxIdleTime(pgConnIdleTime)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate database %s: %w", name, err)
	}
	return &DB{
		write: pool,
		read:  pool,
		// READ COMMITTED: what a Tx reads and writes back is guarded by
		// row locks (see pgDialect), so it needs no serialization retries.
		writeOpts: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		// One snapshot for the whole Read, as SQLite gives; a read-only
		// transaction never fails to serialize.
		readOpts: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		dialect:  pgDialect{},
	}, nil
}

// migratePostgres runs the goose migrations while holding an advisory lock,
// so instances that start at once migrate one after the other.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(migrationLock{}))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx) // provider.Close would close db: not called
	return err
}

// migrationLock is a goose SessionLocker on a PostgreSQL advisory lock. It
// waits for the lock (goose's own locker polls every 5 seconds) and keys it
// by schema: each schema has its own migrations and version table.
type migrationLock struct{}

const migrationLockKey = `hashtextextended('sparekey.migrate.' || coalesce(current_schema(), ''), 0)`

func (migrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+migrationLockKey+`)`)
	return err
}

func (migrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+migrationLockKey+`)`).Scan(&released); err != nil {
		return err
	} else if !released {
		return errors.New("migration lock was not held")
	}
	return nil
}

// pgDialect: $1…$n placeholders; READ COMMITTED transactions that lock
// what they read and write back; a failed statement ends the transaction.
type pgDialect struct{}

// rebind numbers the ? placeholders of query, leaving quoted text alone.
func (pgDialect) rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the open quote, 0 outside quotes
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (pgDialect) isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" // unique_violation
}

func (pgDialect) skipLocked() string { return "FOR UPDATE SKIP LOCKED" }

// rowLock takes the row as an UPDATE of non-key columns would: other
// writers of the row wait, while inserts that reference it (slots, events)
// do not.
func (pgDialect) rowLock() string { return "FOR NO KEY UPDATE" }

func (pgDialect) abortsTx() bool { return true }

func (pgDialect) nowMicros() string {
	return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
}

// serialize takes a transaction-scoped advisory lock on the 64-bit hash of
// the schema and the name: concurrent transactions on the same name queue,
// others (and other schemas sharing the database) do not.
func (pgDialect) serialize() string {
	return "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || ?, 0))"
}
