package sim

import (
	"context"
	"testing"
	"time"

	"sparekey"
)

func TestKeypadOpensWithProgrammedCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setPIN(t, 3, "482913")
	b.clock.Advance(time.Minute)

	res := b.keypad(t, "482913")
	if want := (KeypadResult{Result: KeypadUnlocked, Slot: 3}); res != want {
		t.Errorf("Keypad = %+v, want %+v", res, want)
	}
	if got := b.status(t).State; got != sparekey.LockStateUnlocked {
		t.Errorf("state = %s, want unlocked", got)
	}
	want := b.event(sparekey.EventKeypadUnlock, SourceKeypad, sparekey.LockStateUnlocked)
	want.Slot = 3
	b.wantEvents(t, want)
}

func TestKeypadRejectsWrongCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
	}{
		{"wrong code", "111222"},
		{"prefix of a code", "4829"},
		{"code plus a digit", "4829130"},
		{"empty entry", ""},
		{"code of a cleared slot", "730194"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.setPIN(t, 0, "482913")
			b.setPIN(t, 1, "730194")
			if err := b.fleet.ClearPIN(context.Background(), dev, 1); err != nil {
				t.Fatal(err)
			}
			res := b.keypad(t, tt.code)
			if want := (KeypadResult{Result: KeypadRejected}); res != want {
				t.Errorf("Keypad = %+v, want %+v", res, want)
			}
			if got := b.status(t).State; got != sparekey.LockStateLocked {
				t.Errorf("state = %s, want locked", got)
			}
			b.wantEvents(t, b.event(sparekey.EventWrongCode, SourceKeypad, sparekey.LockStateLocked))
		})
	}
}

func TestKeypadLockout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setPIN(t, 0, "482913")

	for i := range MaxWrongCodes {
		if res := b.keypad(t, "000111"); res.Result != KeypadRejected {
			t.Fatalf("wrong code %d: %+v, want rejected", i+1, res)
		}
	}
	wrong := b.event(sparekey.EventWrongCode, SourceKeypad, sparekey.LockStateLocked)
	b.wantEvents(t, wrong, wrong, wrong, wrong, wrong,
		b.event(sparekey.EventKeypadLocked, SourceKeypad, sparekey.LockStateLocked))
	if got, want := b.status(t).KeypadDisabledUntil, t0.Add(LockoutDuration); !got.Equal(want) {
		t.Errorf("KeypadDisabledUntil = %s, want %s", got, want)
	}

	disabled := KeypadResult{Result: KeypadDisabled}
	if res := b.keypad(t, "482913"); res != disabled {
		t.Errorf("right code while disabled = %+v, want %+v", res, disabled)
	}
	b.clock.Advance(59 * time.Second)
	if res := b.keypad(t, "482913"); res != disabled {
		t.Errorf("right code at 59 s = %+v, want %+v", res, disabled)
	}
	if got := b.status(t).State; got != sparekey.LockStateLocked {
		t.Errorf("state while disabled = %s, want locked", got)
	}
	b.wantEvents(t) // entries on a disabled keypad are not reported

	b.clock.Advance(time.Second)
	if res := b.keypad(t, "482913"); res.Result != KeypadUnlocked {
		t.Errorf("right code at 60 s = %+v, want unlocked", res)
	}
	if got := b.status(t).KeypadDisabledUntil; !got.IsZero() {
		t.Errorf("KeypadDisabledUntil after the lockout = %s, want zero", got)
	}
}

// TestWrongCodesMustBeConsecutive: a right code resets the count, and the
// count starts again after a lockout.
func TestWrongCodesMustBeConsecutive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setPIN(t, 0, "482913")
	enter := func(code string, times int, want string) {
		t.Helper()
		for range times {
			if res := b.keypad(t, code); res.Result != want {
				t.Fatalf("Keypad = %+v, want %s", res, want)
			}
		}
	}
	enter("000111", MaxWrongCodes-1, KeypadRejected)
	enter("482913", 1, KeypadUnlocked)
	enter("000111", MaxWrongCodes-1, KeypadRejected)
	enter("482913", 1, KeypadUnlocked)

	enter("000111", MaxWrongCodes, KeypadRejected)
	b.clock.Advance(LockoutDuration)
	enter("000111", MaxWrongCodes-1, KeypadRejected)
	enter("482913", 1, KeypadUnlocked)
}

func TestJam(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before sparekey.LockState
	}{
		{"while locked", sparekey.LockStateLocked},
		{"while unlocked", sparekey.LockStateUnlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			b.setPIN(t, 0, "482913")
			b.setPIN(t, 5, "730194")
			if tt.before == sparekey.LockStateUnlocked {
				if err := b.fleet.Unlock(ctx, dev); err != nil {
					t.Fatal(err)
				}
			}
			b.events.take()

			b.setState(t, StateChange{Jammed: new(true)})
			jammed := b.event(sparekey.EventJammed, "", sparekey.LockStateJammed)
			b.wantEvents(t, jammed)
			if s := b.status(t); s.State != sparekey.LockStateJammed || !s.Jammed {
				t.Errorf("status while jammed = %+v", s)
			}

			// Every entry, right or wrong, and more than the lockout
			// allows, answers with the jam and reports it.
			want := KeypadResult{Result: KeypadJammed, Pattern: PatternXOdd}
			codes := []string{"482913", "730194", "000111", "000111", "000111", "000111", "000111", ""}
			for _, code := range codes {
				if res := b.keypad(t, code); res != want {
					t.Errorf("Keypad(%q) while jammed = %+v, want %+v", code, res, want)
				}
			}
			jammedAtKeypad := b.event(sparekey.EventJammed, SourceKeypad, sparekey.LockStateJammed)
			var wantJams []sparekey.DeviceEvent
			for range codes {
				wantJams = append(wantJams, jammedAtKeypad)
			}
			b.wantEvents(t, wantJams...)

			wantCode(t, b.fleet.Unlock(ctx, dev), sparekey.ELOCKJAMMED)
			wantCode(t, b.fleet.Lock(ctx, dev), sparekey.ELOCKJAMMED)
			// The radio and the keypad's memory still work.
			b.setPIN(t, 6, "551820")
			b.wantEvents(t)

			b.clock.Advance(time.Hour)
			b.setState(t, StateChange{Jammed: new(false)})
			b.wantEvents(t, b.event(sparekey.EventJamCleared, "", tt.before))
			if s := b.status(t); s.State != tt.before || s.Jammed {
				t.Errorf("status after the jam = %+v, want state %s", s, tt.before)
			}
			for slot, code := range map[int]string{0: "482913", 5: "730194", 6: "551820"} {
				if res := b.keypad(t, code); res.Result != KeypadUnlocked || res.Slot != slot {
					t.Errorf("Keypad(slot %d code) after the jam = %+v", slot, res)
				}
			}
		})
	}
}

// TestJamIsReportedOnlyWhenItChanges: setting the same jam state twice is no
// new report.
func TestJamIsReportedOnlyWhenItChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setState(t, StateChange{Jammed: new(false)})
	b.setState(t, StateChange{Online: new(true)})
	b.wantEvents(t)
	b.setState(t, StateChange{Jammed: new(true)})
	b.setState(t, StateChange{Jammed: new(true)})
	b.wantEvents(t, b.event(sparekey.EventJammed, "", sparekey.LockStateJammed))
}

func TestOffline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.setPIN(t, 2, "482913")

	b.setState(t, StateChange{Online: new(false)})
	b.wantEvents(t, b.event(sparekey.EventOffline, "", sparekey.LockStateLocked))
	if s := b.status(t); s.Online {
		t.Errorf("status after going offline = %+v", s)
	}

	commands := []struct {
		name string
		call func() error
	}{
		{"SetPIN", func() error { return b.fleet.SetPIN(ctx, dev, 3, "730194") }},
		{"ClearPIN", func() error { return b.fleet.ClearPIN(ctx, dev, 2) }},
		{"Lock", func() error { return b.fleet.Lock(ctx, dev) }},
		{"Unlock", func() error { return b.fleet.Unlock(ctx, dev) }},
	}
	for _, c := range commands {
		err := c.call()
		wantCode(t, err, sparekey.ELOCKOFFLINE)
		if got, want := sparekey.ErrorMessage(err), "lock "+dev+" is offline"; got != want {
			t.Errorf("%s: message %q, want %q", c.name, got, want)
		}
	}
	if got := b.fleet.Programmed(dev); len(got) != 1 || got[2] != "482913" {
		t.Errorf("Programmed after refused commands = %v", got)
	}

	// The keypad still works with the codes on the lock; nothing is reported.
	if res := b.keypad(t, "000111"); res.Result != KeypadRejected {
		t.Errorf("wrong code offline = %+v", res)
	}
	if res := b.keypad(t, "482913"); res.Result != KeypadUnlocked || res.Slot != 2 {
		t.Errorf("code on the lock offline = %+v, want unlocked slot 2", res)
	}
	b.setState(t, StateChange{Battery: new(40)})
	b.setState(t, StateChange{Jammed: new(true)})
	if res := b.keypad(t, "482913"); res.Result != KeypadJammed {
		t.Errorf("jammed offline = %+v", res)
	}
	b.setState(t, StateChange{Jammed: new(false)})
	b.setState(t, StateChange{Online: new(false)})
	b.wantEvents(t)

	b.clock.Advance(time.Minute)
	b.setState(t, StateChange{Online: new(true)})
	online := b.event(sparekey.EventOnline, "", sparekey.LockStateUnlocked)
	online.Battery = 40
	b.wantEvents(t, online)
	if s := b.status(t); !s.Online || s.State != sparekey.LockStateUnlocked || s.Battery != 40 {
		t.Errorf("status back online = %+v", s)
	}
	if err := b.fleet.Lock(ctx, dev); err != nil {
		t.Errorf("Lock back online: %v", err)
	}
	b.wantEvents(t, b.event(sparekey.EventLocked, SourceRemote, sparekey.LockStateLocked))
}

// TestStateChangeOrder: a lock coming online reports the other changes after
// EventOnline; a lock going offline reports them before EventOffline.
func TestStateChangeOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setState(t, StateChange{Online: new(false), Jammed: new(true), Battery: new(30)})
	battery := b.event(sparekey.EventBattery, "", sparekey.LockStateJammed)
	battery.Battery = 30
	b.wantEvents(t,
		b.event(sparekey.EventJammed, "", sparekey.LockStateJammed),
		battery,
		b.event(sparekey.EventOffline, "", sparekey.LockStateJammed))

	b.setState(t, StateChange{Online: new(true), Jammed: new(false), Battery: new(20)})
	online := b.event(sparekey.EventOnline, "", sparekey.LockStateJammed)
	online.Battery = 30
	battery = b.event(sparekey.EventBattery, "", sparekey.LockStateLocked)
	battery.Battery = 20
	b.wantEvents(t, online, b.event(sparekey.EventJamCleared, "", sparekey.LockStateLocked), battery)
}
