package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sparekey/internal/pgtest"
	"sparekey/internal/testkit"
	"sparekey/internal/zwavejs"
	"sparekey/sim"
)

// zwaveLock is the simulated deadbolt's address: node 2 on the hub the
// test names bldg-a.
const zwaveLock = "zwave://bldg-a/2"

// TestServeAgainstZWaveJS is the lockout story on a Z-Wave lock, through the
// real program and the real Z-Wave JS: the lock's codes are programmed
// through zwave-js-server, Get Code → reveal → the code typed on the lock's
// keypad opens the door → that backup code is rotated on the lock; remote
// lock and unlock; three jams → a work order; a lock that stops answering
// goes offline and comes back; a move-out while the hub is down clears the
// code once it is back.
func TestServeAgainstZWaveJS(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (the real server and Z-Wave JS)")
	stack := zwavejs.Start(t)
	t.Logf("the Z-Wave JS stack started in %s", stack.Started.Round(time.Millisecond))
	began := time.Now()
	// The hub is away until the lock is in the roster: Sparekey ignores,
	// for a while, the reports of a device that is no lock of its own.
	stack.StopHub(t)
	s := startServer(t, "--zwave", "bldg-a="+stack.URL, "--zwave-ping", "500ms")
	t.Cleanup(func() {
		if t.Failed() { // the server's log without its HTTP lines
			for _, line := range strings.Split(s.stderr.String(), "\n") {
				if !strings.Contains(line, "msg=http") {
					t.Log(line)
				}
			}
		}
	})
	lockPath := url.PathEscape(zwaveLock)

	// A unit of the demo's property whose door is the Z-Wave lock, with one
	// resident: the demo's staff see it.
	csv := filepath.Join(t.TempDir(), "zwave.csv")
	if err := os.WriteFile(csv, []byte("property,unit,lock,name,email,phone\n"+
		"Maple Court Apartments,104,"+zwaveLock+",Zoe Park,zoe@example.com,2015550144\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := s.cli("", []string{"import", "roster"}, csv); err != nil {
		t.Fatalf("import roster: %v\n%s%s", err, out, errOut)
	}
	// The hub comes up: its state dump is the lock's first report, and the
	// codes pending for it are programmed.
	stack.StartHub(t)
	l := s.waitLock(lockPath, "first sync through Z-Wave JS", inSync)
	if l.State != "locked" || l.Battery != 90 {
		t.Fatalf("lock after the first sync: %+v, want locked with 90%% battery", l)
	}
	t.Logf("first sync after %s", time.Since(began).Round(time.Millisecond))

	// The console lists the lock by its address and links to its page.
	staff := s.signIn("manager@example.com", "demo-password")
	if page := staff.get("/console/locks"); page.status != http.StatusOK || !strings.Contains(string(page.body), `href="/console/locks/`+lockPath+`"`) {
		t.Fatalf("console lock list = %d, want a link to /console/locks/%s\n%s", page.status, lockPath, page.body)
	}
	if page := staff.get("/console/locks/" + lockPath); page.status != http.StatusOK || !strings.Contains(string(page.body), zwaveLock) {
		t.Fatalf("console page of %s = %d\n%s", zwaveLock, page.status, page.body)
	}

	// Get Code → the link → reveal: the backup code is on the lock.
	s.requestCode("zoe@example.com")
	link := s.waitMessages("zoe@example.com", "backup_link", 1)[0]
	code := s.reveal(s.linkToken(link)).Codes[0].Code
	slot := findSlot(t, stack, code)
	if slot == 0 {
		t.Fatalf("the revealed code is in no slot of the lock")
	}

	// Typed on the keypad, it opens the door; the used backup code is then
	// rotated on the lock.
	if r := stack.Keypad(t, code); !r.Opened || r.Slot != slot {
		t.Fatalf("keypad with the revealed code: %+v, want opened by userId %d", r, slot)
	}
	s.waitLock(lockPath, "keypad unlock recorded", func(l lockJSON) bool { return l.State == "unlocked" })
	zwaveWait(t, "the used backup code rotated on the lock", func() bool {
		got := stack.Slot(t, slot)
		return got.Code != code
	})
	if r := stack.Keypad(t, code); r.Opened {
		t.Fatal("the used backup code still opens the door")
	}
	s.waitLock(lockPath, "in sync after the rotation", inSync)

	// Remote lock and unlock.
	if r := s.do("POST", "/api/v1/locks/"+lockPath+"/lock", "", "Authorization", staffAuth); r.status != http.StatusAccepted {
		t.Fatalf("remote lock = %d %s", r.status, r.body)
	}
	s.waitLock(lockPath, "locked", func(l lockJSON) bool { return l.State == "locked" })
	if got := stack.Bolt(t); got != 255 {
		t.Fatalf("bolt after remote lock = %d", got)
	}
	if r := s.do("POST", "/api/v1/locks/"+lockPath+"/unlock", "", "Authorization", staffAuth); r.status != http.StatusAccepted {
		t.Fatalf("remote unlock = %d %s", r.status, r.body)
	}
	s.waitLock(lockPath, "unlocked", func(l lockJSON) bool { return l.State == "unlocked" })
	if got := stack.Bolt(t); got != 0 {
		t.Fatalf("bolt after remote unlock = %d", got)
	}

	// Three jams in a row open one work order.
	for i := 1; i <= 3; i++ {
		stack.Jam(t)
		s.waitLock(lockPath, "jammed", func(l lockJSON) bool { return l.State == "jammed" })
		stack.Unjam(t)
		s.waitLock(lockPath, "jam cleared", func(l lockJSON) bool { return l.State == "locked" })
	}
	var orders []struct {
		Lock     string `json:"lock"`
		Kind     string `json:"kind"`
		JamCount int    `json:"jam_count"`
	}
	zwaveWait(t, "a work order for the jams", func() bool {
		s.json("GET", "/api/v1/work-orders?status=open&lock="+url.QueryEscape(zwaveLock), "", 200, &orders)
		return len(orders) == 1
	})
	if orders[0].Kind != "lock_jam" || orders[0].JamCount != 3 {
		t.Fatalf("work order = %+v, want lock_jam with 3 jams", orders[0])
	}

	// The lock stops answering: a ping finds it dead, it shows offline and
	// refuses remote commands; once it answers again it is back online.
	stack.Dead(t)
	s.waitLock(lockPath, "offline when the lock stops answering", func(l lockJSON) bool { return !l.Online })
	if r := s.do("POST", "/api/v1/locks/"+lockPath+"/unlock", "", "Authorization", staffAuth); r.status != http.StatusConflict || !strings.Contains(string(r.body), "lock_offline") {
		t.Fatalf("remote unlock of a dead lock = %d %s", r.status, r.body)
	}
	stack.Alive(t)
	s.waitLock(lockPath, "online when the lock answers again", func(l lockJSON) bool { return l.Online && inSync(l) })

	// The hub goes away: the lock shows offline at once. Zoe moves out
	// meanwhile; her code leaves the lock once the hub is back.
	stack.StopHub(t)
	s.waitLock(lockPath, "offline with the hub", func(l lockJSON) bool { return !l.Online })
	before := len(enabledSlots(t, stack)) // the backup pool and Zoe's access code
	s.moveOut("zoe@example.com", 200)
	time.Sleep(300 * time.Millisecond)
	if got := len(enabledSlots(t, stack)); got != before {
		t.Fatalf("a code left the lock while its hub was away: %d slots enabled, was %d", got, before)
	}
	stack.StartHub(t)
	s.waitLock(lockPath, "in sync after the hub is back", func(l lockJSON) bool { return l.Online && l.SlotsPending == 0 })
	zwaveWait(t, "Zoe's access code gone from the lock", func() bool { return len(enabledSlots(t, stack)) == before-1 })

	// Codes travel to the lock, never to the log (rule 12).
	if strings.Contains(s.stderr.String(), code) {
		t.Error("a door code appears in the server's log")
	}
}

// findSlot returns the lock's userId that holds code, 0 if none.
func findSlot(t *testing.T, stack *zwavejs.Stack, code string) int {
	t.Helper()
	for n := 1; n <= stack.Slots; n++ {
		if got := stack.Slot(t, n); got.Status == 1 && got.Code == code {
			return n
		}
	}
	return 0
}

// enabledSlots returns the lock's userIds that hold a code.
func enabledSlots(t *testing.T, stack *zwavejs.Stack) []int {
	t.Helper()
	var out []int
	for n := 1; n <= stack.Slots; n++ {
		if stack.Slot(t, n).Status == 1 {
			out = append(out, n)
		}
	}
	return out
}

func zwaveWait(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTwoInstancesOneZWaveHub: two instances on one PostgreSQL database
// share a Z-Wave hub. A keypad use is recorded once and its backup code
// rotated once; when the instance that owned the hub stops, the other
// records the lock's next keypad use.
func TestTwoInstancesOneZWaveHub(t *testing.T) {
	testkit.SkipShort(t, "the end-to-end test (two servers and Z-Wave JS)")
	dsn := pgtest.Schema(t)
	stack := zwavejs.Start(t)
	stack.StopHub(t) // up once the lock is in the roster
	broker, err := sim.StartBroker("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { broker.Close() })
	lockPath := url.PathEscape(zwaveLock)
	common := []string{"--secret-key", strings.Repeat("cd", 32), "--mqtt", broker.URL(), "--instance-ttl", "2s", "--base-url", "https://keys.example",
		"--zwave", "bldg-a=" + stack.URL, "--zwave-ping", "500ms"}
	a := startServerOn(t, dsn, append(common, "--instance-id", "zwave-a")...)
	b := startServerOn(t, dsn, append(common, "--instance-id", "zwave-b")...)
	t.Cleanup(func() {
		if t.Failed() {
			for name, s := range map[string]*testServer{"a": a, "b": b} {
				for _, line := range strings.Split(s.stderr.String(), "\n") {
					if !strings.Contains(line, "msg=http") {
						t.Log(name, line)
					}
				}
			}
		}
	})
	csv := filepath.Join(t.TempDir(), "zwave.csv")
	if err := os.WriteFile(csv, []byte("property,unit,lock,name,email,phone\n"+
		"Maple Court Apartments,104,"+zwaveLock+",Zoe Park,zoe@example.com,2015550144\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := a.cli("", []string{"import", "roster"}, "--secret-key", strings.Repeat("cd", 32), csv); err != nil {
		t.Fatalf("import roster: %v\n%s%s", err, out, errOut)
	}
	stack.StartHub(t)
	a.waitLock(lockPath, "first sync", inSync)

	use := func(s *testServer, want int) {
		t.Helper()
		s.requestCode("zoe@example.com")
		msgs := s.waitMessages("zoe@example.com", "backup_link", want)
		newest := msgs[0]
		for _, m := range msgs {
			if m.ID > newest.ID {
				newest = m
			}
		}
		code := s.reveal(token(t, newest)).Codes[0].Code
		slot := findSlot(t, stack, code)
		if r := stack.Keypad(t, code); !r.Opened {
			t.Fatalf("keypad with the revealed code: %+v", r)
		}
		zwaveWait(t, "the used backup code rotated on the lock", func() bool { return stack.Slot(t, slot).Code != code })
		zwaveWait(t, "the keypad use recorded", func() bool { return s.keypadEvents(lockPath) == want })
		time.Sleep(time.Second) // a second record would show now
		if got := s.keypadEvents(lockPath); got != want {
			t.Fatalf("%d keypad uses recorded, want %d: recorded twice", got, want)
		}
	}
	use(b, 1)

	// Whichever owned the hub stops; the other records the next use.
	for _, stop := range []*testServer{a, b} {
		if strings.Contains(stop.stderr.String(), "connected to the Z-Wave JS server") {
			other := b
			if stop == b {
				other = a
			}
			if err := stop.stop(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second) // past --instance-ttl: the hub is the other's
			use(other, 2)
			return
		}
	}
	t.Fatal("no instance connected to the hub")
}
