package roster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/roster"
)

// testBundle is a fresh SQLite store with the access service as the
// roster's Codes, on a clock that stands still.
type testBundle struct {
	ctx   context.Context
	db    *testkit.DB
	clock *sparekey.OffsetClock
	codes *access.Codes
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := t.Context()
	db := testkit.OpenDB(t)
	clock := sparekey.NewFixedClock(testkit.T0)
	codes := access.New(access.Config{Store: db, Clock: clock}).Codes
	return &testBundle{ctx: ctx, db: db, clock: clock, codes: codes}
}

// add imports a CSV file's text; it gives up after 10 s so that a store
// left locked by an earlier failure fails the test instead of hanging it.
func (b *testBundle) add(t testing.TB, file string) error {
	t.Helper()
	entries, err := roster.ParseCSV(strings.NewReader(file), "US")
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return roster.Add(ctx, b.db, b.codes, b.clock, entries)
}

func (b *testBundle) mustAdd(t testing.TB, file string) {
	t.Helper()
	if err := b.add(t, file); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) read(t testing.TB, fn func(tx sparekey.Tx) error) {
	t.Helper()
	b.db.MustRead(t, fn)
}
func (b *testBundle) slots(t testing.TB, device string) []*sparekey.Slot {
	t.Helper()
	return b.db.Slots(t, device)
}

// residentSlots returns the resident's access code slots by lock device.
func (b *testBundle) residentSlots(t testing.TB, r *sparekey.Resident) map[string]*sparekey.Slot {
	t.Helper()
	out := map[string]*sparekey.Slot{}
	b.read(t, func(tx sparekey.Tx) error {
		locks, err := tx.Locks(b.ctx)
		if err != nil {
			return err
		}
		for _, l := range locks {
			slots, err := tx.SlotsByLock(b.ctx, l.ID)
			if err != nil {
				return err
			}
			for _, sl := range slots {
				if sl.Purpose == sparekey.SlotResident && sl.ResidentID == r.ID {
					if out[l.Device] != nil {
						t.Errorf("resident %d has two slots on %s", r.ID, l.Device)
					}
					out[l.Device] = sl
				}
			}
		}
		return nil
	})
	return out
}

func (b *testBundle) resident(t testing.TB, email string) *sparekey.Resident {
	t.Helper()
	return b.db.Resident(t, email)
}

// dump returns every row of every table, read straight from the SQLite
// file, so tests can tell whether anything at all was written.
func (b *testBundle) dump(t testing.TB) string {
	t.Helper()
	return dumpDB(t, b.db.DSN)
}

func dumpDB(t testing.TB, dsn string) string { return pgtest.Dump(t, dsn) }

// counts returns how many rows each table holds, for readable failures.
func counts(dump string) map[string]int {
	n := map[string]int{}
	table := ""
	for _, line := range strings.Split(dump, "\n") {
		if name, ok := strings.CutPrefix(line, "== "); ok {
			table = name
			n[table] = 0
		} else if line != "" {
			n[table]++
		}
	}
	return n
}

func sameDump(t *testing.T, what, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("%s changed the database: rows before %v, after %v", what, counts(before), counts(after))
	}
}
