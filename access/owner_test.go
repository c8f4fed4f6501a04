package access_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/internal/testkit"
)

// TestOnlyTheOwnerProgramsALock: with several instances, an instance
// leaves the locks it does not own to their owner.
func TestOnlyTheOwnerProgramsALock(t *testing.T) {
	t.Parallel()
	b := setup(t, withConfig(func(c *access.Config) {
		c.Owns = func(device string) bool { return device != testkit.BenLock }
	}))
	b.runOnce(t)
	if len(b.fleet.Programmed(testkit.AnaLock)) == 0 {
		t.Fatal("owned lock not programmed")
	}
	if got := b.fleet.Programmed(testkit.BenLock); len(got) != 0 {
		t.Fatalf("a lock another instance owns was programmed: %v", got)
	}
	if info := b.lockInfo(t, testkit.BenLock); info.SlotsPending == 0 {
		t.Fatal("the other owner's slots should still be pending")
	}
}

// TestReplayedEventRecordedOnce: a report the dead owner already recorded
// is not recorded again when the new owner replays it; one it had not
// recorded is.
func TestReplayedEventRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runOnce(t)
	at := b.clock.Now()
	wrong := sparekey.DeviceEvent{Device: testkit.ChenLock, Kind: sparekey.EventWrongCode, At: at, Slot: -1, Source: "keypad", Battery: -1}
	if err := b.svc.Recorder.HandleEvent(b.ctx, wrong); err != nil {
		t.Fatal(err)
	}
	before := len(b.lockEvents(t, testkit.ChenLock))
	replay := wrong
	replay.Replayed = true
	replay.At = at.Add(40 * time.Millisecond) // the other instance read it a moment later
	if err := b.svc.Recorder.HandleEvent(b.ctx, replay); err != nil {
		t.Fatal(err)
	}
	if n := len(b.lockEvents(t, testkit.ChenLock)); n != before {
		t.Fatalf("replayed duplicate recorded: %d lock events, had %d", n, before)
	}
	jam := sparekey.DeviceEvent{Device: testkit.ChenLock, Kind: sparekey.EventJammed, At: at.Add(time.Second), Slot: -1, Battery: -1, Replayed: true}
	if err := b.svc.Recorder.HandleEvent(b.ctx, jam); err != nil {
		t.Fatal(err)
	}
	if l := b.lock(t, testkit.ChenLock); l.State != sparekey.LockStateJammed {
		t.Fatalf("replayed jam nobody had recorded: lock state %s, want jammed", l.State)
	}
}
