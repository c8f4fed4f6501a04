package upkeep_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/upkeep"
)

// addJam stores a jam that started at the given time and cleared five
// minutes later, straight into the store: the history only reads jams, and
// this places them to the microsecond.
func (b *testBundle) addJam(t testing.TB, device string, at time.Time) {
	t.Helper()
	l := b.lock(t, device)
	cleared := at.Add(5 * time.Minute)
	b.write(t, func(tx sparekey.Tx) error {
		return tx.CreateJam(b.ctx, &sparekey.Jam{LockID: l.ID, StartedAt: at, Cause: "reported by the lock",
			ClearedAt: &cleared, ClearedBy: string(sparekey.EventJamCleared)})
	})
}

// The chart counts jams per calendar week, Monday first, in the property's
// time zone (New York, across the start of daylight saving time on March 8).
func TestDoorHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := func(year int, month time.Month, day, hour, min int) time.Time {
		return time.Date(year, month, day, hour, min, 0, 0, ny)
	}
	now := at(2026, 3, 18, 10, 0) // a Wednesday
	b.clock.Advance(now.Sub(testkit.T0))
	b.report(t, testkit.AnaLock, sparekey.EventLocked, "manual")

	for _, j := range []time.Time{
		at(2026, 3, 16, 0, 30),                // this week
		at(2026, 3, 15, 23, 30),               // last week: Sunday night here, Monday in UTC
		at(2026, 3, 9, 0, 0),                  // last week, at its first instant
		at(2026, 3, 8, 23, 59),                // the week before, on the day the clocks moved
		at(2026, 2, 20, 7, 0),                 // 4 weeks ago
		now.Add(-30*24*time.Hour - time.Hour), // 4 weeks ago too, over 30 days old
		at(2025, 12, 29, 0, 0),                // the chart's first week, at its first instant
		at(2025, 12, 28, 23, 0),               // the Sunday before the chart: listed, not charted
		at(2025, 12, 10, 12, 0),               // too old to list
	} {
		b.addJam(t, testkit.AnaLock, j)
	}
	b.addJam(t, testkit.BenLock, at(2026, 3, 17, 12, 0)) // another door's

	h, err := b.svc.DoorHistory(b.ctx, testkit.AnaLock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Lock.Device != testkit.AnaLock || h.Unit.Name != "101" || h.Property.ID != b.maple(t).ID || h.Location.String() != "America/New_York" {
		t.Errorf("history of %+v, unit %+v, property %+v, in %v", h.Lock, h.Unit, h.Property, h.Location)
	}
	if len(h.Jams) != 8 {
		t.Errorf("%d jams listed, want the 8 of the last 13 weeks", len(h.Jams))
	}
	for i := 1; i < len(h.Jams); i++ {
		if h.Jams[i].StartedAt.After(h.Jams[i-1].StartedAt) {
			t.Errorf("jams not newest first: %v after %v", h.Jams[i].StartedAt, h.Jams[i-1].StartedAt)
		}
	}
	if h.Jams30 != (upkeep.JamCount{Days30: 5, SinceFix: 5}) {
		t.Errorf("Jams30 = %+v, want 5, none fixed", h.Jams30)
	}
	if len(h.Weeks) != upkeep.HistoryWeeks {
		t.Fatalf("%d weeks, want %d", len(h.Weeks), upkeep.HistoryWeeks)
	}
	want := map[int]int{11: 1, 10: 2, 9: 1, 7: 2, 0: 1}
	for i, w := range h.Weeks {
		local := w.Start.In(ny)
		if local.Weekday() != time.Monday || local.Hour() != 0 || local.Minute() != 0 || local.Second() != 0 {
			t.Errorf("week %d starts %v, not a Monday at midnight in New York", i, local)
		}
		if i > 0 && !local.AddDate(0, 0, -7).Equal(h.Weeks[i-1].Start) {
			t.Errorf("week %d starts %v, not a week after %v", i, local, h.Weeks[i-1].Start.In(ny))
		}
		if w.Jams != want[i] {
			t.Errorf("week %d (%s) has %d jams, want %d", i, local.Format("Jan 2"), w.Jams, want[i])
		}
	}
	if first, last := h.Weeks[0].Start, h.Weeks[len(h.Weeks)-1].Start; !first.Equal(at(2025, 12, 29, 0, 0)) || !last.Equal(at(2026, 3, 16, 0, 0)) {
		t.Errorf("weeks from %v to %v", first, last)
	}
	if len(h.Events) == 0 || h.Events[0].Kind != sparekey.EventLocked {
		t.Errorf("events = %+v, want the lock newest first", h.Events)
	}
	if len(h.WorkOrders) != 0 {
		t.Errorf("work orders = %+v", h.WorkOrders)
	}

	if _, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Check it.", Actor: "staff:1"}); err != nil {
		t.Fatal(err)
	}
	if h, err = b.svc.DoorHistory(b.ctx, testkit.AnaLock, nil); err != nil || len(h.WorkOrders) != 1 || h.WorkOrders[0].Lock != testkit.AnaLock {
		t.Errorf("work orders = %+v, %v", h, err)
	}
}

// On a Monday just after midnight the chart's last week is the one that
// just began.
func TestDoorHistoryOnMondayMorning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 3, 9, 0, 1, 0, 0, ny)
	b.clock.Advance(now.Sub(testkit.T0))
	b.addJam(t, testkit.AnaLock, now.Add(-30*time.Second))
	b.addJam(t, testkit.AnaLock, now.Add(-2*time.Minute))
	h, err := b.svc.DoorHistory(b.ctx, testkit.AnaLock, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Weeks[len(h.Weeks)-1]
	if !last.Start.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, ny)) || last.Jams != 1 || h.Weeks[len(h.Weeks)-2].Jams != 1 {
		t.Errorf("last two weeks = %+v", h.Weeks[len(h.Weeks)-2:])
	}
}

func TestJamCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.Advance(60 * 24 * time.Hour)
	now := b.clock.Now()
	b.addJam(t, testkit.AnaLock, now.Add(-time.Hour))
	b.addJam(t, testkit.AnaLock, now.Add(-29*24*time.Hour))
	b.addJam(t, testkit.AnaLock, now.Add(-31*24*time.Hour))
	b.addJam(t, testkit.BenLock, now.Add(-40*24*time.Hour))
	ids := []int64{b.lock(t, testkit.AnaLock).ID, b.lock(t, testkit.BenLock).ID, b.lock(t, testkit.ChenLock).ID}
	got, err := b.svc.JamCounts(b.ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[ids[0]] != (upkeep.JamCount{Days30: 2, SinceFix: 2}) {
		t.Errorf("JamCounts = %+v, want only Ana's lock with 2", got)
	}
	h, err := b.svc.DoorHistory(b.ctx, testkit.AnaLock, nil)
	if err != nil || h.Jams30 != got[ids[0]] {
		t.Errorf("DoorHistory Jams30 = %+v, JamCounts %+v (%v)", h.Jams30, got[ids[0]], err)
	}

	// A resolved work order answers the jams before it: only those after
	// count as not yet fixed.
	wo, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Check it.", Actor: "staff:1"})
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Minute)
	b.resolve(t, wo.ID)
	b.clock.Advance(time.Minute)
	b.addJam(t, testkit.AnaLock, b.clock.Now())
	got, err = b.svc.JamCounts(b.ctx, ids)
	if want := (upkeep.JamCount{Days30: 3, SinceFix: 1, FixedBy: wo.ID}); err != nil || got[ids[0]] != want {
		t.Errorf("after a fix: JamCounts = %+v, %v; want %+v", got, err, want)
	}
	if h, err = b.svc.DoorHistory(b.ctx, testkit.AnaLock, nil); err != nil || h.Jams30 != got[ids[0]] {
		t.Errorf("after a fix: DoorHistory Jams30 = %+v, JamCounts %+v (%v)", h.Jams30, got[ids[0]], err)
	}
}
