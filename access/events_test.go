package access_test

import (
	"slices"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

func TestKeypadUseOfIssuedBackupCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	a := b.resident(t, testkit.AnaEmail)
	issued := b.issue(t, testkit.AnaEmail)
	if len(issued) != 1 {
		t.Fatalf("Ana got %d codes", len(issued))
	}
	old := issued[0]

	b.clock.Advance(time.Hour)
	if got := b.keypad(t, testkit.AnaLock, old.Code); got != sim.KeypadUnlocked {
		t.Fatalf("issued backup code at the keypad = %s, want unlocked", got)
	}
	sl := b.slot(t, testkit.AnaLock, old.Number)
	if sl.Code == old.Code || len(sl.Code) != 8 || sl.Sync != sparekey.SyncPending ||
		sl.Backup != sparekey.BackupAvailable || sl.IssuedTo != old.IssuedTo || sl.IssuedAt != nil || sl.Usable() {
		t.Fatalf("used slot = %+v; want a fresh code, pending, back in the pool", sl)
	}
	if !sl.NextSyncAt.Equal(b.clock.Now()) {
		t.Errorf("rotated slot due at %v, want now", sl.NextSyncAt)
	}
	rot := b.auditsOf(t, "backup_code.rotated")
	if len(rot) != 1 || rot[0].Detail["reason"] != "used" || rot[0].Detail["resident"] != itoa(a.ID) ||
		rot[0].Detail["slot"] != itoa(int64(old.Number)) {
		t.Errorf("rotation audit = %+v", rot)
	}
	use := b.auditsOf(t, "lock.keypad_unlock")
	if len(use) != 1 || use[0].Detail["purpose"] != string(sparekey.SlotBackup) || use[0].Detail["resident"] != itoa(a.ID) ||
		use[0].Subject != "lock:"+testkit.AnaLock {
		t.Errorf("keypad audit = %+v", use)
	}
	if l := b.lock(t, testkit.AnaLock); l.State != sparekey.LockStateUnlocked {
		t.Errorf("lock state = %s, want unlocked", l.State)
	}
	if events := b.lockEvents(t, testkit.AnaLock); events[len(events)-1].Detail != "keypad, backup code of Ana Ruiz" || events[len(events)-1].ResidentID != a.ID {
		t.Errorf("lock event = %+v, want whose backup code it was", events[len(events)-1])
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.PoolReady != 2 || info.SlotsPending != 1 {
		t.Errorf("LockInfo after the use = %+v", info)
	}

	// Until the reconciler runs the old code is still on the lock; then the
	// fresh one replaces it and the old one is refused.
	if got := b.fleet.Programmed(testkit.AnaLock)[old.Number]; got != old.Code {
		t.Fatalf("lock slot %d = %q before the reconciler ran", old.Number, got)
	}
	if n := b.runOnce(t); n != 1 {
		t.Errorf("RunOnce programmed %d slots, want 1", n)
	}
	if got := b.fleet.Programmed(testkit.AnaLock)[old.Number]; got != sl.Code {
		t.Fatalf("lock slot %d = %q, want the fresh code", old.Number, got)
	}
	if got := b.keypad(t, testkit.AnaLock, old.Code); got != sim.KeypadRejected {
		t.Errorf("used backup code at the keypad again = %s, want rejected", got)
	}
	if got := b.issue(t, testkit.AnaEmail); len(got) != 1 || got[0].Code == old.Code {
		t.Errorf("Ana's next code = %+v; a used code must not come back", got)
	}
}

// A pool code nobody was given that opens the door was guessed or leaked:
// it is rotated too.
func TestKeypadUseOfUnissuedBackupCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	leaked := b.slot(t, testkit.BenLock, 2)
	if got := b.keypad(t, testkit.BenLock, leaked.Code); got != sim.KeypadUnlocked {
		t.Fatalf("pool code at the keypad = %s", got)
	}
	if sl := b.slot(t, testkit.BenLock, 2); sl.Code == leaked.Code || sl.Sync != sparekey.SyncPending {
		t.Errorf("leaked pool code not rotated: %+v", sl)
	}
	rot := b.auditsOf(t, "backup_code.rotated")
	if len(rot) != 1 || rot[0].Detail["reason"] != "used_unissued" {
		t.Errorf("rotation audit = %+v", rot)
	}
	if events := b.lockEvents(t, testkit.BenLock); events[len(events)-1].Detail != "keypad, backup code given to nobody" {
		t.Errorf("lock event = %+v, want the unissued code called out", events[len(events)-1])
	}
	b.runOnce(t)
	if got := b.keypad(t, testkit.BenLock, leaked.Code); got != sim.KeypadRejected {
		t.Errorf("leaked code after rotation = %s, want rejected", got)
	}
}

func TestKeypadUseOfResidentCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	a := b.resident(t, testkit.AnaEmail)
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, testkit.AnaCode); got != sim.KeypadUnlocked {
		t.Fatalf("Ana's code = %s", got)
	}
	events := b.lockEvents(t, testkit.AnaLock)
	last := events[len(events)-1]
	if last.Kind != sparekey.EventKeypadUnlock || last.Slot != 3 || last.Detail != "keypad, access code of Ana Ruiz" || !last.At.Equal(b.clock.Now()) {
		t.Errorf("lock event = %+v, want keypad_unlock of slot 3 from the keypad by Ana's access code, now", last)
	}
	use := b.auditsOf(t, "lock.keypad_unlock")
	if len(use) != 1 {
		t.Fatalf("%d keypad audits, want 1", len(use))
	}
	e := use[0]
	if e.Actor != "lock:"+testkit.AnaLock || e.Subject != "lock:"+testkit.AnaLock || e.Detail["resident"] != itoa(a.ID) ||
		e.Detail["purpose"] != string(sparekey.SlotResident) || e.Detail["slot"] != "3" || e.Detail["source"] != sim.SourceKeypad {
		t.Errorf("keypad audit = %+v; want it to name resident %d", e, a.ID)
	}
	for k, v := range e.Detail {
		if v == testkit.AnaCode {
			t.Errorf("audit detail %s holds the door code", k)
		}
	}
	if sl := b.slot(t, testkit.AnaLock, 3); sl.Code != testkit.AnaCode || sl.Sync != sparekey.SyncSynced {
		t.Errorf("a resident code changed with its use: %+v", sl)
	}
	if n := len(b.auditsOf(t, "backup_code.rotated")); n != 0 {
		t.Errorf("%d rotations after a resident code was used", n)
	}
	if l := b.lock(t, testkit.AnaLock); l.State != sparekey.LockStateUnlocked || l.LastSeen == nil || !l.LastSeen.Equal(b.clock.Now()) {
		t.Errorf("lock = %+v, want unlocked, seen now", l)
	}
}

func TestWrongCodesAndKeypadLockout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	for range sim.MaxWrongCodes {
		if got := b.keypad(t, testkit.ChenLock, "907315"); got != sim.KeypadRejected {
			t.Fatalf("wrong code = %s", got)
		}
	}
	if got := b.keypad(t, testkit.ChenLock, testkit.ChenCode); got != sim.KeypadDisabled {
		t.Fatalf("keypad after %d wrong codes = %s, want keypad_disabled", sim.MaxWrongCodes, got)
	}
	kinds := map[sparekey.DeviceEventKind]int{}
	for _, e := range b.lockEvents(t, testkit.ChenLock) {
		kinds[e.Kind]++
	}
	if kinds[sparekey.EventWrongCode] != sim.MaxWrongCodes || kinds[sparekey.EventKeypadLocked] != 1 {
		t.Errorf("lock events = %v", kinds)
	}
	if n := len(b.auditsOf(t, "lock.wrong_code")); n != sim.MaxWrongCodes {
		t.Errorf("%d wrong_code audits, want %d", n, sim.MaxWrongCodes)
	}
	if n := len(b.auditsOf(t, "lock.keypad_disabled")); n != 1 {
		t.Errorf("%d keypad_disabled audits, want 1", n)
	}
}

func TestJamAndClear(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateLocked {
		t.Fatalf("state after announce = %s, want locked", l.State)
	}

	b.setState(t, testkit.BenLock, jam)
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateJammed || !l.Online {
		t.Fatalf("after a jam: %+v", l)
	}
	res, err := b.fleet.Keypad(testkit.BenLock, testkit.BenCode)
	if err != nil || res.Result != sim.KeypadJammed || res.Pattern != sim.PatternXOdd {
		t.Fatalf("keypad while jammed = %+v, %v", res, err)
	}
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateJammed {
		t.Fatalf("state after a keypad try while jammed = %s", l.State)
	}
	b.setState(t, testkit.BenLock, unjam)
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateLocked {
		t.Errorf("state after the jam cleared = %s, want locked again", l.State)
	}
	if n := len(b.auditsOf(t, "lock.jammed")); n != 1 {
		t.Errorf("%d lock.jammed audits, want 1: the code typed while jammed is no second jam", n)
	}
	if a := b.auditsOf(t, "lock.code_tried_while_jammed"); len(a) != 1 || a[0].Detail["source"] != "keypad" {
		t.Errorf("audit of the code typed while jammed = %+v", a)
	}
	evs := b.lockEvents(t, testkit.BenLock)
	var kinds []string
	for _, e := range evs {
		if e.Kind == sparekey.EventJammed {
			kinds = append(kinds, e.Detail)
		}
	}
	sameList(t, "jammed lock events' details", kinds, []string{"", "keypad, a code typed while jammed"})
	if n := len(b.auditsOf(t, "lock.jam_cleared")); n != 1 {
		t.Errorf("%d lock.jam_cleared audits, want 1", n)
	}

	// A door left unlocked goes back to unlocked.
	if got := b.keypad(t, testkit.BenLock, testkit.BenCode); got != sim.KeypadUnlocked {
		t.Fatalf("Ben's code after the jam = %s", got)
	}
	b.setState(t, testkit.BenLock, jam)
	b.setState(t, testkit.BenLock, unjam)
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateUnlocked {
		t.Errorf("state after the jam cleared = %s, want unlocked again", l.State)
	}
}

// An adapter that does not know the bolt's position when a jam clears
// (DeviceEvent.State is "when known") must not leave the lock jammed.
func TestJamClearedWithoutState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, kind := range []sparekey.DeviceEventKind{sparekey.EventJammed, sparekey.EventJamCleared} {
		if err := b.svc.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.BenLock, Kind: kind, Slot: -1, Battery: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if l := b.lock(t, testkit.BenLock); l.State == sparekey.LockStateJammed {
		t.Errorf("regression: after jam_cleared without a state the lock stays %s, so Operate refuses it as lock_jammed", l.State)
	}
}

// A jam that began while nobody listened (Sparekey down, or the adapter's
// first report of a lock) arrives as a state report: it counts as the jam,
// so the jam rule sees every jam. A state report of "locked" does not end
// a jam: after a restart Zigbee2MQTT can say so of a lock still jammed.
func TestJamSeenInAStateReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	state := func(st sparekey.LockState) {
		t.Helper()
		if err := b.svc.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.BenLock, Kind: sparekey.EventState, State: st, Slot: -1, Battery: -1}); err != nil {
			t.Fatal(err)
		}
	}
	state(sparekey.LockStateJammed)
	state(sparekey.LockStateJammed) // the same jam read again
	if l := b.lock(t, testkit.BenLock); l.State != sparekey.LockStateJammed {
		t.Fatalf("state after a jammed state report = %s", l.State)
	}
	if n := len(b.auditsOf(t, "lock.jammed")); n != 1 {
		t.Errorf("%d lock.jammed audits after a jammed state report read twice, want 1", n)
	}
	state(sparekey.LockStateLocked)
	state(sparekey.LockStateUnlocked)
	if n := len(b.auditsOf(t, "lock.jam_cleared")); n != 0 {
		t.Errorf("%d lock.jam_cleared audits after state reports on a jammed lock, want none", n)
	}
	if n := len(b.auditsOf(t, "lock.jammed")); n != 1 {
		t.Errorf("%d lock.jammed audits after state reports, want the 1 jam", n)
	}
	var kinds []sparekey.DeviceEventKind
	for _, e := range b.lockEvents(t, testkit.BenLock) {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Contains(kinds, sparekey.EventJammed) || slices.Contains(kinds, sparekey.EventJamCleared) {
		t.Errorf("lock events = %v, want the jam and no clear", kinds)
	}
}

func TestBatteryAndAvailability(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if l := b.lock(t, testkit.ChenLock); !l.Online || l.Battery != 100 || l.LastSeen == nil {
		t.Fatalf("after announce: %+v", l)
	}
	b.clock.Advance(time.Minute)
	b.setState(t, testkit.ChenLock, sim.StateChange{Battery: ptr(15)})
	if l := b.lock(t, testkit.ChenLock); l.Battery != 15 || !l.LastSeen.Equal(b.clock.Now()) {
		t.Errorf("after a battery report: %+v", l)
	}
	events := b.lockEvents(t, testkit.ChenLock)
	if last := events[len(events)-1]; last.Kind != sparekey.EventBattery || last.Detail != "15%" {
		t.Errorf("lock event = %+v", last)
	}
	if a := b.auditsOf(t, "lock.battery"); len(a) != 1 || a[0].Detail["battery"] != "15" {
		t.Errorf("battery audit = %+v", a)
	}

	b.clock.Advance(time.Minute)
	b.setState(t, testkit.ChenLock, offline)
	l := b.lock(t, testkit.ChenLock)
	if l.Online || l.Battery != 15 || !l.LastSeen.Equal(b.clock.Now()) {
		t.Errorf("after going offline: %+v", l)
	}
	// While offline, its reports are lost; the battery it reports on return counts.
	b.setState(t, testkit.ChenLock, sim.StateChange{Battery: ptr(9)})
	if l := b.lock(t, testkit.ChenLock); l.Battery != 15 || l.Online {
		t.Errorf("an offline lock's report arrived: %+v", l)
	}
	b.clock.Advance(time.Minute)
	b.setState(t, testkit.ChenLock, online)
	if l := b.lock(t, testkit.ChenLock); !l.Online || l.Battery != 9 || !l.LastSeen.Equal(b.clock.Now()) || l.State != sparekey.LockStateLocked {
		t.Errorf("after coming back: %+v", l)
	}
	if n, m := len(b.auditsOf(t, "lock.offline")), len(b.auditsOf(t, "lock.online")); n != 1 || m != 4 {
		t.Errorf("%d offline and %d online audits, want 1 and 4 (3 announcements and the return)", n, m)
	}
}

func TestEventFromUnknownDeviceDropped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	before := len(b.audits(t))
	for _, kind := range []sparekey.DeviceEventKind{sparekey.EventJammed, sparekey.EventKeypadUnlock, sparekey.EventOnline, sparekey.EventBattery} {
		ev := sparekey.DeviceEvent{Device: "unit-999-front", Kind: kind, Slot: 2, Battery: 50}
		if err := b.svc.Recorder.HandleEvent(b.ctx, ev); err != nil {
			t.Errorf("HandleEvent(%s from an unknown lock) = %v, want nil", kind, err)
		}
	}
	if after := len(b.audits(t)); after != before {
		t.Errorf("unknown lock's events wrote %d audit lines", after-before)
	}
	for _, l := range b.locks(t) {
		if l.State == sparekey.LockStateJammed || l.Battery == 50 {
			t.Errorf("unknown lock's event changed %s: %+v", l.Device, l)
		}
	}
}

// An event with no time gets the clock's.
func TestEventWithoutTime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.Advance(time.Hour)
	if err := b.svc.Recorder.HandleEvent(b.ctx, sparekey.DeviceEvent{Device: testkit.AnaLock, Kind: sparekey.EventLocked, Slot: -1, Battery: -1}); err != nil {
		t.Fatal(err)
	}
	if l := b.lock(t, testkit.AnaLock); l.LastSeen == nil || !l.LastSeen.Equal(b.clock.Now()) || l.State != sparekey.LockStateLocked {
		t.Errorf("lock = %+v", l)
	}
	events := b.lockEvents(t, testkit.AnaLock)
	if last := events[len(events)-1]; !last.At.Equal(b.clock.Now()) {
		t.Errorf("lock event at %v, want %v", last.At, b.clock.Now())
	}
}

// A backup code used twice before the reconciler replaced it on the lock is
// still the resident's code, not a guessed or leaked one.
func TestBackupCodeUsedTwiceBeforeRotation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	a := b.resident(t, testkit.AnaEmail)
	code := b.issue(t, testkit.AnaEmail)[0].Code
	for range 2 {
		if got := b.keypad(t, testkit.AnaLock, code); got != sim.KeypadUnlocked {
			t.Fatalf("backup code at the keypad = %s", got)
		}
	}
	rot := b.auditsOf(t, "backup_code.rotated")
	use := b.auditsOf(t, "lock.keypad_unlock")
	if len(rot) != 1 || len(use) != 2 || use[1].Detail["resident"] != itoa(a.ID) {
		reasons := []string{}
		for _, e := range rot {
			reasons = append(reasons, e.Detail["reason"])
		}
		t.Errorf("regression: the second use of a just-rotated backup code is taken for a leaked pool code: rotations %v, second keypad audit %v (keypadUsed in access/events.go)",
			reasons, use[len(use)-1].Detail)
	}
}

// TestReissuedCodeUsedUp: a backup slot used once, rotated and issued again
// is used up by its new holder's first use, even while a resync has made
// it pending (the earlier use must not make it look like a repeat).
func TestReissuedCodeUsedUp(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *access.Config) { c.PoolSize = 1 }))
	b.runOnce(t)
	first := b.issue(t, testkit.AnaEmail)[0]
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, first.Code); got != sim.KeypadUnlocked {
		t.Fatalf("first code = %s", got)
	}
	b.runOnce(t) // the fresh code reaches the lock
	b.clock.Advance(time.Minute)
	second := b.issue(t, testkit.AnaEmail)[0]
	if second.Number != first.Number || second.Code == first.Code || second.UsedAt != nil {
		t.Fatalf("re-issued slot = %+v; want the same slot, a new code, no use on record", second)
	}
	if err := b.svc.Reconciler.Resync(b.ctx, testkit.AnaLock); err != nil { // the lock is being reprogrammed
		t.Fatal(err)
	}
	b.clock.Advance(time.Minute)
	if got := b.keypad(t, testkit.AnaLock, second.Code); got != sim.KeypadUnlocked {
		t.Fatalf("second code = %s", got)
	}
	if sl := b.slot(t, testkit.AnaLock, second.Number); sl.Code == second.Code || sl.Backup != sparekey.BackupAvailable {
		t.Fatalf("second code not used up by its first use: %+v", sl)
	}
}
