package resident_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/resident"
	"sparekey/roster"
	"sparekey/sim"
)

func ptr[T any](v T) *T { return &v }

// home returns the resident's home, failing the test on error.
func (b *testBundle) home(t *testing.T, email string) *resident.Home {
	t.Helper()
	h, err := b.svc.Home(b.ctx, b.db.Resident(t, email).ID)
	if err != nil {
		t.Fatalf("Home(%s): %v", email, err)
	}
	return h
}

// door returns the resident's only door, failing the test unless there is
// exactly one.
func (b *testBundle) door(t *testing.T, email string) resident.Door {
	t.Helper()
	h := b.home(t, email)
	if len(h.Doors) != 1 {
		t.Fatalf("%s has %d doors, want 1", email, len(h.Doors))
	}
	return h.Doors[0]
}

func (b *testBundle) setState(t *testing.T, device string, change sim.StateChange) {
	t.Helper()
	if err := b.fleet.SetState(device, change); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) keypad(t *testing.T, device, code string) string {
	t.Helper()
	res, err := b.fleet.Keypad(device, code)
	if err != nil {
		t.Fatal(err)
	}
	return res.Result
}

func TestHomeShowsTheResidentsDoors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventOnline, Slot: -1,
		State: sparekey.LockStateLocked, Battery: 80})
	h := b.home(t, testkit.AnaEmail)
	if h.Resident.Email != testkit.AnaEmail || h.Unit.Name != "101" || h.Property.Name != roster.Demo[0].Property ||
		h.Location.String() != "America/New_York" {
		t.Errorf("home of %s in %s, unit %s, %v", h.Resident.Email, h.Property.Name, h.Unit.Name, h.Location)
	}
	if len(h.Doors) != 1 {
		t.Fatalf("%d doors, want 1", len(h.Doors))
	}
	d := h.Doors[0]
	if d.Lock.Device != testkit.AnaLock || d.Lock.Name != testkit.FrontDoor || d.Lock.State != sparekey.LockStateLocked || d.Offline() ||
		d.Jammed || d.JamAt != nil || d.KeypadDisabledUntil != nil || d.LowBattery {
		t.Errorf("door %+v, lock %+v", d, *d.Lock)
	}
	if d := b.door(t, testkit.BenEmail); d.Lock.Device != testkit.BenLock {
		t.Errorf("Ben's door is %s", d.Lock.Device)
	}

	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventOffline, Slot: -1, Battery: -1})
	if d := b.door(t, testkit.AnaEmail); !d.Offline() {
		t.Error("the door is not offline after the lock went offline")
	}
	_, err := b.svc.Home(b.ctx, 999)
	wantCode(t, "Home of nobody", err, sparekey.ENOTFOUND)
}

func TestHomeShowsAJam(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setState(t, testkit.AnaLock, sim.StateChange{Jammed: ptr(true)}) // reported to access.HandleEvent
	jamAt := b.clock.Now()
	if d := b.door(t, testkit.AnaEmail); !d.Jammed {
		t.Errorf("door not jammed after a jam report: %+v", d)
	}
	// The jam rule (upkeep) records the episode; here the test does.
	l := b.db.Lock(t, testkit.AnaLock)
	jam := &sparekey.Jam{LockID: l.ID, StartedAt: jamAt, Cause: "keypad"}
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.CreateJam(b.ctx, jam) })
	b.clock.Advance(10 * time.Minute)
	d := b.door(t, testkit.AnaEmail)
	if !d.Jammed || d.JamAt == nil || !d.JamAt.Equal(jamAt) {
		t.Errorf("jammed door %+v, want JamAt %v", d, jamAt)
	}
	if d := b.door(t, testkit.BenEmail); d.Jammed || d.JamAt != nil {
		t.Errorf("Ben's door shows Ana's jam: %+v", d)
	}

	// Cleared, the jam is still shown for RecentJam after it began.
	b.setState(t, testkit.AnaLock, sim.StateChange{Jammed: ptr(false)})
	cleared := b.clock.Now()
	jam.ClearedAt, jam.ClearedBy = &cleared, "jam_cleared"
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.UpdateJam(b.ctx, jam) })
	d = b.door(t, testkit.AnaEmail)
	if d.Jammed || d.JamAt == nil || !d.JamAt.Equal(jamAt) || d.JamClearedAt == nil || !d.JamClearedAt.Equal(cleared) {
		t.Errorf("cleared jam: door %+v, want not jammed with JamAt %v, cleared %v", d, jamAt, cleared)
	}
	b.clock.Advance(resident.RecentJam - 10*time.Minute)
	if d := b.door(t, testkit.AnaEmail); d.JamAt != nil {
		t.Errorf("a jam cleared long ago is still shown: %v", d.JamAt)
	}

	// A jam not cleared is shown however old.
	old := &sparekey.Jam{LockID: l.ID, StartedAt: testkit.T0.Add(-24 * time.Hour), Cause: "door_state"}
	b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.CreateJam(b.ctx, old) })
	// It counts as jammed though the lock's state says otherwise: after a
	// restart Zigbee2MQTT's cache keeps no jam.
	if d := b.door(t, testkit.AnaEmail); d.JamAt == nil || !d.JamAt.Equal(old.StartedAt) || !d.Jammed || d.JamClearedAt != nil {
		t.Errorf("open jam: %+v, want jammed since %v", d, old.StartedAt)
	}
}

func TestHomeShowsADisabledKeypad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range sim.MaxWrongCodes {
		if got := b.keypad(t, testkit.AnaLock, "000000"); got != sim.KeypadRejected {
			t.Fatalf("a wrong code: %s", got)
		}
	}
	until := b.clock.Now().Add(resident.KeypadLockout)
	if d := b.door(t, testkit.AnaEmail); d.KeypadDisabledUntil == nil || !d.KeypadDisabledUntil.Equal(until) {
		t.Fatalf("KeypadDisabledUntil = %v, want %v", d.KeypadDisabledUntil, until)
	}
	if d := b.door(t, testkit.BenEmail); d.KeypadDisabledUntil != nil {
		t.Errorf("Ben's keypad is disabled too")
	}
	b.clock.Advance(resident.KeypadLockout - time.Second)
	if d := b.door(t, testkit.AnaEmail); d.KeypadDisabledUntil == nil {
		t.Error("the keypad shows enabled a second before it is")
	}
	b.clock.Advance(time.Second)
	if d := b.door(t, testkit.AnaEmail); d.KeypadDisabledUntil != nil {
		t.Errorf("KeypadDisabledUntil = %v after the lockout ended", d.KeypadDisabledUntil)
	}

	// A report of an older lockout (delivered late) shows nothing.
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventKeypadLocked, Slot: -1, Battery: -1,
		At: b.clock.Now().Add(-resident.KeypadLockout - time.Second)})
	if d := b.door(t, testkit.AnaEmail); d.KeypadDisabledUntil != nil {
		t.Errorf("an old lockout shows: %v", d.KeypadDisabledUntil)
	}
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventKeypadLocked, Slot: -1, Battery: -1,
		At: b.clock.Now().Add(-30 * time.Second)})
	if d := b.door(t, testkit.AnaEmail); d.KeypadDisabledUntil == nil || !d.KeypadDisabledUntil.Equal(b.clock.Now().Add(30*time.Second)) {
		t.Errorf("a lockout 30 s ago: KeypadDisabledUntil = %v", d.KeypadDisabledUntil)
	}
}

func TestHomeShowsLowBattery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range []struct {
		battery int
		low     bool
	}{{10, true}, {resident.LowBattery, false}, {resident.LowBattery - 1, true}, {0, true}, {100, false}} {
		b.setState(t, testkit.AnaLock, sim.StateChange{Battery: ptr(c.battery)})
		if d := b.door(t, testkit.AnaEmail); d.LowBattery != c.low || d.Lock.Battery != c.battery {
			t.Errorf("battery %d: LowBattery %t (lock says %d), want %t", c.battery, d.LowBattery, d.Lock.Battery, c.low)
		}
	}
	if d := b.door(t, testkit.BenEmail); d.LowBattery {
		t.Error("Ben's lock shows a low battery")
	}
}

func TestOperateOnlyTheResidentsDoors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	for _, device := range []string{testkit.BenLock, "unit-103-front", "no-such-lock", ""} {
		for _, unlock := range []bool{true, false} {
			err := b.svc.Operate(b.ctx, r.ID, device, unlock)
			wantCode(t, fmt.Sprintf("Operate(%q, %t)", device, unlock), err, sparekey.ENOTFOUND)
			if msg := sparekey.ErrorMessage(err); msg != "That door is not one of yours." {
				t.Errorf("message %q", msg)
			}
		}
	}
	wantCode(t, "Operate for nobody", b.svc.Operate(b.ctx, 999, testkit.AnaLock, true), sparekey.ENOTFOUND)
	sameList(t, "calls for doors not hers", b.doors.Calls(), []string(nil))

	if err := b.svc.Operate(b.ctx, r.ID, testkit.AnaLock, true); err != nil {
		t.Fatalf("Operate own door: %v", err)
	}
	if err := b.svc.Operate(b.ctx, r.ID, testkit.AnaLock, false); err != nil {
		t.Fatalf("Operate own door: %v", err)
	}
	who := fmt.Sprintf("resident:%d", r.ID)
	sameList(t, "calls", b.doors.Calls(), []string{testkit.AnaLock + " unlock=true by " + who, testkit.AnaLock + " unlock=false by " + who})

	// The operator's answer comes back as it is.
	b.doors.err = sparekey.Errorf(sparekey.ELOCKJAMMED, "Front door is jammed.")
	wantCode(t, "Operate on a jammed door", b.svc.Operate(b.ctx, r.ID, testkit.AnaLock, true), sparekey.ELOCKJAMMED)
}

func TestAccessCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	a, err := b.svc.AccessCodes(b.ctx, r.ID, false, visit)
	if err != nil {
		t.Fatal(err)
	}
	want := []resident.DoorCode{{Door: testkit.FrontDoor, Code: "", Synced: true}}
	if !slices.Equal(a.Codes, want) || a.Location.String() != "America/New_York" {
		t.Errorf("AccessCodes without reveal = %+v in %v, want %+v", a.Codes, a.Location, want)
	}
	if n := len(b.db.AuditOf(t, "resident.code_revealed")); n != 0 {
		t.Errorf("%d code_revealed lines without a reveal", n)
	}

	a, err = b.svc.AccessCodes(b.ctx, r.ID, true, visit)
	if err != nil {
		t.Fatal(err)
	}
	want[0].Code = testkit.AnaCode
	if !slices.Equal(a.Codes, want) {
		t.Errorf("AccessCodes with reveal = %+v, want %+v", a.Codes, want)
	}
	evs := b.db.AuditOf(t, "resident.code_revealed")
	who := fmt.Sprintf("resident:%d", r.ID)
	if len(evs) != 1 || evs[0].Actor != who || evs[0].Subject != who || evs[0].IP != testIP || evs[0].UserAgent != testUA {
		t.Errorf("code_revealed lines %+v", evs)
	}

	// Ben sees his own code, not Ana's.
	a, err = b.svc.AccessCodes(b.ctx, b.db.Resident(t, testkit.BenEmail).ID, true, visit)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Codes) != 1 || a.Codes[0].Code != "731845" {
		t.Errorf("Ben's codes %+v", a.Codes)
	}
	_, err = b.svc.AccessCodes(b.ctx, 999, true, visit)
	wantCode(t, "AccessCodes of nobody", err, sparekey.ENOTFOUND)
}

// anaSlot is the number of Ana's access-code slot on her door.
func (b *testBundle) anaSlot(t *testing.T) int {
	t.Helper()
	r := b.db.Resident(t, testkit.AnaEmail)
	for _, sl := range b.db.Slots(t, testkit.AnaLock) {
		if sl.Purpose == sparekey.SlotResident && sl.ResidentID == r.ID {
			return sl.Number
		}
	}
	t.Fatal("Ana has no slot on her door")
	return 0
}

// uses summarizes the resident's code uses as "minutes after t0 how".
func (b *testBundle) uses(t *testing.T, email string) []string {
	t.Helper()
	a, err := b.svc.AccessCodes(b.ctx, b.db.Resident(t, email).ID, false, visit)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, u := range a.Uses {
		out = append(out, fmt.Sprintf("%v %s: %s", u.At.Sub(testkit.T0), u.Door, u.How))
	}
	return out
}

func TestAccessCodeUses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	slot := b.anaSlot(t)
	sameList(t, "uses before any", b.uses(t, testkit.AnaEmail), []string{})

	// Before Ana moved in, her slot was someone else's.
	l := b.db.Lock(t, testkit.AnaLock)
	b.db.MustWrite(t, func(tx sparekey.Tx) error {
		return tx.RecordLockEvent(b.ctx, &sparekey.LockEvent{LockID: l.ID, At: r.CreatedAt.Add(-time.Hour),
			Kind: sparekey.EventKeypadUnlock, Slot: slot, Detail: "keypad"})
	})
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, testkit.AnaCode); got != sim.KeypadUnlocked {
		t.Fatalf("Ana's code at her door: %s", got)
	}
	b.clock.Advance(time.Minute)
	b.keypad(t, testkit.AnaLock, "000000") // a wrong code is no use
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventKeypadUnlock, Slot: slot + 1, Battery: -1,
		Source: "keypad"}) // another slot
	if got := b.keypad(t, testkit.BenLock, "731845"); got != sim.KeypadUnlocked {
		t.Fatalf("Ben's code at his door: %s", got)
	}
	b.clock.Advance(time.Minute)
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventKeypadUnlock, Slot: slot, Battery: -1,
		Source: "keypad"})
	sameList(t, "Ana's uses, newest first", b.uses(t, testkit.AnaEmail), []string{"3m0s Front door: access code", "1m0s Front door: access code"})
	sameList(t, "Ben's uses", b.uses(t, testkit.BenEmail), []string{"2m0s Front door: access code"})
}

// A backup code of Ana's shows as used; the same slot, rotated and later
// given to her roommate, shows none of Ana's uses as the roommate's.
func TestBackupCodeUses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	zoe := roster.Entry{Property: roster.Demo[0].Property, Unit: "101", Lock: testkit.AnaLock, Name: "Zoe Park",
		Email: "zoe@example.com", Phone: "+12015550104"}
	if err := roster.Add(b.ctx, b.db, b.access.Codes, b.clock, []roster.Entry{zoe}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	b.clock.Advance(time.Minute)
	issued := b.issue(t, testkit.AnaEmail)
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, issued.Code); got != sim.KeypadUnlocked {
		t.Fatalf("Ana's backup code: %s", got)
	}
	sameList(t, "Ana's uses", b.uses(t, testkit.AnaEmail), []string{"2m0s Front door: backup code"})

	b.sync(t) // the used code was rotated; its replacement reaches the lock
	sameList(t, "Ana's uses after the rotation", b.uses(t, testkit.AnaEmail), []string{"2m0s Front door: backup code"})

	b.clock.Advance(time.Minute)
	again := b.issue(t, zoe.Email)
	if again.Number != issued.Number {
		t.Fatalf("Zoe got slot %d, the test wants Ana's old slot %d", again.Number, issued.Number)
	}
	sameList(t, "Zoe's uses before she used hers", b.uses(t, zoe.Email), []string{})
	sameList(t, "Ana's uses once her old code is Zoe's", b.uses(t, testkit.AnaEmail), []string{"2m0s Front door: backup code"})

	// Zoe's use is reported a few seconds after it happened.
	b.clock.Advance(time.Minute)
	b.handleEvent(t, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventKeypadUnlock, Slot: again.Number,
		Battery: -1, Source: "keypad", At: b.clock.Now().Add(-5 * time.Second)})
	sameList(t, "Zoe's uses", b.uses(t, zoe.Email), []string{"3m55s Front door: backup code"})
	b.sync(t)
	sameList(t, "Zoe's uses after the rotation", b.uses(t, zoe.Email), []string{"3m55s Front door: backup code"})
	sameList(t, "Ana's uses in the end", b.uses(t, testkit.AnaEmail), []string{"2m0s Front door: backup code"})
}

// sync lets the reconciler program pending codes onto the virtual locks.
func (b *testBundle) sync(t *testing.T) {
	t.Helper()
	if _, err := b.access.Reconciler.RunOnce(b.ctx); err != nil {
		t.Fatalf("access RunOnce: %v", err)
	}
}

// issue gives the resident a backup code on their door, as the lockout
// flow does.
func (b *testBundle) issue(t *testing.T, email string) *sparekey.Slot {
	t.Helper()
	r := b.db.Resident(t, email)
	var issued []*sparekey.Slot
	b.db.MustWrite(t, func(tx sparekey.Tx) (err error) {
		issued, err = b.access.Codes.IssueBackupCodes(b.ctx, tx, r)
		return err
	})
	if len(issued) != 1 {
		t.Fatalf("%d backup codes issued to %s, want 1", len(issued), email)
	}
	return issued[0]
}

func TestAccessCodeRevealEmailsTheAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.db.Resident(t, testkit.AnaEmail)
	for range 3 { // tapping again within ten minutes sends no second email
		if _, err := b.svc.AccessCodes(b.ctx, r.ID, true, visit); err != nil {
			t.Fatal(err)
		}
	}
	got := b.messages(t, "access_code_revealed")
	if len(got) != 1 || got[0].To != testkit.AnaEmail || got[0].Channel != sparekey.ChannelEmail || strings.Contains(got[0].Body, testkit.AnaCode) {
		t.Fatalf("reveal emails %+v, want one to %s without the code", got, testkit.AnaEmail)
	}
	if _, err := b.svc.AccessCodes(b.ctx, r.ID, false, visit); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(11 * time.Minute)
	if _, err := b.svc.AccessCodes(b.ctx, r.ID, true, visit); err != nil {
		t.Fatal(err)
	}
	if got := b.messages(t, "access_code_revealed"); len(got) != 2 {
		t.Errorf("%d reveal emails after 11 minutes, want 2", len(got))
	}
}
