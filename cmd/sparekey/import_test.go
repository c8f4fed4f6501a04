package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/pgtest"
	"sparekey/store"
)

const rosterHeader = "property,unit,lock,name,email,phone\n"

const birchRoster = rosterHeader +
	"Birch Hall,1A,birch-1a-front,Ann Lee,Ann@Example.com,(201) 555-0111\n" +
	"Birch Hall,1A,birch-1a-front,Bob Lee,bob@example.com,(201) 555-0112\n" +
	"Birch Hall,1B,birch-1b-front,Cy Ng,cy@example.com,(201) 555-0113\n"

func writeRoster(t *testing.T, text string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "roster-*.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// importRun runs "sparekey import roster" with args through run().
func importRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = run(ctx, append([]string{"sparekey", "import", "roster"}, args...), func(k string) string { return env[k] },
		strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// openWithKeyFile opens a SQLite database with the key file next to it
// (made if missing, as a first serve or import would), closed when the
// test ends.
func openWithKeyFile(t *testing.T, db string) *store.DB {
	t.Helper()
	keys, _, err := loadKeys("", db)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), db, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rosterDump returns every row of every table of the database.
func rosterDump(t *testing.T, path string) string { return pgtest.Dump(t, path) }

// residentCodes reads the access codes of the resident with email from the
// database, by lock device, with the key file the import created.
func residentCodes(t *testing.T, db, email string) map[string]string {
	t.Helper()
	st := openWithKeyFile(t, db)
	defer st.Close() // now: a server may use the file next
	codes := map[string]string{}
	err := st.Read(t.Context(), func(tx sparekey.Tx) error {
		r, err := tx.ResidentByEmail(t.Context(), email)
		if err != nil {
			return err
		}
		locks, err := tx.LocksByUnit(t.Context(), r.UnitID)
		if err != nil {
			return err
		}
		for _, l := range locks {
			slots, err := tx.SlotsByLock(t.Context(), l.ID)
			if err != nil {
				return err
			}
			for _, sl := range slots {
				if sl.Purpose == sparekey.SlotResident && sl.ResidentID == r.ID {
					codes[l.Device] = sl.Code
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

func TestImportRoster(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sparekey.db")
	good := writeRoster(t, birchRoster)

	stdout, _, err := importRun(t, nil, "--db", db, good)
	if err != nil {
		t.Fatalf("import of a good file: %v", err)
	}
	if !strings.Contains(stdout, "Imported 3 residents") {
		t.Errorf("output %q does not say how many residents were imported", stdout)
	}
	if !strings.Contains(stdout, db+" did not exist: created a new database there") {
		t.Errorf("output %q does not say the database was created", stdout)
	}
	if stdout, _, _ := importRun(t, nil, "--db", db, writeRoster(t, rosterHeader+"Birch Hall,3A,birch-3a-front,Flo Ng,flo@example.com,(201) 555-0117\n")); strings.Contains(stdout, "did not exist") {
		t.Errorf("a second import says it created the database: %q", stdout)
	}
	if fi, err := os.Stat(db + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v", fi, err)
	}
	codes := residentCodes(t, db, "ann@example.com")
	if len(codes) != 1 || len(codes["birch-1a-front"]) != 6 {
		t.Errorf("Ann's access codes: %d on %v", len(codes), keysOf(codes))
	}
	for _, c := range codes {
		if strings.Contains(stdout, c) {
			t.Error("the import printed an access code")
		}
	}

	before := rosterDump(t, db)
	for _, tc := range []struct {
		name, file, want string
	}{
		{"bad email", rosterHeader +
			"Birch Hall,2A,birch-2a-front,Dee Roy,dee@example.com,2015550114\n" +
			"Birch Hall,2A,birch-2a-front,Eve Roy,eve.example.com,2015550115\n", "line 3: email: "},
		{"bad phone", rosterHeader +
			"Birch Hall,2A,birch-2a-front,Dee Roy,dee@example.com,2015550114\n" +
			"Birch Hall,2A,birch-2a-front,Eve Roy,eve@example.com,555-0115\n", "line 3: phone: "},
		{"wrong header", "unit,lock,name,email,phone,property\n", "line 1: header"},
		{"email already imported", rosterHeader +
			"Birch Hall,2A,birch-2a-front,Dee Roy,dee@example.com,2015550114\n" +
			"Birch Hall,2B,birch-2b-front,Eve Roy,eve@example.com,2015550115\n" +
			"Birch Hall,2B,birch-2b-front,Bob Again,BOB@example.com,2015550116\n", "line 4: email: "},
		{"lock of another unit", rosterHeader +
			"Birch Hall,2A,birch-2a-front,Dee Roy,dee@example.com,2015550114\n" +
			"Birch Hall,2B,birch-1a-front,Eve Roy,eve@example.com,2015550115\n", "line 3: lock: "},
	} {
		file := writeRoster(t, tc.file)
		stdout, _, err := importRun(t, nil, "--db", db, file)
		if err == nil {
			t.Errorf("%s: import succeeded: %s", tc.name, stdout)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was imported") {
			t.Errorf("%s: error %q; want %q and that nothing was imported", tc.name, err, tc.want)
		}
		if strings.Contains(stdout, "Imported") {
			t.Errorf("%s: output %q", tc.name, stdout)
		}
		if after := rosterDump(t, db); after != before {
			t.Errorf("%s: a failed import changed the database", tc.name)
		}
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestImportRosterArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeRoster(t, birchRoster)

	// --db from the environment, flags after the file.
	envDB := filepath.Join(dir, "env.db")
	if _, _, err := importRun(t, map[string]string{"SPAREKEY_DB": envDB}, good); err != nil {
		t.Fatalf("import with SPAREKEY_DB: %v", err)
	}
	if _, err := os.Stat(envDB); err != nil {
		t.Errorf("SPAREKEY_DB not used: %v", err)
	}
	flagDB := filepath.Join(dir, "flag.db")
	if _, _, err := importRun(t, nil, good, "--db", flagDB); err != nil {
		t.Fatalf("import with --db after the file: %v", err)
	}
	if len(residentCodes(t, flagDB, "cy@example.com")) != 1 {
		t.Error("flags after the file were not used")
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"--db", filepath.Join(dir, "x.db")}, "usage"},
		{"two files", []string{"--db", filepath.Join(dir, "x.db"), good, good}, "usage"},
		{"missing file", []string{"--db", filepath.Join(dir, "x.db"), filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{"unknown flag", []string{"--dbb", filepath.Join(dir, "x.db"), good}, "dbb"},
		{"welcome without a URL", []string{"--db", filepath.Join(dir, "x.db"), "--welcome", good}, "--welcome needs --base-url"},
		{"welcome with a bad URL", []string{"--db", filepath.Join(dir, "x.db"), "--welcome", "--base-url", "keys.example", good}, "--base-url must be"},
	} {
		if _, _, err := importRun(t, nil, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a failed import created a database")
	}
	// A roster only the database can refuse (one lock in two units) into a
	// database that did not exist leaves no empty database or key behind.
	newDB := filepath.Join(dir, "new.db")
	twoUnits := writeRoster(t, rosterHeader+"Birch Hall,2A,birch-x,Dee Roy,dee@example.com,2015550114\n"+
		"Birch Hall,2B,birch-x,Eve Roy,eve@example.com,2015550115\n")
	if _, _, err := importRun(t, nil, "--db", newDB, twoUnits); err == nil || !strings.Contains(err.Error(), "line 3: lock: ") {
		t.Errorf("one lock in two units: %v", err)
	}
	for _, p := range []string{newDB, newDB + ".key", newDB + "-wal", newDB + "-shm"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a failed import into a new database left %s behind", p)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"sparekey", "import", "residents"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err == nil {
		t.Error("import residents accepted")
	}
}

// demoServer is "sparekey serve --demo" run through run() on a given
// database (startServerOn).
type demoServer struct {
	*testServer
}

const demoToken = "test-admin-token" // what startServerOn passes

func serveDemo(t *testing.T, db string) *demoServer {
	t.Helper()
	return &demoServer{startServerOn(t, db)}
}

func (s *demoServer) call(method, path, body string, into any) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+demoToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, into); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (s *demoServer) lock(device string) lockJSON {
	s.t.Helper()
	var l lockJSON
	if status := s.call("GET", "/api/v1/locks/"+device, "", &l); status != http.StatusOK {
		s.t.Fatalf("GET lock %s = %d", device, status)
	}
	return l
}

func (s *demoServer) keypad(device, code string) string {
	s.t.Helper()
	var res struct{ Result string }
	if status := s.call("POST", "/api/v1/dev/locks/"+device+"/keypad", `{"code":"`+code+`"}`, &res); status != http.StatusOK {
		s.t.Fatalf("keypad on %s = %d", device, status)
	}
	return res.Result
}

// waitProgrammed waits until the lock's slots are all on it.
// waitProgrammed waits until the lock has every code and has told its
// state (a virtual lock reports it just after the demo starts).
func (s *demoServer) waitProgrammed(device string) lockJSON {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		l := s.lock(device)
		if l.SlotsPending == 0 && l.State != "unknown" {
			return l
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %d pending slots, state %s\n%s", device, l.SlotsPending, l.State, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Locks imported into the demo's database get virtual locks the next time
// the demo starts, and the imported residents' codes open them.
func TestImportThenServeDemo(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sparekey.db")
	first := serveDemo(t, db)
	first.waitProgrammed("unit-101-front")
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	stdout, _, err := importRun(t, nil, "--db", db, "--welcome", "--base-url", "https://keys.example/", writeRoster(t, birchRoster))
	if err != nil {
		t.Fatalf("import into the demo database: %v", err)
	}
	if !strings.Contains(stdout, "3 welcome emails queued, with links to https://keys.example;") {
		t.Errorf("output %q does not say the welcomes wait for the server", stdout)
	}
	ann := residentCodes(t, db, "ann@example.com")["birch-1a-front"]

	s := serveDemo(t, db)
	l := s.waitProgrammed("birch-1a-front")
	if !l.Online || l.State != "locked" || l.Unit != "1A" {
		t.Errorf("imported lock = %+v, want a virtual lock: online and locked", l)
	}
	if got := s.keypad("birch-1a-front", ann); got != "unlocked" {
		t.Errorf("Ann's access code on the imported lock = %s, want unlocked", got)
	}
	var ok map[string]string
	if status := s.call("POST", "/api/v1/locks/birch-1b-front/lock", "", &ok); status != http.StatusAccepted {
		t.Errorf("remote lock of an imported lock = %d", status)
	}
	// The welcomes queued by the import go out once the server runs, each
	// to its resident only, linking to the public URL given.
	for _, to := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		w := s.waitMessages(to, "welcome", 1)
		if len(w) != 1 || w[0].Channel != "email" || !strings.Contains(w[0].Body, "https://keys.example/app") ||
			!strings.Contains(w[0].Body, "https://keys.example/support/locked-out") || !strings.Contains(w[0].Subject, "Birch Hall") {
			t.Errorf("%s's welcome: %+v", to, w)
		}
		if strings.Contains(w[0].Body, ann) {
			t.Errorf("%s's welcome holds a door code", to)
		}
		waitUntil(t, to+"'s welcome sent", func() bool { return s.waitMessages(to, "welcome", 1)[0].Status == "sent" })
	}
	if n := len(s.outbox("ana@example.com")); n != 0 {
		t.Errorf("the demo's Ana got %d messages from an import that did not include her", n)
	}
}

// A roster imported while the demo runs reaches the virtual locks without a
// restart, and the new locks show as the working locks they are.
func TestImportWhileDemoRuns(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sparekey.db")
	s := serveDemo(t, db)
	if _, _, err := importRun(t, nil, "--db", db, writeRoster(t, birchRoster)); err != nil {
		t.Fatalf("import while the demo runs: %v", err)
	}
	cy := residentCodes(t, db, "cy@example.com")["birch-1b-front"]
	l := s.waitProgrammed("birch-1b-front")
	if got := s.keypad("birch-1b-front", cy); got != "unlocked" {
		t.Fatalf("Cy's access code = %s, want unlocked", got)
	}
	if !l.Online {
		t.Errorf("regression: a lock imported while the demo runs gets a virtual lock (simDriver in cmd/sparekey/serve.go) but is never reported online, so GET /api/v1/locks shows it offline and remote lock/unlock fail with lock_offline until its first keypad use: %+v", l)
	}
}

// Restarting the demo on its database keeps its state (docs/api.md), and
// that includes the codes on the locks: the virtual locks start empty, so
// what the database holds as confirmed must be programmed again.
func TestServeDemoRestartKeepsCodesOnLocks(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sparekey.db")
	first := serveDemo(t, db)
	first.waitProgrammed("unit-101-front")
	if got := first.keypad("unit-101-front", "482916"); got != "unlocked" {
		t.Fatalf("Ana's code on the first run = %s", got)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	s := serveDemo(t, db)
	s.waitProgrammed("unit-101-front")
	// A few tries a second apart, fewer than the keypad's wrong-code limit.
	got := s.keypad("unit-101-front", "482916")
	for try := 0; got != "unlocked" && try < 3; try++ {
		time.Sleep(time.Second)
		got = s.keypad("unit-101-front", "482916")
	}
	if got != "unlocked" {
		t.Errorf("regression: after serve --demo restarts on its database, Ana's access code is %s: the new virtual locks are empty while every slot is still synced in the database, so nothing is programmed again (serve.go addSimLocks/announceSimLocks)", got)
	}
}
