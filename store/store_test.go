package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"sparekey"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/secret"
	"sparekey/store"
)

// forEachDB runs test on a fresh database of every kind the store speaks.
// Every storage test goes through here, so the one suite covers them all.
func forEachDB(t *testing.T, test func(t *testing.T, db *store.DB)) {
	t.Helper()
	forEachDSN(t, func(t *testing.T, dsn string) {
		test(t, openDB(t, dsn))
	})
}

// forEachDSN runs test with the DSN of a fresh, empty database of every
// kind: a SQLite file, and a PostgreSQL schema of its own when
// SPAREKEY_TEST_POSTGRES is set.
func forEachDSN(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, filepath.Join(t.TempDir(), "sparekey.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, freshPostgres(t))
	})
}

// freshPostgres returns a DSN of an empty schema of its own (pgtest.Schema).
func freshPostgres(t *testing.T) string { return pgtest.Schema(t) }

// openDB opens the store at dsn and closes it when the test ends.
func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, secret.ForTest())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// inTx runs fn in a committed transaction; fn may fail the test itself.
func inTx(t *testing.T, db *store.DB, fn func(tx sparekey.Tx)) {
	t.Helper()
	if err := db.Tx(t.Context(), func(tx sparekey.Tx) error { fn(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sparekey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func ptr[T any](v T) *T { return &v }

// fixture is the property, unit, resident and lock most tests start from.
type fixture struct {
	property *sparekey.Property
	unit     *sparekey.Unit
	resident *sparekey.Resident
	lock     *sparekey.Lock
}

func seed(t *testing.T, db *store.DB) fixture {
	t.Helper()
	var f fixture
	inTx(t, db, func(tx sparekey.Tx) {
		f.property = &sparekey.Property{Name: "Maple Court", Timezone: "America/New_York", CreatedAt: testkit.T0}
		must(t, tx.CreateProperty(t.Context(), f.property))
		f.unit = &sparekey.Unit{PropertyID: f.property.ID, Name: "101"}
		must(t, tx.CreateUnit(t.Context(), f.unit))
		f.resident = &sparekey.Resident{UnitID: f.unit.ID, Name: "Ada", Email: "ada@example.com", Phone: "+15555550101", CreatedAt: testkit.T0}
		must(t, tx.CreateResident(t.Context(), f.resident))
		f.lock = newLock(f.unit.ID, "unit-101-front")
		must(t, tx.CreateLock(t.Context(), f.lock))
	})
	return f
}

func newLock(unitID int64, device string) *sparekey.Lock {
	return &sparekey.Lock{UnitID: unitID, Device: device, Name: "Front door", Adapter: "sim",
		SlotCount: 10, CodeMin: 4, CodeMax: 8, State: sparekey.LockStateUnknown, Battery: -1}
}

func newSlot(lockID int64, number int, code string) *sparekey.Slot {
	return &sparekey.Slot{LockID: lockID, Number: number, Purpose: sparekey.SlotGuest, Code: code,
		Sync: sparekey.SyncPending, NextSyncAt: testkit.T0}
}

func ids[T any](items []*T) []int64 {
	out := []int64{}
	for _, it := range items {
		out = append(out, reflect.ValueOf(it).Elem().FieldByName("ID").Int())
	}
	return out
}

func TestOpenFailsNamingThePath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no-such-dir", "sparekey.db")
	db, err := store.Open(t.Context(), path, secret.ForTest())
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a path in a missing directory")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

// Opening a file again (a restart, a second process) runs the migrations
// again without harm, and both stores can write at once: BEGIN IMMEDIATE
// and the busy timeout make the second writer wait instead of failing.
func TestOpenSameFileTwice(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sparekey.db")
	first := openDB(t, path)
	second := openDB(t, "file:"+path)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		db := first
		if i%2 == 1 {
			db = second
		}
		wg.Go(func() {
			errs <- db.Tx(t.Context(), func(tx sparekey.Tx) error {
				// Read before writing: a transaction that started as a reader
				// could not take the write lock after the other store wrote.
				if _, err := tx.Locks(t.Context()); err != nil {
					return err
				}
				return tx.CreateProperty(t.Context(), &sparekey.Property{Name: fmt.Sprint("p", i), Timezone: "UTC", CreatedAt: testkit.T0})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	must(t, first.Read(t.Context(), func(tx sparekey.Tx) error {
		_, err := tx.PropertyByName(t.Context(), "p19")
		return err
	}))
}

func TestOpenInMemory(t *testing.T) {
	t.Parallel()
	db := openDB(t, ":memory:")
	inTx(t, db, func(tx sparekey.Tx) {
		must(t, tx.CreateProperty(t.Context(), &sparekey.Property{Name: "Elm", Timezone: "UTC", CreatedAt: testkit.T0}))
	})
	must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
		_, err := tx.PropertyByName(t.Context(), "Elm")
		return err
	}))
}

func TestTxRollsBackOnError(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		boom := errors.New("boom")
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			p := &sparekey.Property{Name: "Half", Timezone: "UTC", CreatedAt: testkit.T0}
			must(t, tx.CreateProperty(t.Context(), p))
			must(t, tx.CreateUnit(t.Context(), &sparekey.Unit{PropertyID: p.ID, Name: "1"}))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want boom", err)
		}
		err = db.Read(t.Context(), func(tx sparekey.Tx) error {
			_, err := tx.PropertyByName(t.Context(), "Half")
			return err
		})
		wantCode(t, err, sparekey.ENOTFOUND)
	})
}

func TestTxRollsBackOnPanic(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		recovered := func() (r any) {
			defer func() { r = recover() }()
			db.Tx(t.Context(), func(tx sparekey.Tx) error {
				must(t, tx.CreateProperty(t.Context(), &sparekey.Property{Name: "Panic", Timezone: "UTC", CreatedAt: testkit.T0}))
				panic("boom")
			})
			return nil
		}()
		if recovered != "boom" {
			t.Fatalf("recovered %v, want the panic to go on", recovered)
		}
		// The writer connection is free again and nothing was kept.
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			_, err := tx.PropertyByName(t.Context(), "Panic")
			return err
		})
		wantCode(t, err, sparekey.ENOTFOUND)
	})
}

func TestReadIsReadOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		err := db.Read(t.Context(), func(tx sparekey.Tx) error {
			return tx.CreateProperty(t.Context(), &sparekey.Property{Name: "Sneaky", Timezone: "UTC", CreatedAt: testkit.T0})
		})
		if err == nil {
			t.Fatal("a write inside Read succeeded")
		}
		err = db.Read(t.Context(), func(tx sparekey.Tx) error {
			_, err := tx.PropertyByName(t.Context(), "Sneaky")
			return err
		})
		wantCode(t, err, sparekey.ENOTFOUND)
	})
}

// Writers from many goroutines queue on the writer instead of failing with
// SQLITE_BUSY, while readers keep reading.
func TestConcurrentTx(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each*2)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					errs <- db.Tx(t.Context(), func(tx sparekey.Tx) error {
						p := &sparekey.Property{Name: fmt.Sprintf("p-%d-%d", w, i), Timezone: "UTC", CreatedAt: testkit.T0}
						if err := tx.CreateProperty(t.Context(), p); err != nil {
							return err
						}
						return tx.CreateUnit(t.Context(), &sparekey.Unit{PropertyID: p.ID, Name: "1"})
					})
				}
			})
			wg.Go(func() {
				for range each {
					errs <- db.Read(t.Context(), func(tx sparekey.Tx) error {
						_, err := tx.Locks(t.Context())
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			for w := range writers {
				for i := range each {
					if _, err := tx.PropertyByName(t.Context(), fmt.Sprintf("p-%d-%d", w, i)); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	})
}

// Door codes and message bodies never reach the database in plain text.
func TestSecretsAreSealedAtRest(t *testing.T) {
	const code, body, html = "48151623", "Your link: https://example.test/b/T0KEN-IN-BODY", "<a href=x>T0KEN-IN-HTML</a>"
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		inTx(t, db, func(tx sparekey.Tx) {
			must(t, tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 0, code)))
			must(t, tx.CreateMessage(t.Context(), &sparekey.Message{Channel: sparekey.ChannelEmail, To: f.resident.Email,
				Subject: "Your backup code", Body: body, HTML: html, Kind: "backup_link",
				Status: sparekey.MessageQueued, NextAttemptAt: testkit.T0, CreatedAt: testkit.T0}))
		})
		rows := dump(t, db, "slots") + dump(t, db, "messages")
		if !strings.Contains(rows, "Your backup code") {
			t.Fatalf("dump misses the plain subject, so it proves nothing:\n%s", rows)
		}
		for _, secret := range []string{code, "T0KEN-IN-BODY", "T0KEN-IN-HTML"} {
			if strings.Contains(rows, secret) {
				t.Errorf("%q is stored in plain text:\n%s", secret, rows)
			}
		}
		// And they read back in plain text.
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			slots, err := tx.SlotsByLock(t.Context(), f.lock.ID)
			must(t, err)
			msgs, err := tx.Messages(t.Context(), "", 0)
			must(t, err)
			if slots[0].Code != code || msgs[0].Body != body || msgs[0].HTML != html {
				t.Errorf("read back code %q, body %q, html %q", slots[0].Code, msgs[0].Body, msgs[0].HTML)
			}
			return nil
		}))
	})
}

func dump(t *testing.T, db *store.DB, table string) string {
	t.Helper()
	s, err := store.DumpTable(t.Context(), db, table)
	must(t, err)
	return s
}

// The same, checked on the bytes of the SQLite files themselves.
func TestSecretsAreNotInTheSQLiteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.Open(t.Context(), filepath.Join(dir, "sparekey.db"), secret.ForTest())
	must(t, err)
	f := seed(t, db)
	inTx(t, db, func(tx sparekey.Tx) {
		must(t, tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 0, "48151623")))
		must(t, tx.CreateMessage(t.Context(), &sparekey.Message{Channel: sparekey.ChannelSMS, To: f.resident.Phone,
			Subject: "", Body: "Open https://example.test/b/T0KEN-IN-BODY", Kind: "backup_link",
			Status: sparekey.MessageQueued, NextAttemptAt: testkit.T0, CreatedAt: testkit.T0}))
	})
	files, err := filepath.Glob(filepath.Join(dir, "sparekey.db*")) // with -wal and -shm
	must(t, err)
	var all []byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		must(t, err)
		all = append(all, b...)
	}
	must(t, db.Close())
	if !strings.Contains(string(all), f.resident.Email) {
		t.Fatal("the files miss the plain email, so the check proves nothing")
	}
	for _, secret := range []string{"48151623", "T0KEN-IN-BODY"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("%q is in the database file in plain text", secret)
		}
	}
}

func TestOpenRefusesAnotherKey(t *testing.T) {
	forEachDSN(t, func(t *testing.T, dsn string) {
		db, err := store.Open(t.Context(), dsn, secret.ForTest())
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		other, _ := secret.New(bytes.Repeat([]byte{9}, secret.KeySize))
		if _, err := store.Open(t.Context(), dsn, other); err == nil || !strings.Contains(err.Error(), "secret key does not match") {
			t.Fatalf("Open with another key = %v", err)
		}
		db, err = store.Open(t.Context(), dsn, secret.ForTest())
		if err != nil {
			t.Fatalf("reopen with the right key: %v", err)
		}
		db.Close()
	})
}

// A PostgreSQL DSN may carry a password; errors name the database without it.
func TestOpenPostgresErrorHidesThePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://sparekey:hunter2@127.0.0.1:1/sparekey?sslmode=disable",
		"postgresql://sparekey@127.0.0.1:1/sparekey?sslmode=disable&password=hunter2",
	} {
		db, err := store.Open(t.Context(), dsn, secret.ForTest())
		if err == nil {
			db.Close()
			t.Fatalf("Open(%s) succeeded on a closed port", dsn)
		}
		if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Open(%s) error %q shows the password or misses the host", dsn, err)
		}
	}
}

// On PostgreSQL a failed statement would end the transaction; the store
// makes a conflict end only the statement, as on SQLite, so a caller can
// take ECONFLICT and go on.
func TestConflictLeavesTxUsable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		f := seed(t, db)
		back := newLock(f.unit.ID, "unit-101-back")
		inTx(t, db, func(tx sparekey.Tx) {
			wantCode(t, tx.CreateProperty(t.Context(), &sparekey.Property{Name: f.property.Name, Timezone: "UTC", CreatedAt: testkit.T0}), sparekey.ECONFLICT)
			must(t, tx.CreateLock(t.Context(), back))
			back.Device = f.lock.Device
			wantCode(t, tx.UpdateLock(t.Context(), back), sparekey.ECONFLICT)
			must(t, tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 0, "")))
			wantCode(t, tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 0, "")), sparekey.ECONFLICT)
			must(t, tx.CreateSlot(t.Context(), newSlot(f.lock.ID, 1, "")))
		})
		must(t, db.Read(t.Context(), func(tx sparekey.Tx) error {
			slots, err := tx.SlotsByLock(t.Context(), f.lock.ID)
			if len(slots) != 2 {
				t.Errorf("%d slots after the conflicts, want 2", len(slots))
			}
			_, lockErr := tx.LockByDevice(t.Context(), "unit-101-back")
			return errors.Join(err, lockErr)
		}))
	})
}

func TestNewDatabaseFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sparekey.db")
	db, err := store.Open(t.Context(), path, secret.ForTest())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("new database file mode %v, want 0600", perm)
	}
}

func TestMeta(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		err := db.Tx(t.Context(), func(tx sparekey.Tx) error {
			if _, err := tx.Meta(t.Context(), "dev_clock_offset"); sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
				t.Errorf("unset setting: %v", err)
			}
			for _, v := range []string{"31m0s", "1h2m0s"} {
				if err := tx.SetMeta(t.Context(), "dev_clock_offset", v); err != nil {
					return err
				}
				if got, err := tx.Meta(t.Context(), "dev_clock_offset"); err != nil || got != v {
					t.Errorf("Meta = %q, %v; want %q", got, err, v)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// The two migration sets build the same tables, columns, types (by their
// PostgreSQL names) and indexes.
func TestSchemasMatch(t *testing.T) {
	t.Parallel()
	pg := openDB(t, freshPostgres(t))
	lite := openDB(t, filepath.Join(t.TempDir(), "sparekey.db"))
	want, err := store.Schema(t.Context(), lite)
	must(t, err)
	got, err := store.Schema(t.Context(), pg)
	must(t, err)
	if len(want) < 20 {
		t.Fatalf("the SQLite schema has only %d lines, so the check proves nothing:\n%s", len(want), strings.Join(want, "\n"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("schemas differ:\n--- postgres\n%s\n--- sqlite\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
