package access_test

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

// hookDriver is the fleet with a hook in front of SetPIN and ClearPIN for
// one device. A nil hook passes the command on.
type hookDriver struct {
	*sim.Fleet
	device string
	hook   func(ctx context.Context, slot int, code string) error

	mu    sync.Mutex
	calls int
}

func (d *hookDriver) SetPIN(ctx context.Context, device string, slot int, code string) error {
	if device == d.device {
		d.mu.Lock()
		d.calls++
		d.mu.Unlock()
		if d.hook != nil {
			return d.hook(ctx, slot, code)
		}
	}
	return d.Fleet.SetPIN(ctx, device, slot, code)
}

func (d *hookDriver) ClearPIN(ctx context.Context, device string, slot int) error {
	if device == d.device {
		d.mu.Lock()
		d.calls++
		d.mu.Unlock()
		if d.hook != nil {
			return d.hook(ctx, slot, "")
		}
	}
	return d.Fleet.ClearPIN(ctx, device, slot)
}

func (d *hookDriver) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

func TestRunOnceProgramsPendingSlots(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, device := range []string{testkit.AnaLock, testkit.BenLock, testkit.ChenLock} {
		if got := b.fleet.Programmed(device); len(got) != 0 {
			t.Fatalf("%s holds codes before the reconciler ran: %v", device, got)
		}
		if info := b.lockInfo(t, device); info.SlotsPending != 4 || info.PoolReady != 0 {
			t.Fatalf("%s before RunOnce: %+v", device, info)
		}
	}
	if got := b.issue(t, testkit.AnaEmail); len(got) != 0 {
		t.Fatalf("a backup code was issued before the lock confirmed it: %+v", got)
	}

	if n := b.runOnce(t); n != 12 {
		t.Errorf("RunOnce programmed %d slots, want 12 (3 locks x (3 backup + 1 resident))", n)
	}
	for _, device := range []string{testkit.AnaLock, testkit.BenLock, testkit.ChenLock} {
		want := b.desired(t, device)
		if got := b.fleet.Programmed(device); !maps.Equal(got, want) {
			t.Errorf("%s: lock holds %v, database wants %v", device, got, want)
		}
		for _, sl := range b.slots(t, device) {
			if sl.Sync != sparekey.SyncSynced || sl.SyncedAt == nil || !sl.SyncedAt.Equal(testkit.T0) ||
				sl.SyncAttempts != 0 || sl.SyncError != "" || !sl.Usable() {
				t.Errorf("%s slot %d after RunOnce: %+v", device, sl.Number, sl)
			}
		}
		if info := b.lockInfo(t, device); info.SlotsPending != 0 || info.SlotsFailed != 0 || info.PoolReady != 3 {
			t.Errorf("%s after RunOnce: %+v", device, info)
		}
	}
	if got := b.desired(t, testkit.AnaLock)[3]; got != testkit.AnaCode {
		t.Errorf("Ana's slot 3 holds %q, want %s", got, testkit.AnaCode)
	}
	for device, code := range map[string]string{testkit.AnaLock: testkit.AnaCode, testkit.BenLock: testkit.BenCode, testkit.ChenLock: testkit.ChenCode} {
		if got := b.keypad(t, device, code); got != sim.KeypadUnlocked {
			t.Errorf("%s: resident code = %s, want unlocked", device, got)
		}
	}
	if n := b.runOnce(t); n != 0 {
		t.Errorf("second RunOnce programmed %d slots, want 0", n)
	}
	if got := b.issue(t, testkit.AnaEmail); len(got) != 1 {
		t.Errorf("after the lock confirmed its pool Ana got %d codes, want 1", len(got))
	}
}

func TestRunOnceOfflineLockWaits(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *access.Config) { c.MaxSyncAttempts = 3 }))
	b.setState(t, testkit.AnaLock, offline)
	if b.lock(t, testkit.AnaLock).Online {
		t.Fatal("lock still online after EventOffline")
	}

	if n := b.runOnce(t); n != 8 {
		t.Errorf("RunOnce programmed %d slots, want 8 (the two online locks)", n)
	}
	if got := b.fleet.Programmed(testkit.AnaLock); len(got) != 0 {
		t.Fatalf("offline lock got codes: %v", got)
	}
	check := func(when string) {
		t.Helper()
		now := b.clock.Now()
		for _, sl := range b.slots(t, testkit.AnaLock) {
			if sl.Sync != sparekey.SyncPending || sl.SyncAttempts != 0 || sl.SyncError == "" ||
				!sl.NextSyncAt.After(now) || sl.NextSyncAt.After(now.Add(time.Minute)) {
				t.Fatalf("%s: slot %d = %s attempts %d error %q next in %v; want pending, attempts not counted, retry within a minute",
					when, sl.Number, sl.Sync, sl.SyncAttempts, sl.SyncError, sl.NextSyncAt.Sub(now))
			}
		}
	}
	check("first pass")
	if n := b.runOnce(t); n != 0 {
		t.Errorf("RunOnce before the backoff passed programmed %d slots", n)
	}
	// However long the lock stays away, it is never given up on.
	for range 10 {
		b.clock.Advance(2 * time.Minute)
		if n := b.runOnce(t); n != 0 {
			t.Fatalf("RunOnce programmed %d slots on an offline lock", n)
		}
		check("while offline")
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsPending != 4 || info.SlotsFailed != 0 || info.PoolReady != 0 {
		t.Errorf("LockInfo of offline lock = %+v", info)
	}

	// Back online: everything is due at once.
	b.clock.Advance(time.Second)
	b.setState(t, testkit.AnaLock, online)
	if !b.lock(t, testkit.AnaLock).Online {
		t.Fatal("lock not online after EventOnline")
	}
	now := b.clock.Now()
	for _, sl := range b.slots(t, testkit.AnaLock) {
		if sl.NextSyncAt.After(now) {
			t.Errorf("slot %d still waits %v after the lock came back", sl.Number, sl.NextSyncAt.Sub(now))
		}
	}
	if n := b.runOnce(t); n != 4 {
		t.Errorf("RunOnce after the lock came back programmed %d slots, want 4", n)
	}
	if got, want := b.fleet.Programmed(testkit.AnaLock), b.desired(t, testkit.AnaLock); !maps.Equal(got, want) {
		t.Errorf("lock holds %v, database wants %v", got, want)
	}
	for _, sl := range b.slots(t, testkit.AnaLock) {
		if sl.Sync != sparekey.SyncSynced || sl.SyncError != "" {
			t.Errorf("slot %d = %+v", sl.Number, sl)
		}
	}
}

func TestRunOnceFlagsFailingSlot(t *testing.T) {
	t.Parallel()
	driver := &hookDriver{device: testkit.AnaLock, hook: func(context.Context, int, string) error {
		return errors.New("zcl: status FAILURE from 0x0017880104 (code 48291657)")
	}}
	b := setup(t,
		withConfig(func(c *access.Config) { c.MaxSyncAttempts = 3; c.BackoffMax = 10 * time.Second }),
		withDriver(func(f *sim.Fleet) sparekey.LockDriver { driver.Fleet = f; return driver }))

	var lastWait time.Duration
	for attempt := 1; attempt <= 3; attempt++ {
		b.runOnce(t)
		if got := driver.count(); got != 4*attempt {
			t.Fatalf("attempt %d: %d commands to the failing lock, want %d", attempt, got, 4*attempt)
		}
		now := b.clock.Now()
		for _, sl := range b.slots(t, testkit.AnaLock) {
			if sl.SyncAttempts != attempt || sl.SyncedAt != nil {
				t.Fatalf("attempt %d: slot %d = %+v", attempt, sl.Number, sl)
			}
			if strings.Contains(sl.SyncError, "zcl") || strings.Contains(sl.SyncError, "48291657") {
				t.Errorf("slot %d: sync error %q leaks driver detail", sl.Number, sl.SyncError)
			}
			if sl.SyncError == "" {
				t.Errorf("slot %d: no sync error recorded", sl.Number)
			}
			if attempt < 3 {
				wait := sl.NextSyncAt.Sub(now)
				if sl.Sync != sparekey.SyncPending || wait <= 0 || wait > 10*time.Second || wait < lastWait {
					t.Fatalf("attempt %d: slot %d = %s, next try in %v (last %v); want pending, backing off up to BackoffMax",
						attempt, sl.Number, sl.Sync, wait, lastWait)
				}
			} else if sl.Sync != sparekey.SyncFailed {
				t.Fatalf("slot %d = %s after MaxSyncAttempts, want failed", sl.Number, sl.Sync)
			}
		}
		lastWait = b.slots(t, testkit.AnaLock)[0].NextSyncAt.Sub(now)
		if attempt < 3 {
			if b.runOnce(t); driver.count() != 4*attempt {
				t.Fatalf("attempt %d: retried before the backoff passed", attempt)
			}
			if n := len(b.auditsOf(t, "slot.sync_failed")); n != 0 {
				t.Fatalf("attempt %d: %d slot.sync_failed audits already", attempt, n)
			}
		}
		b.clock.Advance(10 * time.Second)
	}

	audits := b.auditsOf(t, "slot.sync_failed")
	if len(audits) != 4 {
		t.Fatalf("%d slot.sync_failed audits, want one per slot (4): %+v", len(audits), audits)
	}
	for i, e := range audits {
		if e.Subject != "lock:"+testkit.AnaLock || e.Actor != "system" || e.Detail["slot"] == "" || e.Detail["error"] == "" {
			t.Errorf("audit %d = %+v", i, e)
		}
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsFailed != 4 || info.SlotsPending != 0 || info.PoolReady != 0 {
		t.Errorf("LockInfo = %+v, want 4 failed, 0 pending, 0 ready", info)
	}

	// A failed slot stays flagged while it fails: one quiet try an hour,
	// never synced, never issued, no new alarm.
	b.runOnce(t)
	if got := driver.count(); got != 12 {
		t.Errorf("%d commands right after the slots failed, want still 12", got)
	}
	b.clock.Advance(time.Hour)
	b.runOnce(t)
	if got := driver.count(); got != 16 {
		t.Errorf("%d commands an hour after the slots failed, want 16 (one retry each)", got)
	}
	if n := len(b.auditsOf(t, "slot.sync_failed")); n != 4 {
		t.Errorf("%d slot.sync_failed audits after the hourly retry, want still 4", n)
	}
	for _, sl := range b.slots(t, testkit.AnaLock) {
		if sl.Sync != sparekey.SyncFailed || sl.Usable() {
			t.Errorf("slot %d = %+v, want still failed", sl.Number, sl)
		}
	}
	if got := b.issue(t, testkit.AnaEmail); len(got) != 0 {
		t.Errorf("Ana got %+v from a pool that never reached the lock", got)
	}
	// The other locks were not held up.
	if got, want := b.fleet.Programmed(testkit.BenLock), b.desired(t, testkit.BenLock); !maps.Equal(got, want) {
		t.Errorf("%s holds %v, want %v", testkit.BenLock, got, want)
	}
}

// A slot whose code changed while the command was on its way to the lock
// must not be marked synced with the old code.
func TestRunOnceSlotChangedInFlight(t *testing.T) {
	t.Parallel()
	const newCode = "58203917"
	var b *testBundle
	var oldCode string
	driver := &hookDriver{device: testkit.AnaLock}
	driver.hook = func(ctx context.Context, slot int, code string) error {
		if slot == 0 && oldCode == "" {
			oldCode = code
			// Someone rotates the slot while the lock is being programmed.
			err := b.db.Tx(ctx, func(tx sparekey.Tx) error {
				sl := b.slot(t, testkit.AnaLock, 0)
				sl.Code, sl.Sync, sl.NextSyncAt = newCode, sparekey.SyncPending, b.clock.Now()
				return tx.UpdateSlot(ctx, sl)
			})
			if err != nil {
				return err
			}
		}
		return driver.Fleet.SetPIN(ctx, testkit.AnaLock, slot, code)
	}
	b = setup(t, withDriver(func(f *sim.Fleet) sparekey.LockDriver { driver.Fleet = f; return driver }))

	b.runOnce(t)
	if oldCode == "" || oldCode == newCode {
		t.Fatalf("slot 0 was not programmed (old code %q)", oldCode)
	}
	sl := b.slot(t, testkit.AnaLock, 0)
	if sl.Code != newCode || sl.Sync != sparekey.SyncPending || sl.SyncedAt != nil {
		t.Fatalf("slot 0 after the in-flight change = code %q %s synced at %v; want the new code, still pending",
			sl.Code, sl.Sync, sl.SyncedAt)
	}
	if got := b.fleet.Programmed(testkit.AnaLock)[0]; got != oldCode {
		t.Fatalf("lock slot 0 holds %q, want the old code the command carried", got)
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsPending != 1 || info.PoolReady != 2 {
		t.Errorf("LockInfo = %+v, want 1 pending and 2 ready", info)
	}

	b.runOnce(t)
	sl = b.slot(t, testkit.AnaLock, 0)
	if sl.Sync != sparekey.SyncSynced || b.fleet.Programmed(testkit.AnaLock)[0] != newCode {
		t.Fatalf("next pass: slot 0 = %s, lock holds %q; want synced with %s", sl.Sync, b.fleet.Programmed(testkit.AnaLock)[0], newCode)
	}
	if got := b.keypad(t, testkit.AnaLock, oldCode); got != sim.KeypadRejected {
		t.Errorf("old code at the keypad = %s, want rejected", got)
	}
}

func TestRunOnceRotatesExpiredCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	a := b.resident(t, testkit.AnaEmail)
	anas := b.issue(t, testkit.AnaEmail)
	if len(anas) != 1 {
		t.Fatalf("Ana got %d codes", len(anas))
	}
	old := anas[0]
	b.clock.Advance(12 * time.Hour)
	bens := b.issue(t, testkit.BenEmail)
	if len(bens) != 1 {
		t.Fatalf("Ben got %d codes", len(bens))
	}

	// Just under 24h: nothing rotates.
	b.clock.Advance(12*time.Hour - time.Second)
	if n := b.runOnce(t); n != 0 {
		t.Errorf("RunOnce before expiry programmed %d slots", n)
	}
	if sl := b.slot(t, testkit.AnaLock, old.Number); sl.Code != old.Code || sl.Backup != sparekey.BackupIssued || sl.IssuedTo != a.ID {
		t.Fatalf("Ana's code changed before 24h: %+v", sl)
	}
	if n := len(b.auditsOf(t, "backup_code.rotated")); n != 0 {
		t.Fatalf("%d rotations before expiry", n)
	}

	// Past 24h: Ana's code is rotated and the fresh code programmed in the
	// same pass; Ben's, 12h old, stays.
	b.clock.Advance(2 * time.Second)
	if n := b.runOnce(t); n != 1 {
		t.Errorf("RunOnce after expiry programmed %d slots, want 1", n)
	}
	sl := b.slot(t, testkit.AnaLock, old.Number)
	if sl.Code == old.Code || sl.Backup != sparekey.BackupAvailable || sl.IssuedTo != old.IssuedTo || sl.IssuedAt != nil ||
		sl.Sync != sparekey.SyncSynced || len(sl.Code) != 8 || access.Trivial(sl.Code) {
		t.Fatalf("expired slot after RunOnce = %+v", sl)
	}
	if got := b.fleet.Programmed(testkit.AnaLock)[old.Number]; got != sl.Code {
		t.Errorf("lock slot %d holds %q, want the fresh code", old.Number, got)
	}
	if got := b.keypad(t, testkit.AnaLock, old.Code); got != sim.KeypadRejected {
		t.Errorf("expired backup code at the keypad = %s, want rejected", got)
	}
	rot := b.auditsOf(t, "backup_code.rotated")
	if len(rot) != 1 || rot[0].Detail["reason"] != "expired" || rot[0].Detail["lock"] != testkit.AnaLock ||
		rot[0].Detail["resident"] != itoa(a.ID) || rot[0].Subject != "lock:"+testkit.AnaLock {
		t.Errorf("rotation audit = %+v", rot)
	}
	if sl := b.slot(t, testkit.BenLock, bens[0].Number); sl.Code != bens[0].Code || sl.Backup != sparekey.BackupIssued {
		t.Errorf("Ben's 12h-old code was rotated: %+v", sl)
	}
	if got := b.issue(t, testkit.AnaEmail); len(got) != 1 || got[0].Code == old.Code {
		t.Errorf("Ana's next code = %+v; the expired one must not come back", got)
	}
}

// One lock whose pool cannot be filled (all its slots are taken, here
// because the pool size was raised) must not stop the other locks from
// being reconciled.
func TestRunOnceFullLockDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tiny := b.newLock(t, "a-tiny-lock", 4, 6, 8)
	if err := b.provision(tiny); err != nil {
		t.Fatal(err)
	}
	b.write(t, func(tx sparekey.Tx) error {
		r := &sparekey.Resident{UnitID: tiny.UnitID, Name: "Dee", Email: "dee@example.com", Phone: "+12015550111", CreatedAt: testkit.T0}
		if err := tx.CreateResident(b.ctx, r); err != nil {
			return err
		}
		_, err := b.svc.Codes.AssignResidentCode(b.ctx, tx, tiny, r, "")
		return err
	})
	b.fleet.Add(tiny.Device, 4)

	bigger := access.New(access.Config{Store: b.db, Driver: b.fleet, Clock: b.clock, PoolSize: 4})
	n, err := bigger.Reconciler.RunOnce(b.ctx)
	if err != nil {
		t.Errorf("regression: RunOnce fails for every lock when one lock has no free slot for its pool: %v (programmed %d)", err, n)
	}
	if got, want := b.fleet.Programmed(testkit.AnaLock), b.desired(t, testkit.AnaLock); len(got) != 5 || !maps.Equal(got, want) {
		t.Errorf("%s holds %v, want %v", testkit.AnaLock, got, want)
	}
	if got := b.fleet.Programmed(tiny.Device); len(got) != 4 {
		t.Errorf("the full lock's own codes were not programmed: %v", got)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// goroutines counts running goroutines whose stack holds fn.
func goroutines(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), fn)
		}
		buf = make([]byte, 2*len(buf))
	}
}

const reconcilerFrame = "sparekey/loop.(*Loop).run("

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The Start/Stop tests count the reconciler's goroutines, so they do not
// run in parallel with each other (no other test starts a reconciler).
var startStop sync.Mutex

func TestStartStopAndNudge(t *testing.T) {
	startStop.Lock()
	defer startStop.Unlock()
	b := setup(t, withConfig(func(c *access.Config) { c.SyncInterval = time.Hour }))
	before := goroutines(reconcilerFrame)

	b.svc.Reconciler.Stop() // before Start: a no-op
	b.svc.Reconciler.Start(b.ctx)
	b.svc.Reconciler.Start(b.ctx) // twice: still one reconciler
	// A goroutine just started may not show its frame yet: wait for it.
	waitFor(t, "the reconciler goroutine", func() bool { return goroutines(reconcilerFrame)-before >= 1 })
	time.Sleep(20 * time.Millisecond)
	if got := goroutines(reconcilerFrame) - before; got != 1 {
		t.Errorf("%d reconciler goroutines after two Starts, want 1", got)
	}
	// The first pass runs at once.
	waitFor(t, "the first pass to program every lock", func() bool {
		return maps.Equal(b.fleet.Programmed(testkit.ChenLock), b.desired(t, testkit.ChenLock)) && len(b.fleet.Programmed(testkit.ChenLock)) == 4
	})

	// The interval is an hour: only a nudge makes it program a change now.
	const newCode = "58203917"
	b.write(t, func(tx sparekey.Tx) error {
		sl := b.slot(t, testkit.AnaLock, 0)
		sl.Code, sl.Sync, sl.NextSyncAt = newCode, sparekey.SyncPending, b.clock.Now()
		return tx.UpdateSlot(b.ctx, sl)
	})
	b.svc.Reconciler.Nudge()
	b.svc.Reconciler.Nudge() // nudges do not pile up or block
	b.svc.Reconciler.Nudge()
	waitFor(t, "the nudged pass to program the change", func() bool {
		return b.fleet.Programmed(testkit.AnaLock)[0] == newCode && b.slot(t, testkit.AnaLock, 0).Sync == sparekey.SyncSynced
	})

	start := time.Now()
	b.svc.Reconciler.Stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %v", d)
	}
	waitFor(t, "the reconciler goroutine to end", func() bool { return goroutines(reconcilerFrame) == before })
	b.svc.Reconciler.Stop() // twice: a no-op

	// Stopped means stopped: a nudge programs nothing.
	b.write(t, func(tx sparekey.Tx) error {
		sl := b.slot(t, testkit.AnaLock, 1)
		sl.Code, sl.Sync, sl.NextSyncAt = "69314725", sparekey.SyncPending, b.clock.Now()
		return tx.UpdateSlot(b.ctx, sl)
	})
	b.svc.Reconciler.Nudge()
	time.Sleep(50 * time.Millisecond)
	if b.fleet.Programmed(testkit.AnaLock)[1] == "69314725" {
		t.Error("a stopped reconciler programmed a slot")
	}

	// It starts again after Stop, and ends with its context too.
	ctx, cancel := context.WithCancel(b.ctx)
	b.svc.Reconciler.Start(ctx)
	waitFor(t, "the restarted reconciler to program the change", func() bool {
		return b.fleet.Programmed(testkit.AnaLock)[1] == "69314725"
	})
	cancel()
	waitFor(t, "the reconciler to end with its context", func() bool { return goroutines(reconcilerFrame) == before })
	b.svc.Reconciler.Stop()
}

// Stop returns promptly even while a command to a lock hangs, and the
// interrupted command is neither counted as a failure nor as done.
func TestStopInterruptsHangingCommand(t *testing.T) {
	startStop.Lock()
	defer startStop.Unlock()
	entered := make(chan struct{}, 100)
	driver := &hookDriver{device: testkit.AnaLock, hook: func(ctx context.Context, _ int, _ string) error {
		entered <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}}
	b := setup(t, withDriver(func(f *sim.Fleet) sparekey.LockDriver { driver.Fleet = f; return driver }))
	before := goroutines(reconcilerFrame)
	b.svc.Reconciler.Start(b.ctx)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the reconciler never reached the hanging lock")
	}
	stopped := make(chan struct{})
	go func() { b.svc.Reconciler.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop hangs while a command hangs")
	}
	waitFor(t, "the reconciler goroutine to end", func() bool { return goroutines(reconcilerFrame) == before })
	for _, sl := range b.slots(t, testkit.AnaLock) {
		if sl.Sync != sparekey.SyncPending || sl.SyncAttempts != 0 {
			t.Errorf("slot %d after an interrupted command = %s, %d attempts; want pending, 0", sl.Number, sl.Sync, sl.SyncAttempts)
		}
	}
}

// Retries to a lock that stays offline back off (Config.BackoffMax: "retries
// for an offline lock are capped at 1m"), instead of hitting it every 2 s.
func TestOfflineRetriesBackOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setState(t, testkit.AnaLock, offline)
	var waits []time.Duration
	for range 8 {
		b.runOnce(t)
		sl := b.slot(t, testkit.AnaLock, 0)
		wait := sl.NextSyncAt.Sub(b.clock.Now())
		waits = append(waits, wait)
		b.clock.Advance(wait)
	}
	if waits[len(waits)-1] <= waits[0] {
		t.Errorf("regression: an offline lock is retried every %v forever, the wait never grows toward the 1m cap: %v (syncSlot in access/reconcile.go does not count offline attempts, so backoff(0, true) is always 2s)",
			waits[0], waits)
	}
}

// A slot flagged failed heals by itself once the lock takes commands again.
func TestFailedSlotHealsOnHourlyRetry(t *testing.T) {
	t.Parallel()
	var broken atomic.Bool
	broken.Store(true)
	driver := &hookDriver{device: testkit.AnaLock, hook: func(ctx context.Context, slot int, code string) error {
		if broken.Load() {
			return errors.New("lock rejected the command")
		}
		return nil
	}}
	b := setup(t, withConfig(func(c *access.Config) { c.MaxSyncAttempts = 2 }),
		withDriver(func(f *sim.Fleet) sparekey.LockDriver { driver.Fleet = f; return driver }))
	for range 4 {
		b.runOnce(t)
		b.clock.Advance(time.Minute)
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsFailed == 0 {
		t.Fatalf("no slot failed: %+v", info)
	}
	broken.Store(false)
	b.clock.Advance(time.Hour)
	b.runOnce(t)
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsFailed != 0 || info.SlotsPending != 0 {
		t.Fatalf("after the lock recovered: %+v, want every slot synced", info)
	}
}

// TestAnswerMeansOnline: a lock Sparekey thought offline (it missed the
// availability report) is online once it confirms a code.
func TestAnswerMeansOnline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	b.write(t, func(tx sparekey.Tx) error {
		l, err := tx.LockByDevice(b.ctx, testkit.ChenLock)
		if err != nil {
			return err
		}
		l.Online = false
		return tx.UpdateLock(b.ctx, l)
	})
	if err := b.svc.Reconciler.Resync(b.ctx, testkit.ChenLock); err != nil {
		t.Fatal(err)
	}
	b.runOnce(t)
	if l := b.lock(t, testkit.ChenLock); !l.Online {
		t.Fatal("a lock that confirmed its codes is still recorded offline")
	}
}

// TestPreload: a lock whose memory Sparekey fills itself holds every code
// and every slot is confirmed, with nothing sent through the driver.
func TestPreload(t *testing.T) {
	t.Parallel()
	b := setup(t) // slots pending, the virtual locks empty
	got := map[int]string{}
	err := b.svc.Reconciler.Preload(b.ctx, testkit.AnaLock, func(slot int, code string) error {
		got[slot] = code
		return b.fleet.SetPIN(b.ctx, testkit.AnaLock, slot, code)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := b.desired(t, testkit.AnaLock); len(got) != len(want) || len(got) != 4 {
		t.Fatalf("preloaded %v, want the desired codes %v", got, want)
	}
	if info := b.lockInfo(t, testkit.AnaLock); info.SlotsPending != 0 || info.PoolReady != 3 {
		t.Fatalf("after Preload: %+v", info)
	}
	if got := b.keypad(t, testkit.AnaLock, "482916"); got != sim.KeypadUnlocked {
		t.Fatalf("Ana's code after Preload = %s", got)
	}
}
