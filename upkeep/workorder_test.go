package upkeep_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/locale"
	"sparekey/roster"
	"sparekey/upkeep"
)

// addRoommate adds a second resident to Ana's unit and returns them.
func (b *testBundle) addRoommate(t testing.TB) *sparekey.Resident {
	t.Helper()
	err := roster.Add(b.ctx, b.db, b.access.Codes, b.clock, []roster.Entry{{Property: roster.Demo[0].Property, Unit: "101",
		Lock: testkit.AnaLock, Name: "Rosa Ruiz", Email: "rosa@example.com", Phone: "+12015550111"}})
	if err != nil {
		t.Fatal(err)
	}
	return b.resident(t, "rosa@example.com")
}

func (b *testBundle) watchers(t testing.TB, id int64) []int64 {
	t.Helper()
	var out []int64
	b.read(t, func(tx sparekey.Tx) error {
		ws, err := tx.WorkOrderWatchers(b.ctx, id)
		for _, w := range ws {
			out = append(out, w.ResidentID)
		}
		return err
	})
	return out
}

func (b *testBundle) reportAs(t testing.TB, email string, r upkeep.ResidentReport) *upkeep.Reported {
	t.Helper()
	r.ResidentID = b.resident(t, email).ID
	rep, err := b.svc.Report(b.ctx, r)
	if err != nil {
		t.Fatalf("Report(%+v): %v", r, err)
	}
	return rep
}

// A resident's Notify maintenance opens the lock's order when none is
// open, tells the team, and subscribes the resident, who hears it was
// received by email only.
func TestResidentReportOpensAnOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jamCleared(t, testkit.AnaLock, time.Hour)
	b.jamCleared(t, testkit.AnaLock, time.Hour)
	a := b.resident(t, testkit.AnaEmail)

	rep := b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Note: "  The bolt sticks at night.  ", Via: "app"})
	wo := rep.WorkOrder
	if !rep.Opened || rep.Door != "Front door, unit 101" || wo == nil {
		t.Fatalf("Report = %+v", rep)
	}
	summary := "Ana Ruiz reported the door is stuck (from the app). Note: The bolt sticks at night."
	if wo.Source != sparekey.SourceResident || wo.Status != sparekey.WorkOrderOpen || wo.Summary != summary ||
		wo.JamCount != 2 || wo.LockID != b.lock(t, testkit.AnaLock).ID {
		t.Errorf("order = %+v", wo)
	}
	if got := b.only(t, testkit.AnaLock); got.ID != wo.ID {
		t.Errorf("stored order %d, reported %d", got.ID, wo.ID)
	}
	notes := b.notes(t, wo.ID)
	if len(notes) != 1 || notes[0].Kind != "opened" || notes[0].Author != fmt.Sprintf("resident:%d", a.ID) ||
		!strings.HasPrefix(notes[0].Text, summary+"\nDoor: Front door, unit 101") {
		t.Errorf("notes = %+v", notes)
	}
	if got := b.watchers(t, wo.ID); !slices.Equal(got, []int64{a.ID}) {
		t.Errorf("watchers = %v, want Ana", got)
	}
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
		"work_order_received email:" + testkit.AnaEmail,
	})
	for _, m := range b.messages(t) {
		if m.Kind == "work_order_received" && (m.Subject != "Maintenance has your report" ||
			!strings.Contains(m.Body, "Hi Ana,") || !strings.Contains(m.Body, fmt.Sprintf("Work order #%d.", wo.ID))) {
			t.Errorf("received email = %q\n%s", m.Subject, m.Body)
		}
	}
	reported := b.audits(t, "work_order.reported")
	if len(reported) != 1 || reported[0].Actor != fmt.Sprintf("resident:%d", a.ID) || reported[0].Detail["opened"] != "true" ||
		reported[0].Detail["lock"] != testkit.AnaLock || reported[0].Subject != fmt.Sprintf("work_order:%d", wo.ID) {
		t.Errorf("audit = %+v", reported)
	}
	if b.queued.Load() == 0 {
		t.Error("the outbox was not woken")
	}
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceResident})
}

// A report on a lock whose order is open goes onto it: a note, no second
// order; the team hears of it (someone is at the door now), but of the
// same resident's reports at most once in half an hour.
func TestResidentReportGoesOntoTheOpenOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, time.Hour)
	}
	wo := b.only(t, testkit.AnaLock)
	a := b.resident(t, testkit.AnaEmail)

	rep := b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Lock: testkit.AnaLock, Note: "Still sticks.", Via: "link"})
	if rep.Opened || rep.WorkOrder.ID != wo.ID || rep.Door != "Front door, unit 101" {
		t.Fatalf("Report = %+v, want the open order", rep)
	}
	got := b.only(t, testkit.AnaLock)
	if got.Source != sparekey.SourceJamRule || got.JamCount != 3 || !got.UpdatedAt.Equal(b.clock.Now()) {
		t.Errorf("order = %+v", got)
	}
	report := b.notesOf(t, wo.ID, "report")
	if len(report) != 1 || report[0].Author != fmt.Sprintf("resident:%d", a.ID) ||
		report[0].Text != "Ana Ruiz reported the door is stuck (from the link). Note: Still sticks." {
		t.Errorf("report notes = %+v", report)
	}
	if got := b.audits(t, "work_order.reported"); len(got) != 1 || got[0].Detail["opened"] != "false" {
		t.Errorf("audit = %+v", got)
	}

	// Reporting again adds a note; the resident watches once.
	b.clock.Advance(time.Hour)
	b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{})
	if got := b.notesOf(t, wo.ID, "report"); len(got) != 2 || got[1].Text != "Ana Ruiz reported the door is stuck." {
		t.Errorf("report notes = %+v", got)
	}
	if got := b.watchers(t, wo.ID); !slices.Equal(got, []int64{a.ID}) {
		t.Errorf("watchers = %v", got)
	}
	b.clock.Advance(upkeep.ReportRepeat - time.Second)
	b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Note: "Third try."})
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
		"work_order_reported sms:" + testkit.MaplePhone,
		"work_order_reported email:" + testkit.MapleMaintenance,
		"work_order_received email:" + testkit.AnaEmail,
		"work_order_reported sms:" + testkit.MaplePhone,
		"work_order_reported email:" + testkit.MapleMaintenance,
		"work_order_received email:" + testkit.AnaEmail,
		"work_order_received email:" + testkit.AnaEmail,
	})
	for _, m := range b.messages(t) {
		if m.Kind == "work_order_reported" && m.Channel == sparekey.ChannelSMS && !strings.Contains(m.Body, "Ana Ruiz reported the door is stuck (from the link). Note: Still sticks.") && !strings.Contains(m.Body, "Ana Ruiz reported the door is stuck.") {
			t.Errorf("team's SMS about the report: %q", m.Body)
		}
	}
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceJamRule})
}

// A report onto an order someone is already working on says so: the
// resident will hear when it is fixed, not when someone is on it (that
// update went out before they asked).
func TestReportOntoAnOrderInProgress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wo := b.reportAs(t, testkit.BenEmail, upkeep.ResidentReport{}).WorkOrder
	b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderInProgress)})
	for _, lang := range []string{locale.English, locale.Spanish} {
		b.clock.Advance(upkeep.ReportRepeat)
		rep := b.reportAs(t, testkit.BenEmail, upkeep.ResidentReport{Language: lang})
		if rep.Opened || rep.WorkOrder.ID != wo.ID || rep.WorkOrder.Status != sparekey.WorkOrderInProgress {
			t.Fatalf("report onto the order in progress: %+v", rep)
		}
	}
	var bodies []string
	for _, m := range b.messages(t) {
		if m.Kind == "work_order_received" {
			bodies = append(bodies, m.Body)
		}
	}
	if len(bodies) != 3 {
		t.Fatalf("%d received emails, want 3", len(bodies))
	}
	for i, want := range []string{"We will let you know when someone is on it and when it is fixed.",
		"Someone is already working on it, work order #1. We will let you know when it is fixed.",
		"Alguien ya está trabajando en ella, orden de trabajo #1. Te avisaremos cuando quede arreglada."} {
		if !strings.Contains(bodies[i], want) {
			t.Errorf("received email %d lacks %q:\n%s", i, want, bodies[i])
		}
	}
}

func TestResidentReportRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.resident(t, testkit.AnaEmail)

	_, err := b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID, Note: strings.Repeat("x", upkeep.MaxNoteLength+1)})
	wantCode(t, "a note too long", err, sparekey.EINVALID)
	_, err = b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID, Lock: testkit.BenLock})
	wantCode(t, "a lock of another unit", err, sparekey.ENOTFOUND)
	_, err = b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: 9999})
	wantCode(t, "no such resident", err, sparekey.ENOTFOUND)

	if _, err := b.access.Codes.MoveOut(b.ctx, a.ID, "staff:1"); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Report(b.ctx, upkeep.ResidentReport{ResidentID: a.ID, Note: "Let me back in."})
	wantCode(t, "a resident who moved out", err, sparekey.EFORBIDDEN)

	for _, lock := range []string{testkit.AnaLock, testkit.BenLock} {
		if got := b.orders(t, lock); len(got) != 0 {
			t.Errorf("%s has work orders: %+v", lock, got)
		}
	}
	if got := b.sent(t, "work_order"); len(got) != 0 {
		t.Errorf("messages queued: %q", got)
	}
	if got := b.audits(t, "work_order.reported"); len(got) != 0 {
		t.Errorf("refused reports audited: %+v", got)
	}

	// The longest note is fine.
	rep := b.reportAs(t, testkit.BenEmail, upkeep.ResidentReport{Note: strings.Repeat("y", upkeep.MaxNoteLength)})
	if !rep.Opened {
		t.Errorf("Report = %+v", rep)
	}
}

// Staff open an order on a lock, or add to the one open.
func TestStaffOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, note := range []string{"", "   ", strings.Repeat("x", upkeep.MaxNoteLength+1)} {
		_, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: note, Actor: "staff:1"})
		wantCode(t, fmt.Sprintf("Open with a note of %d bytes", len(note)), err, sparekey.EINVALID)
	}
	_, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: "no-such-lock", Note: "Broken.", Actor: "staff:1"})
	wantCode(t, "Open on no lock", err, sparekey.ENOTFOUND)

	wo, opened, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: " Handle is loose. ", Actor: "staff:7"})
	if err != nil || !opened {
		t.Fatalf("Open = %v, %v", opened, err)
	}
	if wo.Source != sparekey.SourceStaff || wo.Summary != "Handle is loose." || wo.Status != sparekey.WorkOrderOpen {
		t.Errorf("order = %+v", wo)
	}
	if n := b.notes(t, wo.ID); len(n) != 1 || n[0].Author != "staff:7" || n[0].Kind != "opened" {
		t.Errorf("notes = %+v", n)
	}
	if b.queued.Load() == 0 {
		t.Error("the outbox was not woken")
	}

	again, opened, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Also squeaks.", Actor: "staff:8"})
	if err != nil || opened || again.ID != wo.ID {
		t.Fatalf("second Open = %+v, %v, %v; want the open order", again, opened, err)
	}
	if n := b.notesOf(t, wo.ID, "note"); len(n) != 1 || n[0].Text != "Also squeaks." || n[0].Author != "staff:8" {
		t.Errorf("notes = %+v", n)
	}
	b.only(t, testkit.AnaLock)
	sameList(t, "messages", b.sent(t, "work_order"), []string{
		"work_order_opened sms:" + testkit.MaplePhone,
		"work_order_opened email:" + testkit.MapleMaintenance,
	})
	sameList(t, "Opened callbacks", b.openedSources(), []string{sparekey.SourceStaff})
}

// An order moves from open to in progress to resolved; the residents who
// reported it hear of each step by SMS and email.
func TestUpdateLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rosa := b.addRoommate(t)
	wo := b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Via: "app"}).WorkOrder
	b.reportAs(t, rosa.Email, upkeep.ResidentReport{Via: "app"})
	if got := b.watchers(t, wo.ID); len(got) != 2 {
		t.Fatalf("watchers = %v, want Ana and Rosa", got)
	}
	if _, err := b.access.Codes.MoveOut(b.ctx, rosa.ID, "staff:1"); err != nil {
		t.Fatal(err) // a watcher who moved out hears nothing more
	}
	before := len(b.messages(t))

	_, err := b.svc.Update(b.ctx, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderResolved), Actor: "staff:1"})
	wantCode(t, "resolving without a resolution", err, sparekey.EINVALID)
	_, err = b.svc.Update(b.ctx, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderResolved), Resolution: "   ", Actor: "staff:1"})
	wantCode(t, "resolving with a blank resolution", err, sparekey.EINVALID)
	if got := b.order(t, wo.ID); got.Status != sparekey.WorkOrderOpen || got.ResolvedAt != nil {
		t.Fatalf("after refusals: %+v", got)
	}

	b.clock.Advance(time.Hour)
	started := b.clock.Now()
	got := b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderInProgress)})
	if got.Status != sparekey.WorkOrderInProgress || got.StartedAt == nil || !got.StartedAt.Equal(started) || got.ResolvedAt != nil {
		t.Fatalf("in progress: %+v", got)
	}
	if stored := b.order(t, wo.ID); stored.Status != sparekey.WorkOrderInProgress || !stored.StartedAt.Equal(started) {
		t.Errorf("stored: %+v", stored)
	}

	b.clock.Advance(time.Hour)
	b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderInProgress), Note: "Parts ordered."})
	if got := b.order(t, wo.ID); !got.StartedAt.Equal(started) {
		t.Errorf("StartedAt moved to %v", got.StartedAt)
	}

	b.clock.Advance(time.Hour)
	resolved := b.clock.Now()
	got = b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderResolved), Resolution: " Replaced the strike plate. "})
	if got.Status != sparekey.WorkOrderResolved || got.ResolvedAt == nil || !got.ResolvedAt.Equal(resolved) ||
		got.Resolution != "Replaced the strike plate." || !got.StartedAt.Equal(started) {
		t.Fatalf("resolved: %+v", got)
	}
	if _, err := b.svc.WorkOrder(b.ctx, wo.ID, nil); err != nil {
		t.Fatal(err)
	}

	var statuses []string
	for _, n := range b.notes(t, wo.ID) {
		if n.Kind == "status" || n.Kind == "note" {
			statuses = append(statuses, n.Kind+": "+n.Text)
			if n.Author != "staff:1" {
				t.Errorf("note %+v not by staff:1", n)
			}
		}
	}
	sameList(t, "timeline", statuses, []string{"status: In progress.", "note: Parts ordered.", "status: Resolved: Replaced the strike plate."})

	var told []string
	for _, m := range b.messages(t)[before:] {
		told = append(told, m.Kind+" "+string(m.Channel)+":"+m.To)
		if m.Kind == "work_order_resolved" && !strings.Contains(m.Body, "Replaced the strike plate.") {
			t.Errorf("resolved message without the resolution: %q", m.Body)
		}
	}
	sameList(t, "messages to residents", told, []string{
		"work_order_in_progress email:" + testkit.AnaEmail,
		"work_order_in_progress sms:" + testkit.AnaPhone,
		"work_order_resolved email:" + testkit.AnaEmail,
		"work_order_resolved sms:" + testkit.AnaPhone,
	})
	updated := b.audits(t, "work_order.updated")
	if len(updated) != 3 || updated[0].Detail["status"] != "in_progress" || updated[2].Detail["status"] != "resolved" ||
		updated[2].Actor != "staff:1" {
		t.Errorf("audit = %+v", updated)
	}
}

// An order resolved while its lock still reports the jam is resolved, with
// a note on its timeline saying the door has not shown that it works.
func TestResolvedWhileStillJammed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, time.Hour)
	}
	first := b.only(t, testkit.AnaLock)
	b.resolve(t, first.ID)
	if got := b.notesOf(t, first.ID, "note"); len(got) != 0 {
		t.Errorf("an order resolved on a lock that works got notes %+v", got)
	}

	b.clock.Advance(time.Hour)
	wo := b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Via: "app"}).WorkOrder
	b.jam(t, testkit.AnaLock)
	if got := b.resolve(t, wo.ID); got.Status != sparekey.WorkOrderResolved {
		t.Fatalf("resolving while jammed: %+v, want resolved", got)
	}
	got := b.notesOf(t, wo.ID, "note")
	if len(got) != 1 || got[0].Text != upkeep.StillJammedNote(sparekey.DefaultJamRule) || got[0].Author != "staff:1" ||
		!strings.Contains(got[0].Text, "30 minutes from now, a new work order opens") {
		t.Errorf("notes of an order resolved while its lock is jammed = %+v, want the still-jammed note", got)
	}

	// Ana, who reported it, is told it was resolved, and that the lock
	// still says jammed.
	for _, m := range b.messages(t) {
		if m.Kind == "work_order_resolved" && m.To != "" && !strings.Contains(m.Body, "The lock still reports a jam, though") {
			t.Errorf("Ana's %s that the order was resolved does not say the lock still reports the jam: %q", m.Channel, m.Body)
		}
	}
	if n := len(ofKind(b.messages(t), "work_order_resolved")); n != 2 {
		t.Errorf("%d resolved messages, want Ana's SMS and email", n)
	}

	// What the note says holds: the jam opens no order within the window
	// after the resolution, and a new one once the window has passed.
	b.clock.Advance(29 * time.Minute)
	b.sweep(t)
	if n := len(b.orders(t, testkit.AnaLock)); n != 2 {
		t.Fatalf("%d orders 29 minutes after resolving on a jammed lock, want the 2 there were", n)
	}
	b.clock.Advance(time.Minute)
	b.sweep(t)
	orders := b.orders(t, testkit.AnaLock)
	if len(orders) != 3 || orders[2].Status != sparekey.WorkOrderOpen || orders[2].Summary != fmt.Sprintf("Still jammed 30 minutes after work order #%d was resolved.", wo.ID) {
		t.Errorf("orders 30 minutes after resolving on a still-jammed lock = %+v, want a new open one saying why", orders)
	}
	b.sweep(t)
	if n := len(b.orders(t, testkit.AnaLock)); n != 3 {
		t.Errorf("%d orders after sweeping again, want still 3", n)
	}
}

func TestUpdateRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wo, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Broken.", Actor: "staff:1"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", upkeep.MaxNoteLength+1)
	for name, c := range map[string]upkeep.Change{
		"an unknown status":     {Status: ptr(sparekey.WorkOrderStatus("done"))},
		"nothing":               {},
		"the same status":       {Status: ptr(sparekey.WorkOrderOpen)},
		"a note too long":       {Note: long},
		"a resolution too long": {Status: ptr(sparekey.WorkOrderResolved), Resolution: long},
	} {
		c.Actor = "staff:1"
		_, err := b.svc.Update(b.ctx, wo.ID, c)
		wantCode(t, name, err, sparekey.EINVALID)
	}
	_, err = b.svc.Update(b.ctx, 9999, upkeep.Change{Note: "Hello.", Actor: "staff:1"})
	wantCode(t, "no such order", err, sparekey.ENOTFOUND)
	if got := b.kinds(t, wo.ID); strings.Join(got, ",") != "opened" {
		t.Errorf("notes after refusals = %q", got)
	}
	if got := b.audits(t, "work_order.updated"); len(got) != 0 {
		t.Errorf("refusals audited: %+v", got)
	}
}

// Only someone who works for the property can be assigned.
func TestAssign(t *testing.T) {
	t.Parallel()
	b := setup(t)
	maple, birchHall := b.maple(t), b.secondProperty(t)
	mia := b.addStaff(t, "mia@example.com", "Mia Lopez", maple.ID)
	other := b.addStaff(t, "olaf@birch.example", "Olaf Berg", birchHall.ID)
	both := b.addStaff(t, "bo@example.com", "Bo Chan", maple.ID, birchHall.ID)
	wo, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Broken.", Actor: "staff:1"})
	if err != nil {
		t.Fatal(err)
	}

	if got := b.update(t, wo.ID, upkeep.Change{AssigneeID: &mia.ID}); got.AssigneeID != mia.ID {
		t.Errorf("assignee = %d, want Mia", got.AssigneeID)
	}
	for _, id := range []int64{other.ID, 9999, -1} {
		_, err := b.svc.Update(b.ctx, wo.ID, upkeep.Change{AssigneeID: &id, Actor: "staff:1"})
		wantCode(t, fmt.Sprintf("assigning staff %d", id), err, sparekey.EINVALID)
	}
	if got := b.order(t, wo.ID); got.AssigneeID != mia.ID {
		t.Errorf("assignee after refusals = %d", got.AssigneeID)
	}
	d, err := b.svc.WorkOrder(b.ctx, wo.ID, nil)
	if err != nil || d.Assignee == nil || d.Assignee.ID != mia.ID {
		t.Fatalf("WorkOrder = %+v, %v", d, err)
	}
	var team []string
	for _, st := range d.Staff {
		team = append(team, st.Email)
	}
	sameList(t, "who can be assigned", team, []string{"bo@example.com", "mia@example.com"})

	b.update(t, wo.ID, upkeep.Change{AssigneeID: &both.ID})
	if got := b.update(t, wo.ID, upkeep.Change{AssigneeID: ptr(int64(0))}); got.AssigneeID != 0 {
		t.Errorf("assignee after unassigning = %d", got.AssigneeID)
	}
	var assigned []string
	for _, n := range b.notesOf(t, wo.ID, "assigned") {
		assigned = append(assigned, n.Text)
	}
	sameList(t, "assignment notes", assigned, []string{"Assigned to Mia Lopez.", "Assigned to Bo Chan.", "Assigned to nobody."})
}

// A resolved order cannot come back while the lock has another one open.
func TestReopenWhileAnotherIsOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Broken.", Actor: "staff:1"})
	if err != nil {
		t.Fatal(err)
	}
	b.resolve(t, first.ID)
	b.clock.Advance(time.Hour)
	second, opened, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Broken again.", Actor: "staff:1"})
	if err != nil || !opened || second.ID == first.ID {
		t.Fatalf("Open after the resolution = %+v, %v, %v", second, opened, err)
	}
	notes := len(b.notes(t, first.ID))
	for _, to := range []sparekey.WorkOrderStatus{sparekey.WorkOrderOpen, sparekey.WorkOrderInProgress} {
		_, err := b.svc.Update(b.ctx, first.ID, upkeep.Change{Status: ptr(to), Actor: "staff:1"})
		wantCode(t, "moving the resolved order to "+string(to), err, sparekey.ECONFLICT)
	}
	if got := b.order(t, first.ID); got.Status != sparekey.WorkOrderResolved || got.ResolvedAt == nil || len(b.notes(t, first.ID)) != notes {
		t.Errorf("refused reopening changed the order: %+v", got)
	}

	b.resolve(t, second.ID)
	got := b.update(t, first.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderOpen)})
	if got.Status != sparekey.WorkOrderOpen || got.ResolvedAt != nil {
		t.Errorf("reopened: %+v", got)
	}
	if n := b.notesOf(t, first.ID, "status"); n[len(n)-1].Text != "Reopened." {
		t.Errorf("status notes = %+v", n)
	}
}

// Staff of another property see no order, lock or history of this one:
// everything answers not found, and nothing changes.
func TestAllowedHidesOtherProperties(t *testing.T) {
	t.Parallel()
	b := setup(t)
	maple, birchHall := b.maple(t), b.secondProperty(t)
	wo, _, err := b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Broken.", Actor: "staff:1", Allowed: allow(maple.ID)})
	if err != nil {
		t.Fatal(err)
	}
	messages := len(b.messages(t))

	for name, allowed := range map[string]func(int64) bool{"nobody": deny, "Birch Hall": allow(birchHall.ID)} {
		_, err := b.svc.WorkOrder(b.ctx, wo.ID, allowed)
		wantCode(t, name+": WorkOrder", err, sparekey.ENOTFOUND)
		_, err = b.svc.Update(b.ctx, wo.ID, upkeep.Change{Note: "Mine now.", Status: ptr(sparekey.WorkOrderResolved),
			Resolution: "Done.", Actor: "staff:9", Allowed: allowed})
		wantCode(t, name+": Update", err, sparekey.ENOTFOUND)
		_, _, err = b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.AnaLock, Note: "Hello.", Actor: "staff:9", Allowed: allowed})
		wantCode(t, name+": Open on a lock with an order", err, sparekey.ENOTFOUND)
		_, _, err = b.svc.Open(b.ctx, upkeep.StaffReport{Lock: testkit.ChenLock, Note: "Hello.", Actor: "staff:9", Allowed: allowed})
		wantCode(t, name+": Open", err, sparekey.ENOTFOUND)
		_, err = b.svc.DoorHistory(b.ctx, testkit.AnaLock, allowed)
		wantCode(t, name+": DoorHistory", err, sparekey.ENOTFOUND)
	}
	if got := b.order(t, wo.ID); got.Status != sparekey.WorkOrderOpen || got.Resolution != "" {
		t.Errorf("order = %+v", got)
	}
	if got := b.kinds(t, wo.ID); strings.Join(got, ",") != "opened" {
		t.Errorf("notes = %q", got)
	}
	if got := b.orders(t, testkit.ChenLock); len(got) != 0 {
		t.Errorf("chen's lock got %+v", got)
	}
	if got := len(b.messages(t)); got != messages {
		t.Errorf("%d messages, want %d", got, messages)
	}

	// Staff of the property, and the admin (nil), see it.
	for _, allowed := range []func(int64) bool{allow(maple.ID), allow(birchHall.ID, maple.ID), nil} {
		if _, err := b.svc.WorkOrder(b.ctx, wo.ID, allowed); err != nil {
			t.Errorf("WorkOrder: %v", err)
		}
		if _, err := b.svc.DoorHistory(b.ctx, testkit.AnaLock, allowed); err != nil {
			t.Errorf("DoorHistory: %v", err)
		}
	}
	_, err = b.svc.WorkOrder(b.ctx, 9999, nil)
	wantCode(t, "WorkOrder of no order", err, sparekey.ENOTFOUND)
	_, err = b.svc.DoorHistory(b.ctx, "no-such-lock", nil)
	wantCode(t, "DoorHistory of no lock", err, sparekey.ENOTFOUND)
}

func TestWorkOrderDetailAndList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	maple, birchHall := b.maple(t), b.secondProperty(t)
	for range 3 {
		b.jamCleared(t, testkit.AnaLock, time.Hour)
	}
	wo := b.only(t, testkit.AnaLock)
	b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{})
	b.jam(t, dee1a)
	b.reportAs(t, dee, upkeep.ResidentReport{})

	d, err := b.svc.WorkOrder(b.ctx, wo.ID, allow(maple.ID))
	if err != nil {
		t.Fatal(err)
	}
	if d.WorkOrder.ID != wo.ID || d.Lock.Device != testkit.AnaLock || d.Unit.Name != "101" || d.Property.ID != maple.ID ||
		d.Assignee != nil || len(d.Jams) != 3 || len(d.Watchers) != 1 || d.Watchers[0].Email != testkit.AnaEmail {
		t.Errorf("detail = %+v", d)
	}
	var kinds []string
	for _, n := range d.Notes {
		kinds = append(kinds, n.Kind)
	}
	sameList(t, "timeline", kinds, []string{"opened", "cleared", "report"})

	list := func(f sparekey.WorkOrderFilter) []string {
		t.Helper()
		got, err := b.svc.WorkOrders(b.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, l := range got {
			out = append(out, fmt.Sprintf("%s %s %s %s", l.Lock, l.Door, l.Unit, l.Status))
		}
		return out
	}
	sameList(t, "every order", list(sparekey.WorkOrderFilter{}), []string{
		"birch-1a-front Front door 1A open",
		"unit-101-front Front door 101 open",
	})
	sameList(t, "Maple Court's", list(sparekey.WorkOrderFilter{PropertyIDs: []int64{maple.ID}}), []string{"unit-101-front Front door 101 open"})
	sameList(t, "no property's", list(sparekey.WorkOrderFilter{PropertyIDs: []int64{}}), []string{})
	b.resolve(t, wo.ID)
	sameList(t, "resolved", list(sparekey.WorkOrderFilter{Status: sparekey.WorkOrderResolved}), []string{"unit-101-front Front door 101 resolved"})
	sameList(t, "Birch Hall's open", list(sparekey.WorkOrderFilter{PropertyIDs: []int64{birchHall.ID}, Status: sparekey.WorkOrderOpen}),
		[]string{"birch-1a-front Front door 1A open"})
}

// A resident who reported in Spanish hears back in Spanish, by SMS kept to
// the GSM alphabet; one who reported in English, in English.
func TestResidentUpdatesInTheirLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rosa := b.addRoommate(t)
	wo := b.reportAs(t, testkit.AnaEmail, upkeep.ResidentReport{Via: "app", Language: locale.Spanish}).WorkOrder
	b.reportAs(t, rosa.Email, upkeep.ResidentReport{Via: "app", Language: "zz"})
	b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderInProgress)})
	b.update(t, wo.ID, upkeep.Change{Status: ptr(sparekey.WorkOrderResolved), Resolution: "Cambiamos la placa."})

	got := map[string]string{}
	for _, m := range b.messages(t) {
		if strings.HasPrefix(m.Kind, "work_order_") && m.Kind != "work_order_opened" {
			got[m.Kind+" "+string(m.Channel)+":"+m.To] = m.Subject + "|" + m.Body
		}
	}
	for key, want := range map[string]string{
		"work_order_received email:" + testkit.AnaEmail:    "Mantenimiento recibió tu reporte|Hola, Ana:\n\nLe avisamos al equipo de mantenimiento de Maple Court Apartments que tu puerta (Front door, unidad 101) está atascada.",
		"work_order_in_progress sms:" + testkit.AnaPhone:   "|Maple Court Apartments: Mantenimiento ya trabaja en tu puerta (Front door, unidad 101), orden de trabajo #" + strconv.FormatInt(wo.ID, 10) + ".",
		"work_order_resolved sms:" + testkit.AnaPhone:      "|Maple Court Apartments: Orden de trabajo #" + strconv.FormatInt(wo.ID, 10) + " resuelta para tu puerta (Front door, unidad 101): Cambiamos la placa.",
		"work_order_resolved email:" + testkit.AnaEmail:    "Tu puerta quedó arreglada|Hola, Ana:\n\nOrden de trabajo #" + strconv.FormatInt(wo.ID, 10) + " resuelta",
		"work_order_received email:" + rosa.Email:          "Maintenance has your report|Hi Rosa,\n\nWe told the maintenance team at Maple Court Apartments that your door (Front door, unit 101) is stuck.",
		"work_order_resolved email:" + rosa.Email:          "Your door is fixed|Hi Rosa,\n\nMaintenance resolved work order #" + strconv.FormatInt(wo.ID, 10),
		"work_order_in_progress email:" + testkit.AnaEmail: "Mantenimiento ya trabaja en tu puerta|Hola, Ana:",
		"work_order_in_progress email:" + rosa.Email:       "Maintenance is on it|Hi Rosa,",
	} {
		if !strings.HasPrefix(got[key], want) {
			t.Errorf("%s = %q, want it to start %q", key, got[key], want)
		}
	}
	for key, m := range got {
		if strings.Contains(key, " sms:") && strings.ContainsAny(m, "áíóúÁÍÓÚ") {
			t.Errorf("%s has letters outside the GSM alphabet: %q", key, m)
		}
		if strings.Contains(m, "%!") {
			t.Errorf("%s is badly formatted: %q", key, m)
		}
	}
}

func ofKind(msgs []*sparekey.Message, kind string) []*sparekey.Message {
	var out []*sparekey.Message
	for _, m := range msgs {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}
