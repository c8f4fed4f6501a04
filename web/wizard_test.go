package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/resident"
	"sparekey/secret"
	"sparekey/upkeep"
)

// doorResidents has Ana signed in with one door in the state a test sets.
type doorResidents struct {
	budgetResidents
	door resident.Door
	loc  *time.Location
}

func (f doorResidents) Home(ctx context.Context, residentID int64) (*resident.Home, error) {
	return &resident.Home{Resident: budgetAna, Unit: &sparekey.Unit{ID: 1, Name: "101"}, Location: f.loc,
		Property: &sparekey.Property{Name: "Maple Court Apartments"}, Doors: []resident.Door{f.door}}, nil
}

// TestWizardFollowsTheDoor: for a signed-in resident the wizard starts
// from what the lock says now. A jam under way leads to the jam steps; a
// resting keypad or an offline hub to the code checks, even when a jam was
// freed within the hour; a freed jam alone to the jam steps, saying it was
// freed. Times read as each language says them.
func TestWizardFollowsTheDoor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 13, 40, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	lock := func(online bool) *sparekey.Lock {
		return &sparekey.Lock{Device: "unit-101-front", Name: "Front door", State: sparekey.LockStateLocked, Online: online, Battery: 80}
	}
	for _, tc := range []struct {
		name, lang string
		door       resident.Door
		want       []string
		not        []string
	}{
		{"jammed", "en", resident.Door{Lock: lock(true), Jammed: true, JamAt: at(-13 * time.Minute)},
			[]string{"<h1>Your lock is jammed</h1>", "Your Front door reported a jam at 1:27 PM."}, nil},
		{"jammed, in Spanish", "es", resident.Door{Lock: lock(true), Jammed: true, JamAt: at(-13 * time.Minute)},
			[]string{"<h1>Tu cerradura está atascada</h1>", "La cerradura Front door reportó un atasco a la 1:27 p. m.</p>"}, []string{"m.."}},
		{"freed", "en", resident.Door{Lock: lock(true), JamAt: at(-40 * time.Minute), JamClearedAt: at(-38 * time.Minute)},
			[]string{"<h1>Your lock jammed a short while ago</h1>",
				"Your Front door jammed at 1:00 PM and was freed at 1:02 PM; if the keypad shows the X again, the bolt is stuck again."},
			[]string{"Your lock is jammed"}},
		{"freed, in Spanish", "es", resident.Door{Lock: lock(true), JamAt: at(-40 * time.Minute), JamClearedAt: at(-38 * time.Minute)},
			[]string{"La cerradura Front door se atascó a la 1:00 p. m. y se liberó a la 1:02 p. m.; si el teclado"}, nil},
		{"freed, then offline", "en", resident.Door{Lock: lock(false), JamAt: at(-40 * time.Minute), JamClearedAt: at(-38 * time.Minute)},
			[]string{"<h1>Your code or the app doesn&#39;t work</h1>", "your Front door right now, but the keypad still works"}, []string{"<h1>Your lock"}},
		{"freed, keypad resting", "es", resident.Door{Lock: lock(true), JamAt: at(-40 * time.Minute), JamClearedAt: at(-38 * time.Minute),
			KeypadDisabledUntil: at(40 * time.Second)},
			[]string{"Vuelve a funcionar a la 1:40 p. m.: espera hasta entonces"}, []string{"<h1>Tu cerradura"}},
	} {
		f := doorResidents{budgetResidents: budgetResidents{now: now}, door: tc.door, loc: time.UTC}
		srv := httptest.NewServer(NewServer(Config{Clock: sparekey.NewFixedClock(now), Lockout: &fakeLockout{now: now}, Locks: fakeLocks{},
			Upkeep: budgetUpkeep{}, Residents: f}))
		_, body := send(t, srv, "GET", "/support/locked-out?lang="+tc.lang, "", "", "Cookie", residentCookie+"=ana")
		srv.Close()
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q", tc.name, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: page says %q", tc.name, n)
			}
		}
		if t.Failed() {
			t.Logf("%s:\n%s", tc.name, body)
			return
		}
	}
}

func (f doorResidents) Operate(ctx context.Context, residentID int64, device string, unlock bool) error {
	return sparekey.Errorf(sparekey.ENOTFOUND, "That door is not one of yours.")
}

// TestLanguageSwitchAfterAForm: a page shown in answer to a form whose
// address has no page of its own (a refused unlock) switches language on
// the nearest page above it, not on an address that would be a 404; a form
// whose address has a page keeps it.
func TestLanguageSwitchAfterAForm(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 13, 40, 0, 0, time.UTC)
	f := doorResidents{budgetResidents: budgetResidents{now: now}, loc: time.UTC,
		door: resident.Door{Lock: &sparekey.Lock{Device: "unit-101-front", Name: "Front door", Online: true}}}
	cfg := Config{Clock: sparekey.NewFixedClock(now), Lockout: &fakeLockout{now: now}, Locks: fakeLocks{},
		Upkeep: budgetUpkeep{}, Residents: f, Keys: secret.ForTest()}
	srv := httptest.NewServer(NewServer(cfg))
	defer srv.Close()
	form := "application/x-www-form-urlencoded"
	resp, body := send(t, srv, "POST", "/app/locks/unit-102-front/unlock", form, csrfField+"="+csrfToken(cfg, "ana"), "Cookie", residentCookie+"=ana")
	if resp.StatusCode != 404 || !strings.Contains(body, `href="/app?lang=es"`) {
		t.Errorf("refused unlock: %d, want 404 with a switch to /app?lang=es:\n%s", resp.StatusCode, body)
	}
	if resp, _ := send(t, srv, "GET", "/app?lang=es", "", "", "Cookie", residentCookie+"=ana"); resp.StatusCode != 200 {
		t.Errorf("the switch's page = %d", resp.StatusCode)
	}
	_, body = send(t, srv, "POST", "/support/locked-out/code?step=x", form, "contact="+"ana%40example.com")
	if !strings.Contains(body, `href="/support/locked-out/code?lang=es&amp;step=x"`) {
		t.Errorf("Get Code's answer does not switch on its own page:\n%s", body)
	}
}

// workingUpkeep adds every report to work order 7, already in progress.
type workingUpkeep struct{ fakeUpkeep }

func (workingUpkeep) Report(ctx context.Context, r upkeep.ResidentReport) (*upkeep.Reported, error) {
	return &upkeep.Reported{WorkOrder: &sparekey.WorkOrder{ID: 7, Status: sparekey.WorkOrderInProgress}, Door: "Front door, unit 101",
		LockName: "Front door", Unit: "101"}, nil
}

// TestReportOntoAnOrderInProgress: the page after Notify maintenance does
// not promise an "in progress" update that has already gone out.
func TestReportOntoAnOrderInProgress(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 13, 40, 0, 0, time.UTC)
	for upk, want := range map[Upkeep]string{
		budgetUpkeep{}:  "You&#39;ll get a text and an email when someone is working on it and when it&#39;s fixed.",
		workingUpkeep{}: "Someone is already working on it. You&#39;ll get a text and an email when it&#39;s fixed.",
	} {
		srv := httptest.NewServer(NewServer(Config{Clock: sparekey.NewFixedClock(now), Lockout: &fakeLockout{now: now}, Locks: fakeLocks{}, Upkeep: upk}))
		_, body := send(t, srv, "POST", "/b/good/maintenance", "application/x-www-form-urlencoded", "note=stuck")
		srv.Close()
		if !strings.Contains(body, want) {
			t.Errorf("%T: the page lacks %q:\n%s", upk, want, body)
		}
	}
}

// TestPageDetails: the home page's title is not "Sparekey · Sparekey";
// the sign-in page's footer does not link to itself; the expired link's
// page does not repeat its heading as its first sentence.
func TestPageDetails(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newBudgetServer())
	defer srv.Close()
	if _, body := send(t, srv, "GET", "/", "", ""); !strings.Contains(body, "<title>Sparekey</title>") {
		t.Errorf("home title:\n%s", body)
	}
	if _, body := send(t, srv, "GET", "/app/sign-in", "", ""); strings.Contains(body, `href="/app/sign-in"`) {
		t.Errorf("the sign-in page links to itself:\n%s", body)
	}
	if _, body := send(t, srv, "GET", "/support/locked-out", "", ""); !strings.Contains(body, `href="/app/sign-in"`) {
		t.Errorf("the wizard's footer lacks resident sign-in:\n%s", body)
	}
	resp, body := send(t, srv, "GET", "/b/old", "", "")
	if resp.StatusCode != 410 || strings.Count(body, "This link has expired") != 2 || // the title and the heading
		!strings.Contains(body, "Backup code links work for 30 minutes after the request.") {
		t.Errorf("expired link page = %d:\n%s", resp.StatusCode, body)
	}
}
