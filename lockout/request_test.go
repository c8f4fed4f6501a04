package lockout_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/lockout"
	"sparekey/roster"
)

// Rule 1: every well-formed request gets the same answer, whoever it names;
// only the job, later, tells them apart.
func TestRequestCodeAnswersTheSameForEveryAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Chen has had the three links an hour the account gets.
	for range 3 {
		b.requestLink(t, testkit.ChenEmail, testkit.ChenEmail)
	}
	// Ben moved out.
	b.db.MustWrite(t, func(tx sparekey.Tx) error {
		r, err := tx.ResidentByEmail(b.ctx, testkit.BenEmail)
		if err != nil {
			return err
		}
		out := testkit.T0.Add(-time.Hour)
		r.MovedOutAt = &out
		return tx.UpdateResident(b.ctx, r)
	})
	before := len(b.db.Messages(t))

	cases := []struct {
		name, contact, outcome string
	}{
		{"match", testkit.AnaEmail, sparekey.OutcomeSent},
		{"no match", "nobody@example.com", sparekey.OutcomeNoMatch},
		{"phone not the account's", "(201) 555-0177", sparekey.OutcomeNoMatch},
		{"moved-out resident by email", testkit.BenEmail, sparekey.OutcomeNoMatch},
		{"moved-out resident by phone", testkit.BenPhone, sparekey.OutcomeNoMatch},
		{"account over its hourly limit", testkit.ChenEmail, sparekey.OutcomeThrottled},
	}
	var want []string
	for _, tc := range cases {
		err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: tc.contact, IP: testIP, UserAgent: testUA})
		if err != nil {
			t.Errorf("%s: RequestCode(%q) = %v, want nil like every other account", tc.name, tc.contact, err)
		}
		want = append(want, tc.outcome)
	}
	if n := b.run(t); n != len(cases) {
		t.Fatalf("RunOnce answered %d requests, want %d", n, len(cases))
	}
	got := b.outcomes(t)
	sameList(t, "outcomes of the requests", got[len(got)-len(cases):], want)
	sameList(t, "messages queued by the requests", sent(b.db.Messages(t)[before:], "backup_link"),
		[]string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
}

// Rule 7: asking for a link changes nothing on the account but the backup
// code it issues: not the resident, not their access code.
func TestRequestChangesNothingElseOnTheAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	type snapshot struct {
		residents []*sparekey.Resident
		slots     []*sparekey.Slot // every slot but the backup pool's
	}
	take := func() snapshot {
		var s snapshot
		for _, e := range roster.Demo {
			s.residents = append(s.residents, b.db.Resident(t, e.Email))
			for _, sl := range b.db.Slots(t, e.Lock) {
				if sl.Purpose != sparekey.SlotBackup {
					s.slots = append(s.slots, sl)
				}
			}
		}
		return s
	}
	before := take()
	if len(before.slots) != len(roster.Demo) {
		t.Fatalf("found %d resident slots, want %d", len(before.slots), len(roster.Demo))
	}
	for _, contact := range []string{testkit.AnaEmail, testkit.AnaPhone, testkit.BenEmail, testkit.BenEmail, testkit.BenEmail, testkit.BenEmail, "nobody@example.com", testkit.StrangerPhone} {
		b.request(t, contact)
		b.advance(time.Second)
	}
	b.advance(5 * time.Minute)
	b.run(t)
	if got := b.outcomes(t); !strings.Contains(strings.Join(got, " "), sparekey.OutcomeThrottled) {
		t.Fatalf("outcomes %q: the throttled path was not taken", got)
	}
	after := take()
	for i := range before.residents {
		if !reflect.DeepEqual(before.residents[i], after.residents[i]) {
			t.Errorf("resident changed by a request:\nbefore %+v\nafter  %+v", before.residents[i], after.residents[i])
		}
	}
	for i := range before.slots {
		if !reflect.DeepEqual(before.slots[i], after.slots[i]) {
			t.Errorf("slot changed by a request:\nbefore %+v\nafter  %+v", before.slots[i], after.slots[i])
		}
	}
	// Only one backup slot per answered account is issued; Chen's pool,
	// never asked for, is untouched.
	for _, sl := range b.db.Slots(t, "unit-103-front") {
		if sl.Purpose == sparekey.SlotBackup && sl.Backup != sparekey.BackupAvailable {
			t.Errorf("Chen's backup slot %d is %s, want available", sl.Number, sl.Backup)
		}
	}
}

// Rule 3: messages go to the phone and email stored on the account, never
// to what was typed.
func TestMessagesGoOnlyToTheAccountsContacts(t *testing.T) {
	t.Parallel()
	both := []string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone}
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"ANA@EXAMPLE.COM", both},
		{"  Ana@Example.com ", both},
		{"(201) 555-0101", both},
		{"+1 201 555 0101", both},
		{"(201) 555-0177", nil}, // a phone that is no account's
		{"ana@example.org", nil},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.request(t, tc.typed)
			b.run(t)
			ms := b.db.Messages(t)
			sameList(t, "backup link messages", sent(ms, "backup_link"), tc.want)
			for _, m := range ms {
				if m.To == strings.TrimSpace(tc.typed) && m.To != testkit.AnaEmail {
					t.Errorf("a message went to the typed contact %q", m.To)
				}
			}
			if tc.want == nil {
				if len(ms) != 0 {
					t.Errorf("%d messages queued for a contact that is no account's", len(ms))
				}
				return
			}
			// The SMS carries the same link as the email.
			token := b.token(t, testkit.AnaEmail)
			for _, m := range ms {
				if m.Channel == sparekey.ChannelSMS && !strings.Contains(m.Body, baseURL+"/b/"+token) {
					t.Errorf("SMS does not carry the emailed link:\n%s", m.Body)
				}
			}
		})
	}
}

// Rule 5: no SMS to premium-rate numbers or outside the allowed regions;
// the email still goes.
func TestSMSOnlyToAllowedNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, phone, typed string
		regions            []string
		sms                bool
	}{
		{"premium rate by email", "+19005550101", "dan@example.com", nil, false},
		{"premium rate by phone", "+19005550101", "(900) 555-0101", nil, false},
		{"premium rate with the region allowed", "+19005550101", "dan@example.com", []string{"US", "GB"}, false},
		{"outside the allowed regions", "+442071838750", "dan@example.com", nil, false},
		{"outside the allowed regions by phone", "+442071838750", "+44 20 7183 8750", nil, false},
		{"region allowed", "+447400123456", "dan@example.com", []string{"US", "GB"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *lockout.Config) { c.SMSRegions = tc.regions })
			dan := b.addResident(t, roster.Entry{Unit: "104", Lock: "unit-104-front", Name: "Dan Hill",
				Email: "dan@example.com", Phone: "+12015550144"})
			// Stored straight: the roster refuses premium-rate phones now,
			// but one may be in a database from before, and the job is
			// the last guard.
			dan.Phone = tc.phone
			b.db.MustWrite(t, func(tx sparekey.Tx) error { return tx.UpdateResident(b.ctx, dan) })
			b.request(t, tc.typed)
			b.run(t)
			want := []string{"email:dan@example.com"}
			if tc.sms {
				want = append(want, "sms:"+tc.phone)
			}
			sameList(t, "backup link messages", sent(b.db.Messages(t), "backup_link"), want)
			if !tc.sms && !strings.Contains(b.logs.String(), "SMS skipped") {
				t.Errorf("skipped SMS not logged; log:\n%s", b.logs.String())
			}
		})
	}
}

// Rule 6: per-IP limit, a minute at a time.
func TestIPLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ask := func(ip string, i int) error {
		return b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: fmt.Sprintf("someone%d@example.com", i), IP: ip, UserAgent: testUA})
	}
	for i := range 10 {
		if err := ask(testIP, i); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	wantCode(t, "11th request from one IP in a minute", ask(testIP, 10), sparekey.ERATELIMITED)
	if err := ask("198.51.100.9", 0); err != nil {
		t.Fatalf("another IP: %v", err)
	}
	b.advance(59 * time.Second)
	wantCode(t, "a request 59 s later", ask(testIP, 11), sparekey.ERATELIMITED)
	// Refused requests were not recorded: only the 11 accepted ones are answered.
	if n := b.run(t); n != 11 {
		t.Errorf("RunOnce answered %d requests, want the 11 accepted", n)
	}
	if !strings.Contains(b.logs.String(), "per-IP limit") {
		t.Errorf("rate limiting not logged; log:\n%s", b.logs.String())
	}
	// Once the minute is over, the IP may ask again, up to the limit.
	b.at(t, testkit.T0.Add(time.Minute+time.Second))
	for i := range 10 {
		if err := ask(testIP, 20+i); err != nil {
			t.Fatalf("request %d of the next minute: %v", i+1, err)
		}
	}
	wantCode(t, "11th request of the next minute", ask(testIP, 30), sparekey.ERATELIMITED)
}

// The per-IP window is one minute, half-open like every other window of the
// flow (a link requested at t is dead at t+30m exactly): requests made at t
// no longer count at t+1m.
func TestIPLimitWindowEndsAfterOneMinute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 10 {
		if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: fmt.Sprintf("someone%d@example.com", i), IP: testIP}); err != nil {
			t.Fatal(err)
		}
	}
	b.advance(time.Minute)
	if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: "late@example.com", IP: testIP}); err != nil {
		t.Errorf("a minute after 10 requests: %v, want nil", err)
	}
}

func TestIPLimitZeroIsOff(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.IPLimit = 0 })
	for i := range 30 {
		if err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: "nobody@example.com", IP: testIP}); err != nil {
			t.Fatalf("request %d with the IP limit off: %v", i+1, err)
		}
	}
}

// Rule 6: an account gets 3 links an hour; past that the answer is the same
// but nothing is sent and the live link stays.
func TestAccountLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var last string
	for range 3 {
		last = b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
		b.advance(10 * time.Minute)
	}
	before := len(b.db.Messages(t))
	b.request(t, testkit.AnaEmail) // RequestCode itself checks the answer is nil
	b.run(t)
	if got := b.outcomes(t); got[len(got)-1] != sparekey.OutcomeThrottled {
		t.Fatalf("4th link in an hour: outcomes %q, want the last throttled", got)
	}
	if ms := b.db.Messages(t); len(ms) != before {
		t.Errorf("throttled request queued %v", sent(ms[before:], "backup_link"))
	}
	if _, err := b.svc.ViewLink(b.ctx, last, lockout.Visit{}); err != nil {
		t.Errorf("a throttled request ended the live link: %v", err)
	}
	// An hour after the first link the account may have one again.
	b.at(t, testkit.T0.Add(time.Hour+time.Second))
	b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	if got := b.outcomes(t); got[len(got)-1] != sparekey.OutcomeSent {
		t.Errorf("an hour later: outcomes %q, want the last sent", got)
	}
}

// Rule 6: one phone number gets PhoneDailyLimit SMS a day; then email only.
func TestPhoneDailyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.PhoneDailyLimit = 2 })
	for range 3 {
		b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
		b.advance(time.Minute)
	}
	sameList(t, "messages of three requests", sent(b.db.Messages(t), "backup_link"),
		[]string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone, "email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone, "email:" + testkit.AnaEmail})
	if !strings.Contains(b.logs.String(), "daily limit") {
		t.Errorf("skipped SMS not logged; log:\n%s", b.logs.String())
	}
	b.at(t, testkit.T0.Add(24*time.Hour+time.Minute))
	before := len(b.db.Messages(t))
	b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	sameList(t, "messages a day later", sent(b.db.Messages(t)[before:], "backup_link"),
		[]string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone})
}

// Rule 6: past the hourly SMS budget only email goes, with an alert.
func TestSMSHourlyBudget(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *lockout.Config) { c.SMSHourlyBudget = 1 })
	b.requestLink(t, testkit.AnaEmail, testkit.AnaEmail)
	b.requestLink(t, testkit.BenEmail, testkit.BenEmail)
	sameList(t, "messages", sent(b.db.Messages(t), "backup_link"),
		[]string{"email:" + testkit.AnaEmail, "sms:" + testkit.AnaPhone, "email:" + testkit.BenEmail})
	if !strings.Contains(b.logs.String(), "ALERT") {
		t.Errorf("exhausted SMS budget not alerted; log:\n%s", b.logs.String())
	}
	b.at(t, testkit.T0.Add(time.Hour+time.Second))
	before := len(b.db.Messages(t))
	b.requestLink(t, testkit.ChenEmail, testkit.ChenEmail)
	sameList(t, "messages an hour later", sent(b.db.Messages(t)[before:], "backup_link"),
		[]string{"email:" + testkit.ChenEmail, "sms:" + testkit.ChenPhone})
}

// Rule 4: a contact over 254 bytes or of the wrong shape is refused up front
// and nothing is recorded.
func TestRequestCodeRefusesMalformedContacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, typed := range []string{"", "   ", "hello", strings.Repeat("a", 250) + "@example.com", "ana@example.com, ben@example.com", "[\"ana@example.com\"]"} {
		err := b.svc.RequestCode(b.ctx, lockout.CodeRequest{Contact: typed, IP: testIP})
		wantCode(t, fmt.Sprintf("RequestCode(%.30q)", typed), err, sparekey.EINVALIDCONTACT)
	}
	if n := b.run(t); n != 0 {
		t.Errorf("RunOnce answered %d refused requests", n)
	}
}

// Rule 2: answering a request costs the same for a known account as for an
// unknown one, because the lookup and sending happen later in the job. With
// the per-account limit out of the way, doing the job's work inline would
// make known requests several times slower and fail this test.
func TestRequestTimeDoesNotDependOnAccount(t *testing.T) {
	testkit.SkipShort(t, "the timing test (known vs unknown medians)")
	b := setup(t, func(c *lockout.Config) { c.IPLimit, c.AccountLimit = 0, 1<<30 })
	testkit.SameTime(t, 150, func(known bool) {
		contact := "nobody@example.org"
		if known {
			contact = testkit.AnaEmail
		}
		b.request(t, contact)
	})
}
