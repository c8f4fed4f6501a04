package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// End-to-end tests of issue 4's "Done when": jams become one work order,
// the maintenance team hears of it, residents can add to it and hear back,
// and a jammed lock's keypad says so and works again once cleared.

type workOrderJSON struct {
	ID         int64      `json:"id"`
	Lock       string     `json:"lock"`
	Unit       string     `json:"unit"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	JamCount   int        `json:"jam_count"`
	CreatedAt  time.Time  `json:"created_at"`
	Source     string     `json:"source"`
	Summary    string     `json:"summary"`
	Resolution string     `json:"resolution"`
	StartedAt  *time.Time `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	HealthyOps int        `json:"healthy_ops"`
}

type workOrderDetail struct {
	workOrderJSON
	Notes []struct {
		At                 time.Time
		Author, Kind, Text string
	} `json:"notes"`
}

// hasNote reports whether the timeline has a note of kind containing text.
func (d workOrderDetail) hasNote(kind, text string) bool {
	for _, n := range d.Notes {
		if n.Kind == kind && strings.Contains(n.Text, text) {
			return true
		}
	}
	return false
}

func jsonID(id int64) string { return strconv.FormatInt(id, 10) }

func (s *testServer) workOrders(query string) []workOrderJSON {
	s.t.Helper()
	var out []workOrderJSON
	s.json("GET", "/api/v1/work-orders"+query, "", http.StatusOK, &out)
	return out
}

func (s *testServer) workOrder(id int64) workOrderDetail {
	s.t.Helper()
	var d workOrderDetail
	s.json("GET", "/api/v1/work-orders/"+jsonID(id), "", http.StatusOK, &d)
	return d
}

// waitWorkOrders polls the list until ok accepts it (10 s).
func (s *testServer) waitWorkOrders(query, what string, ok func([]workOrderJSON) bool) []workOrderJSON {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.workOrders(query)
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited 10s for %s; work orders%s are %+v\n%s", what, query, got, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// setJammed jams or clears a virtual lock through the dev endpoint; jamming
// a jammed lock is a new jam.
func (s *testServer) setJammed(lock string, jammed bool) {
	s.t.Helper()
	s.json("POST", "/api/v1/dev/locks/"+lock+"/state", `{"jammed":`+strconv.FormatBool(jammed)+`}`, http.StatusOK, nil)
}

// keypadFull is keypad with the pattern the lock flashes.
func (s *testServer) keypadFull(lock, code string) (result, pattern string) {
	s.t.Helper()
	var res struct{ Result, Pattern string }
	s.json("POST", "/api/v1/dev/locks/"+lock+"/keypad", `{"code":"`+code+`"}`, http.StatusOK, &res)
	return res.Result, res.Pattern
}

// ofKind keeps the messages of one kind.
func ofKind(msgs []outboxMessage, kind string) []outboxMessage {
	var out []outboxMessage
	for _, m := range msgs {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

const maintenancePhone, maintenanceEmail = "+12015550199", "maintenance@example.com"

// TestUpkeepJamsOpenOneWorkOrder is issue 4's story: three jams of
// unit-101-front open exactly one work order, the maintenance team gets an
// SMS and an email linking to it, the console shows it; a fourth jam and
// Ana's Notify maintenance go onto the same order; Ana hears when it is in
// progress and when it is resolved.
func TestUpkeepJamsOpenOneWorkOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	for i := 1; i <= 2; i++ {
		s.setJammed("unit-101-front", true)
		if got := s.workOrders(""); len(got) != 0 {
			t.Fatalf("after %d jams: %+v, want no work order yet (the rule is 3 jams in 14 days)", i, got)
		}
	}
	s.setJammed("unit-101-front", true)
	open := s.waitWorkOrders("?status=open", "the third jam's work order", func(w []workOrderJSON) bool { return len(w) > 0 })
	if len(open) != 1 {
		t.Fatalf("open work orders after 3 jams: %+v, want exactly one", open)
	}
	wo := open[0]
	if wo.Kind != "lock_jam" || wo.JamCount != 3 || wo.Lock != "unit-101-front" || wo.Unit != "101" || wo.Status != "open" ||
		wo.Source != "jam_rule" || wo.CreatedAt.IsZero() {
		t.Fatalf("work order after 3 jams: %+v", wo)
	}
	if !strings.Contains(wo.Summary, "3 times") {
		t.Errorf("summary %q does not say why the order opened", wo.Summary)
	}
	if got := s.workOrders(""); len(got) != 1 {
		t.Fatalf("all work orders: %+v, want one", got)
	}
	id := jsonID(wo.ID)
	link := s.base + "/console/work-orders/" + id

	// The maintenance team's SMS and email, linking to the order.
	sms := s.waitMessages(maintenancePhone, "work_order_opened", 1)
	email := s.waitMessages(maintenanceEmail, "work_order_opened", 1)
	if sms[0].Channel != "sms" || !strings.Contains(sms[0].Body, link) || !strings.Contains(sms[0].Body, "unit 101") {
		t.Errorf("maintenance SMS: %+v, want the door and %s", sms[0], link)
	}
	if email[0].Channel != "email" || !strings.Contains(email[0].Body, link) || !strings.Contains(email[0].Subject, "#"+id) ||
		!strings.Contains(email[0].Body, "unit-101-front") || !strings.Contains(email[0].Body, "Jams in the last 30 days: 3") {
		t.Errorf("maintenance email: %+v, want the door, its jams and %s", email[0], link)
	}

	// The console, as the maintenance team sees it.
	maint := s.signIn(maintenanceEmail, "demo-password")
	list := string(maint.get("/console/work-orders").body)
	if !strings.Contains(list, `href="/console/work-orders/`+id+`">#`+id+` Front door, unit 101</a>`) || !strings.Contains(list, "Open (1)") {
		t.Errorf("console work orders do not list #%s for Front door, unit 101:\n%s", id, list)
	}
	page := maint.get("/console/work-orders/" + id)
	detail := string(page.body)
	if page.status != http.StatusOK || !strings.Contains(detail, "#"+id+" Front door, unit 101") || !strings.Contains(detail, "(unit-101-front), Maple Court Apartments") ||
		!strings.Contains(detail, "3 on this order · 3 in the last 30 days") {
		t.Errorf("console work order page = %d lacks the door or its jams:\n%s", page.status, detail)
	}
	if n := strings.Count(detail, ">reported by the lock</td>"); n != 3 {
		t.Errorf("console jam history has %d jams, want 3:\n%s", n, detail)
	}
	if n := strings.Count(detail, "<strong>not cleared</strong>"); n != 1 {
		t.Errorf("console jam history shows %d jams not cleared, want the last one", n)
	}
	if !strings.Contains(detail, `id="still-jammed"`) {
		t.Errorf("console work order page does not warn that the lock still reports the jam:\n%s", detail)
	}
	door := string(maint.get("/console/locks/unit-101-front").body)
	if !strings.Contains(door, `<a href="/console/work-orders/`+id+`">#`+id+`, open</a>`) || !strings.Contains(door, "Jams per week") || !strings.Contains(door, "<svg") {
		t.Errorf("door page does not show the open order and the jam chart:\n%s", door)
	}
	if locks := string(maint.get("/console/locks").body); !strings.Contains(locks, "jammed") {
		t.Errorf("lock health does not flag the jammed lock:\n%s", locks)
	}

	// A fourth jam goes onto the same order; nobody is told twice.
	s.setJammed("unit-101-front", true)
	open = s.waitWorkOrders("?status=open", "the fourth jam on the order", func(w []workOrderJSON) bool { return len(w) != 1 || w[0].JamCount >= 4 })
	if len(open) != 1 || open[0].ID != wo.ID || open[0].JamCount != 4 {
		t.Fatalf("after a fourth jam: %+v, want order %s with 4 jams", open, id)
	}
	if d := s.workOrder(wo.ID); !d.hasNote("jam", "4 jams on this order") {
		t.Errorf("the fourth jam is not on the order's timeline: %+v", d.Notes)
	}
	if got := ofKind(s.outbox(maintenancePhone), "work_order_opened"); len(got) != 1 {
		t.Errorf("maintenance got %d work order SMS, want 1: %+v", len(got), got)
	}

	// Ana, locked out behind the jammed door, notifies maintenance from
	// her backup link: the page says it went onto the open order.
	s.requestCode("ana@example.com")
	token := s.linkToken(s.waitMessages("ana@example.com", "backup_link", 1)[0])
	if r := s.send("GET", "/b/"+token+"/maintenance", "", ""); r.status != http.StatusOK || !strings.Contains(string(r.body), `action="/b/`+token+`/maintenance"`) {
		t.Fatalf("Notify maintenance page = %d\n%s", r.status, r.body)
	}
	r := s.send("POST", "/b/"+token+"/maintenance", formType, url.Values{"note": {"The keypad flashes an X and the door will not open"}}.Encode())
	sent := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(sent, "Maintenance already has work order #"+id+" open for your Front door, unit 101; we added your report to it.") {
		t.Fatalf("Notify maintenance = %d, want the report added to #%s\n%s", r.status, id, sent)
	}
	var rep struct {
		WorkOrder int64  `json:"work_order"`
		Opened    bool   `json:"opened"`
		Door      string `json:"door"`
	}
	s.json("POST", "/api/v1/backup-links/"+token+"/maintenance", `{"note":"Still stuck after pushing the door"}`, http.StatusOK, &rep)
	if rep.WorkOrder != wo.ID || rep.Opened || rep.Door != "Front door, unit 101" {
		t.Fatalf("Notify maintenance (JSON) = %+v, want order %s, not opened", rep, id)
	}
	if got := s.workOrders(""); len(got) != 1 || got[0].ID != wo.ID {
		t.Fatalf("after Ana's reports: %+v, want still the one order", got)
	}
	d := s.workOrder(wo.ID)
	if !d.hasNote("report", "Ana Ruiz reported the door is stuck") || !d.hasNote("report", "Note: The keypad flashes an X and the door will not open") ||
		!d.hasNote("report", "Note: Still stuck after pushing the door") {
		t.Errorf("Ana's notes are not on the order: %+v", d.Notes)
	}
	received := s.waitMessages("ana@example.com", "work_order_received", 1)
	if received[0].Channel != "email" || !strings.Contains(received[0].Body, "#"+id) {
		t.Errorf("Ana's received email: %+v", received[0])
	}
	if got := ofKind(s.outbox("+12015550101"), "work_order_received"); len(got) != 0 {
		t.Errorf("the received notice went by SMS too: %+v", got)
	}
	if got := ofKind(s.outbox(maintenancePhone), "work_order_opened"); len(got) != 1 {
		t.Errorf("Ana's report opened another order for maintenance: %+v", got)
	}
	detail = string(maint.get("/console/work-orders/" + id).body)
	if !strings.Contains(detail, "Still stuck after pushing the door") || !strings.Contains(detail, "Residents told of updates</dt><dd>Ana Ruiz") {
		t.Errorf("console does not show Ana's report:\n%s", detail)
	}

	// In progress through the API: Ana gets an SMS and an email.
	var upd workOrderJSON
	s.json("PATCH", "/api/v1/work-orders/"+id, `{"status":"in_progress"}`, http.StatusOK, &upd)
	if upd.Status != "in_progress" || upd.StartedAt == nil {
		t.Fatalf("PATCH in_progress = %+v", upd)
	}
	if got := s.workOrders("?status=open"); len(got) != 0 {
		t.Errorf("?status=open still lists the order in progress: %+v", got)
	}
	if got := s.workOrders("?status=in_progress"); len(got) != 1 || got[0].ID != wo.ID {
		t.Errorf("?status=in_progress = %+v", got)
	}
	for _, to := range []string{"+12015550101", "ana@example.com"} {
		m := s.waitMessages(to, "work_order_in_progress", 1)
		if !strings.Contains(m[0].Body, "#"+id) || !strings.Contains(m[0].Body, "Front door, unit 101") {
			t.Errorf("Ana's in-progress update to %s: %+v", to, m[0])
		}
	}

	// Resolved through the console form; a resolution note is required.
	r = maint.submit("/console/work-orders/"+id, "status", "resolved", "note", "Parts ordered.")
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Not saved: Say what was done to resolve it") {
		t.Errorf("resolve without a resolution = %d, want 400 and why\n%s", r.status, r.body)
	}
	// What was typed is still in the form, to fix and send again.
	if body := string(r.body); !strings.Contains(body, `value="resolved" checked`) || !strings.Contains(body, `name="note" rows="2" maxlength="2000">Parts ordered.</textarea>`) {
		t.Errorf("the refused form lost the status or the note:\n%s", body)
	}
	const fix = "Planed the door edge and moved the strike plate 2 mm"
	r = maint.submit("/console/work-orders/"+id, "status", "resolved", "resolution", fix)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/work-orders/"+id+"?done=updated" {
		t.Fatalf("resolve in the console = %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	done := string(maint.get(r.header.Get("Location")).body)
	if !strings.Contains(done, "Work order updated.") || !strings.Contains(done, `class="status s-resolved"`) || !strings.Contains(done, fix) {
		t.Errorf("console after resolving:\n%s", done)
	}
	// The last jam never cleared: the timeline says so, the banner is gone.
	if !strings.Contains(done, "The lock still reported jammed when this was resolved.") || strings.Contains(done, `id="still-jammed"`) {
		t.Errorf("console after resolving a still-jammed lock's order: want the timeline note and no banner\n%s", done)
	}
	if got := s.workOrders("?status=resolved"); len(got) != 1 || got[0].ID != wo.ID || got[0].Resolution != fix || got[0].ResolvedAt == nil {
		t.Errorf("?status=resolved = %+v", got)
	}
	if got := s.workOrders("?status=open"); len(got) != 0 {
		t.Errorf("open orders after resolving: %+v", got)
	}
	for _, to := range []string{"+12015550101", "ana@example.com"} {
		m := s.waitMessages(to, "work_order_resolved", 1)
		if !strings.Contains(m[0].Body, fix) || !strings.Contains(m[0].Body, "#"+id) {
			t.Errorf("Ana's resolved update to %s: %+v", to, m[0])
		}
	}
	if !regexp.MustCompile(`(?s)Resolved: ` + fix).MatchString(detailText(s.workOrder(wo.ID))) {
		t.Errorf("the resolution is not on the timeline: %+v", s.workOrder(wo.ID).Notes)
	}
}

func detailText(d workOrderDetail) string {
	var b strings.Builder
	for _, n := range d.Notes {
		b.WriteString(n.Kind + ": " + n.Text + "\n")
	}
	return b.String()
}

// TestUpkeepJammedKeypad: while unit-101-front is jammed its keypad answers
// jammed with the x-odd pattern for Ana's code; once the jam clears her
// code opens it again, and Ben's and Chen's codes work on their doors
// throughout.
func TestUpkeepJammedKeypad(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, l := range []string{"unit-101-front", "unit-102-front", "unit-103-front"} {
		s.waitLock(l, "first sync", inSync)
	}
	others := func(when string) {
		t.Helper()
		for _, c := range []struct{ lock, code string }{{"unit-102-front", "731845"}, {"unit-103-front", "590273"}} {
			if got, _ := s.keypadFull(c.lock, c.code); got != "unlocked" {
				t.Errorf("%s: code %s on %s = %s, want unlocked", when, c.code, c.lock, got)
			}
		}
	}

	s.setJammed("unit-101-front", true)
	if l := s.lock("unit-101-front"); l.State != "jammed" {
		t.Fatalf("lock after the jam: %+v", l)
	}
	for range 2 {
		if result, pattern := s.keypadFull("unit-101-front", "482916"); result != "jammed" || pattern != "x-odd" {
			t.Fatalf("Ana's code on the jammed lock = %q %q, want jammed x-odd", result, pattern)
		}
	}
	others("while unit-101-front is jammed")

	maint := s.signIn(maintenanceEmail, "demo-password")
	if door := string(maint.get("/console/locks/unit-101-front").body); !strings.Contains(door, "<strong>not cleared</strong>") {
		t.Errorf("door page does not show the jam under way:\n%s", door)
	}

	s.setJammed("unit-101-front", false)
	if result, pattern := s.keypadFull("unit-101-front", "482916"); result != "unlocked" || pattern != "" {
		t.Fatalf("Ana's code after the jam cleared = %q %q, want unlocked", result, pattern)
	}
	if l := s.lock("unit-101-front"); l.State == "jammed" {
		t.Errorf("lock still jammed after it cleared and opened: %+v", l)
	}
	if got, _ := s.keypadFull("unit-101-front", "731845"); got != "rejected" {
		t.Errorf("Ben's code on Ana's door = %s, want rejected", got)
	}
	others("after the jam cleared")
	if door := string(maint.get("/console/locks/unit-101-front").body); strings.Contains(door, "<strong>not cleared</strong>") {
		t.Errorf("door page still shows the jam uncleared:\n%s", door)
	}
	if got := s.workOrders(""); len(got) != 0 {
		t.Errorf("one jam, cleared, opened work orders: %+v", got)
	}
}

// TestUpkeepUnclearedJam: one jam not cleared within 30 minutes opens a
// work order by itself; a jam cleared in time does not.
func TestUpkeepUnclearedJam(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setJammed("unit-103-front", true)
	s.setJammed("unit-103-front", false)
	s.setJammed("unit-102-front", true)
	if got := s.workOrders(""); len(got) != 0 {
		t.Fatalf("work orders right after one jam: %+v", got)
	}
	s.json("POST", "/api/v1/dev/clock", `{"advance":"29m"}`, http.StatusOK, nil)
	time.Sleep(300 * time.Millisecond)
	if got := s.workOrders(""); len(got) != 0 {
		t.Fatalf("work orders 29 minutes after the jam: %+v, want none yet", got)
	}
	s.json("POST", "/api/v1/dev/clock", `{"advance":"2m"}`, http.StatusOK, nil)
	got := s.waitWorkOrders("", "the uncleared jam's work order", func(w []workOrderJSON) bool { return len(w) > 0 })
	if len(got) != 1 {
		t.Fatalf("work orders after 31 minutes: %+v, want one", got)
	}
	wo := got[0]
	if wo.Lock != "unit-102-front" || wo.Unit != "102" || wo.Status != "open" || wo.Kind != "lock_jam" || wo.Source != "jam_rule" ||
		wo.JamCount != 1 || !strings.Contains(wo.Summary, "not cleared") {
		t.Fatalf("work order for the uncleared jam: %+v", wo)
	}
	sms := s.waitMessages(maintenancePhone, "work_order_opened", 1)
	if !strings.Contains(sms[0].Body, "not cleared") || !strings.Contains(sms[0].Body, s.base+"/console/work-orders/"+jsonID(wo.ID)) {
		t.Errorf("maintenance SMS: %+v", sms[0])
	}
	// Later sweeps do not open it again.
	s.json("POST", "/api/v1/dev/clock", `{"advance":"30m"}`, http.StatusOK, nil)
	time.Sleep(500 * time.Millisecond)
	if got := s.workOrders(""); len(got) != 1 {
		t.Errorf("work orders after another half hour: %+v, want still one", got)
	}
	if got := ofKind(s.outbox(maintenancePhone), "work_order_opened"); len(got) != 1 {
		t.Errorf("maintenance got %d SMS, want 1", len(got))
	}
}

// TestUpkeepJamCountsCodeTries: codes typed on a jammed keypad are counted
// on the jam, so maintenance sees how often residents hit it ("Code
// tries" on the door page, "N code tries while jammed" in the order).
func TestUpkeepJamCountsCodeTries(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.waitLock("unit-101-front", "first sync", inSync)
	s.setJammed("unit-101-front", true)
	for range 2 {
		if result, _ := s.keypadFull("unit-101-front", "482916"); result != "jammed" {
			t.Fatalf("Ana's code on the jammed lock = %s", result)
		}
	}
	maint := s.signIn(maintenanceEmail, "demo-password")
	if door := string(maint.get("/console/locks/unit-101-front").body); !strings.Contains(door, `<td data-label="Code tries">2</td>`) {
		re := regexp.MustCompile(`<tr><td data-label="Started">.*?</tr>`)
		t.Errorf("door page does not count the 2 code tries on the jam: %s", re.FindString(door))
	}
}
