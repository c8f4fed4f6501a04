package upkeep_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/upkeep"
)

// Three jams within the window open exactly one work order, whose first
// note holds what maintenance needs, and the team hears of it once by SMS
// and once by email.
func TestThreeJamsOpenOneWorkOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	maple, lock := b.maple(t), b.lock(t, testkit.AnaLock)

	// The first jam is found by a resident typing their code twice.
	b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	b.clock.Advance(5 * time.Minute)
	b.clear(t, testkit.AnaLock)
	b.clock.Advance(2 * 24 * time.Hour)
	b.jamCleared(t, testkit.AnaLock, 3*24*time.Hour)
	if got := b.orders(t, testkit.AnaLock); len(got) != 0 {
		t.Fatalf("two jams opened %d work orders", len(got))
	}
	if got := b.sent(t, "work_order"); len(got) != 0 {
		t.Fatalf("two jams queued %q", got)
	}

	b.jam(t, testkit.AnaLock)
	wo := b.only(t, testkit.AnaLock)
	now := b.clock.Now()
	if wo.Status != sparekey.WorkOrderOpen || wo.Source != sparekey.SourceJamRule || wo.Kind != sparekey.WorkOrderLockJam ||
		wo.JamCount != 3 || wo.Summary != "Jammed 3 times within 14 days." || wo.PropertyID != maple.ID ||
		wo.UnitID != lock.UnitID || wo.LockID != lock.ID || !wo.CreatedAt.Equal(now) || wo.AssigneeID != 0 ||
		wo.StartedAt != nil || wo.ResolvedAt != nil || wo.HealthyOps != 0 {
		t.Fatalf("work order = %+v", wo)
	}

	notes := b.notes(t, wo.ID)
	if len(notes) != 1 || notes[0].Kind != "opened" || notes[0].Author != "system" || !notes[0].At.Equal(now) {
		t.Fatalf("notes = %+v, want one opening note", notes)
	}
	text := notes[0].Text
	for _, want := range []string{
		"Jammed 3 times within 14 days.\n",
		"Door: Front door, unit 101 (unit-101-front), Maple Court Apartments.",
		"Battery: 87%.",
		"Lock is online, jammed.",
		"Jams in the last 30 days: 3.",
		// Jams newest first, in the property's time zone (New York).
		"- Mar 7, 9:10 AM EST, reported by the lock, not cleared",
		"- Mar 4, 9:05 AM EST, reported by the lock, cleared after 5 minutes",
		"- Mar 2, 9:00 AM EST, reported on keypad use, 2 code tries while jammed, cleared after 5 minutes",
		"Last events:",
		"- Mar 7, 9:10 AM EST jammed",
		"jam cleared",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("opening note lacks %q:\n%s", want, text)
		}
	}

	sameList(t, "messages to maintenance", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
	})
	link := fmt.Sprintf("%s/console/work-orders/%d", baseURL, wo.ID)
	for _, m := range b.messages(t) {
		switch m.Channel {
		case sparekey.ChannelSMS:
			want := fmt.Sprintf("Maple Court Apartments: work order #%d, Front door, unit 101. Jammed 3 times within 14 days. %s", wo.ID, link)
			if m.Body != want {
				t.Errorf("SMS = %q, want %q", m.Body, want)
			}
		case sparekey.ChannelEmail:
			if want := fmt.Sprintf("Work order #%d: Front door, unit 101 jammed", wo.ID); m.Subject != want {
				t.Errorf("email subject = %q, want %q", m.Subject, want)
			}
			for _, want := range []string{link, "Battery: 87%.", "Jams in the last 30 days: 3."} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("email body lacks %q:\n%s", want, m.Body)
				}
			}
		}
		if m.Status != sparekey.MessageQueued || !m.NextAttemptAt.Equal(now) {
			t.Errorf("message %+v is not due now", m)
		}
	}

	opened := b.audits(t, "work_order.opened")
	if len(opened) != 1 || opened[0].Subject != fmt.Sprintf("work_order:%d", wo.ID) || opened[0].Actor != "system" ||
		opened[0].Detail["lock"] != testkit.AnaLock || opened[0].Detail["source"] != sparekey.SourceJamRule || opened[0].Detail["jams"] != "3" {
		t.Errorf("work_order.opened audit = %+v", opened)
	}
	if got := b.audits(t, "message.queued"); len(got) != 2 {
		t.Errorf("%d message.queued audit lines, want 2", len(got))
	}
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceJamRule})
	for _, other := range []string{testkit.BenLock, testkit.ChenLock} {
		if got := b.orders(t, other); len(got) != 0 {
			t.Errorf("%s has work orders: %+v", other, got)
		}
	}
}

// Jams after the order opened go onto it, however far apart: no second
// order, no second message to the team.
func TestLaterJamsGoOntoTheOpenOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, 24*time.Hour)
	}
	wo := b.only(t, testkit.AnaLock)
	if wo.JamCount != 3 {
		t.Fatalf("JamCount = %d, want 3", wo.JamCount)
	}

	b.jam(t, testkit.AnaLock)
	wo = b.only(t, testkit.AnaLock)
	if wo.JamCount != 4 || wo.Status != sparekey.WorkOrderOpen || !wo.UpdatedAt.Equal(b.clock.Now()) {
		t.Fatalf("after the 4th jam: %+v", wo)
	}
	jam := b.notesOf(t, wo.ID, "jam")
	if len(jam) != 1 || jam[0].Text != "Jammed again (reported by the lock). 4 jams on this order." || jam[0].Author != "system" {
		t.Errorf("jam notes = %+v", jam)
	}
	b.clear(t, testkit.AnaLock)
	b.clock.Advance(30 * 24 * time.Hour) // past any window: the order is still open
	b.jam(t, testkit.AnaLock)
	if wo = b.only(t, testkit.AnaLock); wo.JamCount != 5 {
		t.Errorf("JamCount = %d after a 5th jam a month later, want 5", wo.JamCount)
	}
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
	})
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceJamRule})
	if got := len(b.audits(t, "work_order.opened")); got != 1 {
		t.Errorf("%d work_order.opened audit lines, want 1", got)
	}
}

// A jammed lock reports the jam again on every keypad try: that is one jam
// with more attempts, not more jams.
func TestJamReportsWhileJammedAreOneJam(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jam(t, testkit.AnaLock)
	for range 3 {
		b.clock.Advance(time.Minute)
		b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	}
	b.jam(t, testkit.AnaLock) // the lock says it again on its own: no try
	jams := b.jams(t, testkit.AnaLock)
	if len(jams) != 1 {
		t.Fatalf("%d jams, want 1: %+v", len(jams), jams)
	}
	if j := jams[0]; j.Attempts != 3 || j.Cause != "reported by the lock" || j.ClearedAt != nil || !j.StartedAt.Equal(testkit.T0) {
		t.Errorf("jam = %+v, want 3 attempts, not cleared, started at t0", j)
	}
	if l := b.lock(t, testkit.AnaLock); l.State != sparekey.LockStateJammed {
		t.Errorf("lock state = %s", l.State)
	}

	b.clear(t, testkit.AnaLock)
	j := b.jams(t, testkit.AnaLock)[0]
	if j.ClearedAt == nil || !j.ClearedAt.Equal(b.clock.Now()) || j.ClearedBy != string(sparekey.EventJamCleared) {
		t.Errorf("cleared jam = %+v", j)
	}

	// A jam first found at the keypad starts with that try.
	b.clock.Advance(time.Hour)
	b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	jams = b.jams(t, testkit.AnaLock)
	if len(jams) != 2 || jams[0].Attempts != 1 || jams[0].Cause != "reported on keypad use" {
		t.Fatalf("jams = %+v, want a new one with 1 attempt", jams)
	}
	if got := b.orders(t, testkit.AnaLock); len(got) != 0 {
		t.Fatalf("two jams opened a work order: %+v", got)
	}

	// The third jam opens the order; tries on it count as attempts, not jams.
	b.clear(t, testkit.AnaLock)
	b.jam(t, testkit.AnaLock)
	for range 4 {
		b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	}
	wo := b.only(t, testkit.AnaLock)
	if wo.JamCount != 3 {
		t.Errorf("JamCount = %d after keypad tries, want 3", wo.JamCount)
	}
	if got := b.kinds(t, wo.ID); strings.Join(got, ",") != "opened" {
		t.Errorf("notes = %q, want only the opening note", got)
	}
	if jams = b.jams(t, testkit.AnaLock); len(jams) != 3 || jams[0].Attempts != 4 {
		t.Errorf("jams = %+v, want 3 with 4 attempts on the last", jams)
	}
}

// Only jams within the rule's window count; one exactly at the window's
// start still does.
func TestJamsOutsideTheWindowDoNotCount(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		name string
		gaps [2]time.Duration // from one jam's start to the next
		open bool
	}{
		{"the first is 14 days and a minute old", [2]time.Duration{8 * day, 6*day + time.Minute}, false},
		{"the first is a microsecond too old", [2]time.Duration{7 * day, 7*day + time.Microsecond}, false},
		{"the first is exactly 14 days old", [2]time.Duration{7 * day, 7 * day}, true},
		{"all within a week", [2]time.Duration{3 * day, 3 * day}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for _, gap := range tt.gaps {
				b.jamCleared(t, testkit.AnaLock, gap-5*time.Minute)
			}
			b.jam(t, testkit.AnaLock)
			if got := len(b.orders(t, testkit.AnaLock)); got != map[bool]int{false: 0, true: 1}[tt.open] {
				t.Fatalf("%d work orders, want open=%v", got, tt.open)
			}
			if tt.open {
				return
			}
			// One more jam a day later: the three newest count.
			b.clear(t, testkit.AnaLock)
			b.clock.Advance(day)
			b.jam(t, testkit.AnaLock)
			if wo := b.only(t, testkit.AnaLock); wo.JamCount != 3 {
				t.Errorf("JamCount = %d, want 3", wo.JamCount)
			}
		})
	}
}

// The jams before a resolution are what was fixed: the count starts anew.
func TestResolutionRestartsTheCount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, time.Hour)
	}
	first := b.only(t, testkit.AnaLock)
	b.resolve(t, first.ID)
	b.clock.Advance(time.Hour)

	b.jamCleared(t, testkit.AnaLock, time.Hour)
	b.jamCleared(t, testkit.AnaLock, time.Hour)
	if orders := b.orders(t, testkit.AnaLock); len(orders) != 1 || orders[0].Status != sparekey.WorkOrderResolved {
		t.Fatalf("two jams after the fix (five within the window) gave %+v", orders)
	}
	b.jam(t, testkit.AnaLock)
	orders := b.orders(t, testkit.AnaLock)
	if len(orders) != 2 {
		t.Fatalf("%d work orders after a third jam since the fix, want 2", len(orders))
	}
	second := orders[1]
	if second.ID == first.ID || second.Status != sparekey.WorkOrderOpen || second.JamCount != 3 ||
		second.Summary != "Jammed 3 times within 14 days." {
		t.Errorf("second order = %+v", second)
	}
	if got := len(b.sent(t, "work_order_opened")); got != 4 {
		t.Errorf("%d work_order_opened messages, want 2 per order", got)
	}
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceJamRule, sparekey.SourceJamRule})
}

// Locking and unlocking show the door works: they end a jam under way and
// are counted on the open order, with one note, not one per operation.
func TestHealthyOperations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, time.Hour)
	}
	wo := b.only(t, testkit.AnaLock)
	if wo.HealthyOps != 0 || wo.LastHealthyAt != nil {
		t.Fatalf("a new order has healthy operations: %+v", wo)
	}

	b.report(t, testkit.AnaLock, sparekey.EventLocked, "manual")
	b.clock.Advance(time.Hour)
	b.report(t, testkit.AnaLock, sparekey.EventUnlocked, "remote")
	b.clock.Advance(time.Hour)
	b.keypadUnlock(t, testkit.AnaLock)
	b.clock.Advance(time.Hour)
	b.report(t, testkit.AnaLock, sparekey.EventLocked, "")
	wo = b.only(t, testkit.AnaLock)
	if wo.HealthyOps != 4 || wo.LastHealthyAt == nil || !wo.LastHealthyAt.Equal(b.clock.Now()) {
		t.Fatalf("after 4 operations: HealthyOps %d, LastHealthyAt %v", wo.HealthyOps, wo.LastHealthyAt)
	}
	healthy := b.notesOf(t, wo.ID, "healthy")
	if len(healthy) != 1 || healthy[0].Text != "Worked normally (locked from the manual)." || healthy[0].Author != "system" {
		t.Errorf("healthy notes = %+v, want one", healthy)
	}
	if wo.JamCount != 3 || wo.Status != sparekey.WorkOrderOpen {
		t.Errorf("healthy operations changed the order: %+v", wo)
	}

	// An unlock ends the jam under way.
	b.jam(t, testkit.AnaLock)
	b.clock.Advance(12 * time.Minute)
	b.report(t, testkit.AnaLock, sparekey.EventUnlocked, "manual")
	j := b.jams(t, testkit.AnaLock)[0]
	if j.ClearedAt == nil || !j.ClearedAt.Equal(b.clock.Now()) || j.ClearedBy != string(sparekey.EventUnlocked) {
		t.Errorf("jam after an unlock = %+v", j)
	}
	wo = b.only(t, testkit.AnaLock)
	cleared := b.notesOf(t, wo.ID, "cleared")
	if len(cleared) != 2 || cleared[0].Text != "Jam cleared after 5 minutes (the lock reported the jam cleared)." ||
		cleared[1].Text != "Jam cleared after 12 minutes (unlocked from the manual)." {
		t.Errorf("cleared notes = %+v", cleared)
	}
	if wo.HealthyOps != 5 || wo.JamCount != 4 || len(b.notesOf(t, wo.ID, "healthy")) != 1 {
		t.Errorf("order = %+v, want 5 healthy operations, 4 jams and still one healthy note", wo)
	}

	// Without an order, an operation still ends the jam.
	b.jam(t, testkit.BenLock)
	b.clock.Advance(2 * time.Minute)
	b.keypadUnlock(t, testkit.BenLock)
	j = b.jams(t, testkit.BenLock)[0]
	if j.ClearedAt == nil || j.ClearedBy != string(sparekey.EventKeypadUnlock) {
		t.Errorf("ben's jam after a keypad unlock = %+v", j)
	}
	if got := b.orders(t, testkit.BenLock); len(got) != 0 {
		t.Errorf("ben's lock has work orders: %+v", got)
	}
	if got := len(b.sent(t, "work_order")); got != 2 {
		t.Errorf("%d work order messages, want the 2 of the opening", got)
	}
}

// A jam not cleared within the rule's time opens one order, once.
func TestUnclearedJamOpensAnOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jam(t, testkit.AnaLock)
	b.clock.Advance(29 * time.Minute)
	b.sweep(t)
	if got := b.orders(t, testkit.AnaLock); len(got) != 0 {
		t.Fatalf("a jam of 29 minutes opened %+v", got)
	}

	b.clock.Advance(time.Minute)
	queued := b.queued.Load()
	b.sweep(t)
	wo := b.only(t, testkit.AnaLock)
	if wo.Source != sparekey.SourceJamRule || wo.Summary != "Jammed and not cleared for 30 minutes." || wo.JamCount != 1 ||
		wo.Status != sparekey.WorkOrderOpen || !wo.CreatedAt.Equal(b.clock.Now()) {
		t.Fatalf("order = %+v", wo)
	}
	if n := b.notesOf(t, wo.ID, "opened"); len(n) != 1 || !strings.Contains(n[0].Text, "reported by the lock, not cleared") {
		t.Errorf("opening note = %+v", n)
	}
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
	})
	if b.queued.Load() == queued {
		t.Error("Sweep queued messages without waking the outbox")
	}
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceJamRule})

	for _, d := range []time.Duration{0, time.Minute, 2 * time.Hour} {
		b.clock.Advance(d)
		b.sweep(t)
	}
	if got := b.orders(t, testkit.AnaLock); len(got) != 1 {
		t.Fatalf("sweeps again opened more: %+v", got)
	}

	// Resolved while the door is still jammed: the fix gets one window.
	// Confirmed by the lock working, the jam ends and nothing more opens.
	b.resolve(t, wo.ID)
	b.clock.Advance(10 * time.Minute)
	b.report(t, testkit.AnaLock, sparekey.EventUnlocked, "manual")
	b.clock.Advance(time.Hour)
	b.sweep(t)
	if got := b.orders(t, testkit.AnaLock); len(got) != 1 || got[0].Status != sparekey.WorkOrderResolved {
		t.Fatalf("after a resolution the lock confirmed: %+v", got)
	}
	if got := len(b.sent(t, "work_order")); got != 2 {
		t.Errorf("%d work order messages, want 2", got)
	}

	// A new jam is a new case.
	b.jam(t, testkit.AnaLock)
	b.clock.Advance(30 * time.Minute)
	b.sweep(t)
	orders := b.orders(t, testkit.AnaLock)
	if len(orders) != 2 || orders[1].Status != sparekey.WorkOrderOpen || orders[1].Summary != "Jammed and not cleared for 30 minutes." {
		t.Fatalf("a new jam not cleared: %+v", orders)
	}

	// Resolved with the keypad still answering jammed a window later:
	// the fix did not hold, and a new order says so.
	b.resolve(t, orders[1].ID)
	b.report(t, testkit.AnaLock, sparekey.EventJammed, "keypad")
	b.clock.Advance(30 * time.Minute)
	b.sweep(t)
	orders = b.orders(t, testkit.AnaLock)
	if len(orders) != 3 || orders[2].Summary != fmt.Sprintf("Still jammed 30 minutes after work order #%d was resolved.", orders[1].ID) {
		t.Fatalf("a jam still on after a resolution: %+v", orders)
	}
}

// A jam on a lock whose order is already open is added to it; the sweep
// then has nothing to open and says nothing is wrong.
func TestSweepLeavesJamsOnAnOpenOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wo, opened, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Bolt grinds.", Actor: "staff:1"})
	if err != nil || !opened {
		t.Fatalf("Open = %v, %v", opened, err)
	}
	b.clock.Advance(time.Hour)
	b.jam(t, testkit.AnaLock)
	b.clock.Advance(31 * time.Minute)
	b.sweep(t)
	b.clock.Advance(31 * time.Minute)
	b.sweep(t)
	got := b.only(t, testkit.AnaLock)
	if got.ID != wo.ID || got.JamCount != 1 || got.Source != sparekey.SourceStaff {
		t.Errorf("order = %+v", got)
	}
	if got := len(b.sent(t, "work_order")); got != 2 {
		t.Errorf("%d work order messages, want the 2 of the opening", got)
	}
}

// Each property has its own rule.
func TestPerPropertyJamRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	birchHall := b.secondProperty(t)
	if got := birchHall.JamRule; got != sparekey.DefaultJamRule {
		t.Fatalf("a new property's rule = %+v, want the default", got)
	}
	strict := sparekey.JamRule{Jams: 1, Window: 24 * time.Hour, Uncleared: 10 * time.Minute}
	if err := b.svc.SetJamRule(b.ctx, birchHall.ID, strict, "staff:1"); err != nil {
		t.Fatal(err)
	}
	p, err := b.svc.JamRule(b.ctx, birchHall.ID)
	if err != nil || p.JamRule != strict {
		t.Fatalf("JamRule = %+v, %v", p, err)
	}
	changed := b.audits(t, "property.jam_rule_changed")
	if len(changed) != 1 || changed[0].Actor != "staff:1" || changed[0].Subject != fmt.Sprintf("property:%d", birchHall.ID) ||
		changed[0].Detail["from"] != "3 jams within 14 days, or one jam not cleared within 30 minutes" ||
		changed[0].Detail["to"] != upkeep.DescribeRule(strict) {
		t.Errorf("audit = %+v", changed)
	}

	b.jam(t, dee1a)
	wo := b.only(t, dee1a)
	if wo.Summary != "Jammed." || wo.JamCount != 1 || wo.PropertyID != birchHall.ID {
		t.Errorf("order = %+v", wo)
	}
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + birchPhone,
		"work_order_opened email:" + birchMail,
	})
	b.jam(t, testkit.AnaLock) // Maple Court keeps the default rule
	if got := b.orders(t, testkit.AnaLock); len(got) != 0 {
		t.Errorf("one jam at Maple Court opened %+v", got)
	}

	// Maple Court waits 5 minutes for a jam to clear.
	quick := sparekey.JamRule{Jams: 3, Window: 14 * 24 * time.Hour, Uncleared: 5 * time.Minute}
	if err := b.svc.SetJamRule(b.ctx, b.maple(t).ID, quick, "staff:1"); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(4 * time.Minute)
	b.sweep(t)
	if got := b.orders(t, testkit.AnaLock); len(got) != 0 {
		t.Fatalf("a jam of 4 minutes opened %+v", got)
	}
	b.clock.Advance(time.Minute)
	b.sweep(t)
	if wo := b.only(t, testkit.AnaLock); wo.Summary != "Jammed and not cleared for 5 minutes." {
		t.Errorf("order = %+v", wo)
	}
}

func TestSetJamRuleRefusesInvalidRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const day = 24 * time.Hour
	ok := sparekey.DefaultJamRule
	with := func(fn func(*sparekey.JamRule)) sparekey.JamRule {
		r := ok
		fn(&r)
		return r
	}
	for _, r := range []sparekey.JamRule{
		{},
		with(func(r *sparekey.JamRule) { r.Jams = 0 }),
		with(func(r *sparekey.JamRule) { r.Jams = -1 }),
		with(func(r *sparekey.JamRule) { r.Jams = 101 }),
		with(func(r *sparekey.JamRule) { r.Window = time.Hour - time.Second }),
		with(func(r *sparekey.JamRule) { r.Window = 365*day + time.Second }),
		with(func(r *sparekey.JamRule) { r.Uncleared = 59 * time.Second }),
		with(func(r *sparekey.JamRule) { r.Uncleared = 7*day + time.Second }),
	} {
		err := b.svc.SetJamRule(b.ctx, b.maple(t).ID, r, "staff:1")
		wantCode(t, fmt.Sprintf("SetJamRule(%+v)", r), err, sparekey.EINVALID)
	}
	if got := b.maple(t).JamRule; got != sparekey.DefaultJamRule {
		t.Errorf("rule after refusals = %+v", got)
	}
	if got := b.audits(t, "property.jam_rule_changed"); len(got) != 0 {
		t.Errorf("refused rules were audited: %+v", got)
	}
	for _, r := range []sparekey.JamRule{
		{Jams: 1, Window: time.Hour, Uncleared: time.Minute},
		{Jams: 100, Window: 365 * day, Uncleared: 7 * day},
	} {
		if err := b.svc.SetJamRule(b.ctx, b.maple(t).ID, r, "staff:1"); err != nil {
			t.Errorf("SetJamRule(%+v) = %v", r, err)
		}
	}
	wantCode(t, "SetJamRule of no property", b.svc.SetJamRule(b.ctx, 9999, ok, "staff:1"), sparekey.ENOTFOUND)
}
