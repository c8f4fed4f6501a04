package access_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/roster"
)

// newLock creates a property, unit and lock with the given keypad limits
// directly through the store, with no slots.
func (b *testBundle) newLock(t testing.TB, device string, slotCount, codeMin, codeMax int) *sparekey.Lock {
	t.Helper()
	l := &sparekey.Lock{Device: device, Name: "Front door", Adapter: "sim", SlotCount: slotCount,
		CodeMin: codeMin, CodeMax: codeMax, State: sparekey.LockStateUnknown, Battery: -1}
	b.write(t, func(tx sparekey.Tx) error {
		p := &sparekey.Property{Name: "Property of " + device, Timezone: "America/New_York", CreatedAt: testkit.T0}
		if err := tx.CreateProperty(b.ctx, p); err != nil {
			return err
		}
		u := &sparekey.Unit{PropertyID: p.ID, Name: "1"}
		if err := tx.CreateUnit(b.ctx, u); err != nil {
			return err
		}
		l.UnitID = u.ID
		return tx.CreateLock(b.ctx, l)
	})
	return l
}

func (b *testBundle) provision(l *sparekey.Lock) error {
	return b.db.Tx(b.ctx, func(tx sparekey.Tx) error { return b.svc.Codes.ProvisionLock(b.ctx, tx, l) })
}

func TestProvisionLockFillsPool(t *testing.T) {
	t.Parallel()
	b := setup(t)
	residentCodes := map[string]string{testkit.AnaLock: testkit.AnaCode, testkit.BenLock: testkit.BenCode, testkit.ChenLock: testkit.ChenCode}
	for device, residentCode := range residentCodes {
		slots := b.slots(t, device)
		pool := b.pool(t, device)
		if len(pool) != 3 {
			t.Fatalf("%s: pool has %d slots, want the default PoolSize 3", device, len(pool))
		}
		seen := map[string]bool{residentCode: true}
		for i, sl := range pool {
			if sl.Number != i {
				t.Errorf("%s: pool slot %d has number %d, want the lowest free numbers", device, i, sl.Number)
			}
			if len(sl.Code) != 8 || access.ValidCode(sl.Code, 8, 8) != nil || access.Trivial(sl.Code) {
				t.Errorf("%s slot %d: backup code %q is not a non-trivial 8-digit code", device, sl.Number, sl.Code)
			}
			if seen[sl.Code] {
				t.Errorf("%s slot %d: code %q repeats another code on the lock", device, sl.Number, sl.Code)
			}
			seen[sl.Code] = true
			if sl.Backup != sparekey.BackupAvailable || sl.IssuedTo != 0 || sl.IssuedAt != nil {
				t.Errorf("%s slot %d: new pool slot is %+v, want available and issued to nobody", device, sl.Number, sl)
			}
			if sl.Sync != sparekey.SyncPending || sl.SyncedAt != nil || sl.Usable() {
				t.Errorf("%s slot %d: new pool slot is %s/usable=%v before the lock confirmed it", device, sl.Number, sl.Sync, sl.Usable())
			}
			if !sl.NextSyncAt.Equal(testkit.T0) {
				t.Errorf("%s slot %d: NextSyncAt = %v, want now (%v)", device, sl.Number, sl.NextSyncAt, testkit.T0)
			}
		}
		if len(slots) != 4 {
			t.Errorf("%s: %d slots, want 3 backup + 1 resident", device, len(slots))
		}

		before := b.desired(t, device)
		lock := b.lock(t, device)
		if err := b.provision(lock); err != nil {
			t.Fatal(err)
		}
		if err := b.provision(lock); err != nil {
			t.Fatal(err)
		}
		if got := b.slots(t, device); len(got) != len(slots) {
			t.Errorf("%s: ProvisionLock on a full pool went from %d to %d slots", device, len(slots), len(got))
		}
		if after := b.desired(t, device); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: ProvisionLock on a full pool changed codes:\n before %v\n after  %v", device, before, after)
		}
	}
}

func TestProvisionLockCodeLengthAndPoolSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		min, max, want int
	}{
		{6, 8, 8},
		{4, 6, 6},
		{4, 12, 8},
		{8, 10, 8},
		{6, 6, 6},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.min, tc.max), func(t *testing.T) {
			t.Parallel()
			b := bare(t, withConfig(func(c *access.Config) { c.PoolSize = 5 }))
			l := b.newLock(t, "lock-a", 10, tc.min, tc.max)
			if err := b.provision(l); err != nil {
				t.Fatal(err)
			}
			pool := b.pool(t, "lock-a")
			if len(pool) != 5 {
				t.Fatalf("pool has %d slots, want PoolSize 5", len(pool))
			}
			seen := map[string]bool{}
			for i, sl := range pool {
				if sl.Number != i || len(sl.Code) != tc.want || access.Trivial(sl.Code) || seen[sl.Code] {
					t.Errorf("pool slot %d: number %d code %q; want number %d, a distinct non-trivial %d-digit code", i, sl.Number, sl.Code, i, tc.want)
				}
				seen[sl.Code] = true
			}
			if err := b.provision(l); err != nil {
				t.Fatal(err)
			}
			if n := len(b.slots(t, "lock-a")); n != 5 {
				t.Errorf("second ProvisionLock: %d slots, want 5", n)
			}
		})
	}
}

// A pool is filled around the slots residents already hold, and a lock with
// no free slot left is a clear conflict.
func TestProvisionLockAroundResidents(t *testing.T) {
	t.Parallel()
	b := bare(t)
	l := b.newLock(t, "lock-a", 4, 6, 8)
	r := &sparekey.Resident{Name: "Dee", Email: "dee@example.com", Phone: "+12015550111", CreatedAt: testkit.T0}
	var rs *sparekey.Slot
	b.write(t, func(tx sparekey.Tx) (err error) {
		r.UnitID = l.UnitID
		if err := tx.CreateResident(b.ctx, r); err != nil {
			return err
		}
		rs, err = b.svc.Codes.AssignResidentCode(b.ctx, tx, l, r, "")
		return err
	})
	if rs.Number != 0 || rs.Purpose != sparekey.SlotResident || rs.ResidentID != r.ID || len(rs.Code) != 6 || access.Trivial(rs.Code) {
		t.Fatalf("resident slot = %+v", rs)
	}
	if err := b.provision(l); err != nil {
		t.Fatal(err)
	}
	for i, sl := range b.pool(t, "lock-a") {
		if sl.Number != i+1 || sl.Code == rs.Code {
			t.Errorf("pool slot %d: number %d code %q (resident has slot 0, %q)", i, sl.Number, sl.Code, rs.Code)
		}
	}
	// The lock is full now: another resident does not fit.
	b2 := &sparekey.Resident{UnitID: l.UnitID, Name: "Eve", Email: "eve@example.com", Phone: "+12015550112", CreatedAt: testkit.T0}
	err := b.db.Tx(b.ctx, func(tx sparekey.Tx) error {
		if err := tx.CreateResident(b.ctx, b2); err != nil {
			return err
		}
		_, err := b.svc.Codes.AssignResidentCode(b.ctx, tx, l, b2, "")
		return err
	})
	wantCode(t, err, sparekey.ECONFLICT)
}

func TestAssignResidentCodeChecksCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	l := b.lock(t, testkit.AnaLock)
	for _, tc := range []struct {
		code string
		want string
	}{
		{"123456", sparekey.EINVALID},     // trivial
		{"48291", sparekey.EINVALID},      // too short for the lock
		{"4829163571", sparekey.EINVALID}, // too long
		{"48a916", sparekey.EINVALID},
		{testkit.AnaCode, sparekey.ECONFLICT}, // Ana's code is on the lock
		{b.pool(t, testkit.AnaLock)[0].Code, sparekey.ECONFLICT},
		{"907315", ""},
	} {
		r := &sparekey.Resident{UnitID: l.UnitID, Name: "Guest", Email: "guest@example.com", Phone: "+12015550120", CreatedAt: testkit.T0}
		var sl *sparekey.Slot
		err := b.db.Tx(b.ctx, func(tx sparekey.Tx) (err error) {
			if err := tx.CreateResident(b.ctx, r); err != nil {
				return err
			}
			sl, err = b.svc.Codes.AssignResidentCode(b.ctx, tx, l, r, tc.code)
			return err
		})
		if got := sparekey.ErrorCode(err); got != tc.want {
			t.Errorf("AssignResidentCode(%q) = %v, want code %q", tc.code, err, tc.want)
			continue
		}
		if msg := sparekey.ErrorMessage(err); tc.want != "" && len(tc.code) >= 6 && strings.Contains(msg, tc.code) {
			t.Errorf("error message %q repeats the door code", msg)
		}
		if err == nil && (sl.Code != tc.code || sl.Number != 4 || sl.Sync != sparekey.SyncPending) {
			t.Errorf("assigned slot = %+v", sl)
		}
	}
}

func TestIssuedTo(t *testing.T) {
	t.Parallel()
	issuedAt := testkit.T0
	synced := func(mod func(*sparekey.Slot)) *sparekey.Slot {
		sl := &sparekey.Slot{Purpose: sparekey.SlotBackup, Code: "58203917", Sync: sparekey.SyncSynced,
			Backup: sparekey.BackupIssued, IssuedTo: 7, IssuedAt: &issuedAt}
		if mod != nil {
			mod(sl)
		}
		return sl
	}
	for _, tc := range []struct {
		name string
		slot *sparekey.Slot
		now  time.Time
		want bool
	}{
		{"just issued", synced(nil), testkit.T0, true},
		{"an hour later", synced(nil), testkit.T0.Add(time.Hour), true},
		{"a nanosecond before 24h", synced(nil), testkit.T0.Add(sparekey.BackupCodeTTL - time.Nanosecond), true},
		{"exactly 24h", synced(nil), testkit.T0.Add(sparekey.BackupCodeTTL), false},
		{"after 24h", synced(nil), testkit.T0.Add(sparekey.BackupCodeTTL + time.Second), false},
		{"another resident", synced(func(s *sparekey.Slot) { s.IssuedTo = 8 }), testkit.T0, false},
		{"available", synced(func(s *sparekey.Slot) { s.Backup = sparekey.BackupAvailable; s.IssuedTo = 0 }), testkit.T0, false},
		{"used", synced(func(s *sparekey.Slot) { s.Backup = sparekey.BackupUsed }), testkit.T0, false},
		{"no issue time", synced(func(s *sparekey.Slot) { s.IssuedAt = nil }), testkit.T0, false},
		{"not confirmed", synced(func(s *sparekey.Slot) { s.Sync = sparekey.SyncPending }), testkit.T0, false},
		{"failed", synced(func(s *sparekey.Slot) { s.Sync = sparekey.SyncFailed }), testkit.T0, false},
		{"empty code", synced(func(s *sparekey.Slot) { s.Code = "" }), testkit.T0, false},
		{"resident slot", synced(func(s *sparekey.Slot) { s.Purpose = sparekey.SlotResident }), testkit.T0, false},
	} {
		if got := access.IssuedTo(tc.slot, 7, tc.now); got != tc.want {
			t.Errorf("%s: IssuedTo = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIssueBackupCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if got := b.issue(t, testkit.AnaEmail); len(got) != 0 {
		t.Fatalf("issued %d codes before any lock confirmed its pool: %+v", len(got), got)
	}
	if n := len(b.auditsOf(t, "backup_code.issued")); n != 0 {
		t.Fatalf("%d backup_code.issued audits for nothing issued", n)
	}
	b.runOnce(t)

	a := b.resident(t, testkit.AnaEmail)
	got := b.issue(t, testkit.AnaEmail)
	if len(got) != 1 {
		t.Fatalf("issued %d codes to Ana, want 1 (one lock in unit 101)", len(got))
	}
	first := got[0]
	if first.LockID != b.lock(t, testkit.AnaLock).ID || first.Number != 0 || first.Backup != sparekey.BackupIssued ||
		first.IssuedTo != a.ID || first.IssuedAt == nil || !first.IssuedAt.Equal(testkit.T0) || !first.Usable() {
		t.Fatalf("issued slot = %+v", first)
	}
	if on := b.fleet.Programmed(testkit.AnaLock)[0]; on != first.Code {
		t.Fatalf("issued code %q is not the one on the lock (%q)", first.Code, on)
	}
	if stored := b.slot(t, testkit.AnaLock, 0); stored.Backup != sparekey.BackupIssued || stored.IssuedTo != a.ID {
		t.Fatalf("issue not stored: %+v", stored)
	}
	audits := b.auditsOf(t, "backup_code.issued")
	if len(audits) != 1 || audits[0].Subject != fmt.Sprintf("resident:%d", a.ID) ||
		audits[0].Detail["lock"] != testkit.AnaLock || audits[0].Detail["slot"] != "0" {
		t.Fatalf("issue audit = %+v", audits)
	}
	for _, e := range b.audits(t) {
		for k, v := range e.Detail {
			if v == first.Code {
				t.Fatalf("audit %s detail %s holds the door code", e.Action, k)
			}
		}
	}

	// Asking again while the code is good for hours gives the same code
	// and issues nothing new.
	for _, d := range []time.Duration{time.Hour, 22 * time.Hour} {
		b.clock.Advance(d)
		again := b.issue(t, testkit.AnaEmail)
		if len(again) != 1 || again[0].ID != first.ID || again[0].Code != first.Code || !again[0].IssuedAt.Equal(testkit.T0) {
			t.Fatalf("issue %v later = %+v, want the still-valid %+v", b.clock.Now().Sub(testkit.T0), again, first)
		}
	}
	if n := len(b.auditsOf(t, "backup_code.issued")); n != 1 {
		t.Errorf("%d issue audits after repeats, want 1", n)
	}
	pool := b.pool(t, testkit.AnaLock)
	if pool[1].Backup != sparekey.BackupAvailable || pool[2].Backup != sparekey.BackupAvailable {
		t.Errorf("repeat issue took another pool code: %+v %+v", pool[1], pool[2])
	}

	// Ben's pool is his lock's own.
	bens := b.issue(t, testkit.BenEmail)
	if len(bens) != 1 || bens[0].LockID != b.lock(t, testkit.BenLock).ID || bens[0].Number != 0 || bens[0].IssuedTo != b.resident(t, testkit.BenEmail).ID {
		t.Fatalf("Ben's codes = %+v", bens)
	}

	// Once Ana's code is 24h old it is never given again, even before the
	// reconciler rotated it.
	b.clock.Advance(time.Hour)
	fresh := b.issue(t, testkit.AnaEmail)
	if len(fresh) != 1 || fresh[0].ID == first.ID || fresh[0].Code == first.Code || !fresh[0].IssuedAt.Equal(b.clock.Now()) {
		t.Fatalf("issue after 24h = %+v, want a fresh code, not %+v", fresh, first)
	}
}

func TestIssueOnlyConfirmedAvailableCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// unit-103-front is offline, so its pool never reached it.
	b.setState(t, testkit.ChenLock, offline)
	b.runOnce(t)
	if got := b.issue(t, testkit.ChenEmail); len(got) != 0 {
		t.Fatalf("Chen got %+v from a pool the lock never confirmed", got)
	}

	// A pool code that is back to pending (say a rotation on its way) is
	// skipped for the next confirmed one.
	b.write(t, func(tx sparekey.Tx) error {
		sl := b.slot(t, testkit.BenLock, 0)
		sl.Code, sl.Sync, sl.NextSyncAt = "58203917", sparekey.SyncPending, testkit.T0.Add(time.Hour)
		return tx.UpdateSlot(b.ctx, sl)
	})
	if got := b.issue(t, testkit.BenEmail); len(got) != 1 || got[0].Number != 1 {
		t.Fatalf("Ben got %+v, want pool slot 1 (slot 0 is pending)", got)
	}

	// Four residents share unit 101's pool of three.
	more := []roster.Entry{
		{Property: "Maple Court Apartments", Unit: "101", Lock: testkit.AnaLock, Name: "Dee", Email: "dee@example.com", Phone: "+12015550111"},
		{Property: "Maple Court Apartments", Unit: "101", Lock: testkit.AnaLock, Name: "Eve", Email: "eve@example.com", Phone: "+12015550112"},
		{Property: "Maple Court Apartments", Unit: "101", Lock: testkit.AnaLock, Name: "Fay", Email: "fay@example.com", Phone: "+12015550113"},
	}
	if err := roster.Add(b.ctx, b.db, b.svc.Codes, b.clock, more); err != nil {
		t.Fatal(err)
	}
	b.runOnce(t)
	numbers := map[int]bool{}
	for _, email := range []string{testkit.AnaEmail, "dee@example.com", "eve@example.com"} {
		got := b.issue(t, email)
		if len(got) != 1 || numbers[got[0].Number] {
			t.Fatalf("%s got %+v; issued so far %v", email, got, numbers)
		}
		numbers[got[0].Number] = true
	}
	if got := b.issue(t, "fay@example.com"); len(got) != 0 {
		t.Fatalf("Fay got %+v from a pool whose codes are all issued", got)
	}
}

// Codes are 6–8 digits within the lock's limits (docs/api.md). A keypad that
// takes 4–8 digits (the typical Zigbee deadbolt) still gets 6-digit codes.
func TestResidentCodeLengthOnShortKeypad(t *testing.T) {
	t.Parallel()
	b := bare(t)
	l := b.newLock(t, "lock-a", 10, 4, 8)
	var random *sparekey.Slot
	var chosenErr error
	b.write(t, func(tx sparekey.Tx) (err error) {
		r := &sparekey.Resident{UnitID: l.UnitID, Name: "Dee", Email: "dee@example.com", Phone: "+12015550111", CreatedAt: testkit.T0}
		if err := tx.CreateResident(b.ctx, r); err != nil {
			return err
		}
		if random, err = b.svc.Codes.AssignResidentCode(b.ctx, tx, l, r, ""); err != nil {
			return err
		}
		_, chosenErr = b.svc.Codes.AssignResidentCode(b.ctx, tx, l, r, "4829")
		return nil
	})
	var wrong []string
	if len(random.Code) < 6 {
		wrong = append(wrong, fmt.Sprintf("a random code of %d digits", len(random.Code)))
	}
	if chosenErr == nil {
		wrong = append(wrong, "the chosen 4-digit code 4829 is accepted")
	}
	if len(wrong) > 0 {
		t.Errorf("regression: on a lock taking 4-8 digits: %s (AssignResidentCode in access/pool.go uses lock.CodeMin; use max(6, CodeMin)..min(8, CodeMax))",
			strings.Join(wrong, "; "))
	}
}
