// Package zwavejs starts the Z-Wave JS test stack for tests: the real
// zwave-js driver and @zwave-js/server from the npm registry, in front of a
// simulated keypad deadbolt built from zwave-js's own mock controller and
// node (testdata/stack.cjs). Nothing above the radio is ours: the tests talk
// to the same WebSocket server a building's hub runs.
//
// The stack listens on loopback only. A test acts on the simulated lock as a
// person at the door would (a code typed on the keypad, a jammed bolt, a
// flat battery, a lock out of range) and can take the hub away and bring it
// back.
package zwavejs

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env is the variable that names the installed node_modules directory of
// testdata/package.json, which pins zwave-js and @zwave-js/server with its
// lockfile. .ci/run installs it and sets the variable; by hand, from the
// repository's root:
//
//	npm ci --prefix internal/zwavejs/testdata
//	export SPAREKEY_TEST_ZWAVEJS=$PWD/internal/zwavejs/testdata/node_modules
const Env = "SPAREKEY_TEST_ZWAVEJS"

//go:embed testdata/stack.cjs
var launcher []byte

// startTimeout bounds the stack's start: the driver's interview of the
// 30-slot lock takes about 7 s on an idle machine; CI shares its cores.
const startTimeout = 90 * time.Second

// Stack is one running Z-Wave JS server with one simulated lock on it.
type Stack struct {
	// URL is the server's WebSocket address, ws://127.0.0.1:PORT.
	URL string
	// Node is the lock's Z-Wave node id.
	Node int
	// Slots is how many User Code slots the lock has.
	Slots int
	// Started is how long the stack took to be ready.
	Started time.Duration

	control string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{}
}

// Options change how the stack is set up.
type Options struct {
	// NoQueryAllUserCodes starts the driver with
	// interview.queryAllUserCodes off, as a hub set up wrong: zwave-js
	// reads none of the lock's codes at its interview.
	NoQueryAllUserCodes bool
}

// Start starts a stack for the test and stops it when the test ends. It
// skips the test when Env is not set.
func Start(t testing.TB) *Stack {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Stack {
	t.Helper()
	modules := os.Getenv(Env)
	if modules == "" {
		t.Skipf("%s is not set: skipping the tests against the real Z-Wave JS (npm ci --prefix internal/zwavejs/testdata; export %s=$PWD/internal/zwavejs/testdata/node_modules)", Env, Env)
	}
	var args []string
	if o.NoQueryAllUserCodes {
		args = append(args, "--no-query-all-user-codes")
	}
	s, err := start(modules, t.TempDir(), func(line string) { t.Log("zwave-js stack:", line) }, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

var shared struct {
	once  sync.Once
	stack *Stack
	err   error
}

// Shared is one stack for every test of the test binary that calls it,
// started by the first: the stack takes seconds to start, so a package's
// tests share one and act on its lock in turn. It runs until the test
// binary exits (the launcher ends when its stdin closes). It skips the test
// when Env is not set.
func Shared(t testing.TB) *Stack {
	t.Helper()
	modules := os.Getenv(Env)
	if modules == "" {
		t.Skipf("%s is not set: skipping the tests against the real Z-Wave JS (npm ci --prefix internal/zwavejs/testdata; export %s=$PWD/internal/zwavejs/testdata/node_modules)", Env, Env)
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "sparekey-zwavejs-")
		if err != nil {
			shared.err = err
			return
		}
		shared.stack, shared.err = start(modules, dir, func(string) {})
		_ = os.RemoveAll(dir) // node has read the launcher
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.stack
}

// start runs the launcher with node until it says it is ready. Its logs go
// to logf while the test runs.
func start(modules, dir string, logf func(string), args ...string) (*Stack, error) {
	abs, err := filepath.Abs(modules)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, "zwave-js", "package.json")); err != nil {
		return nil, fmt.Errorf("%s=%s holds no zwave-js: %w", Env, modules, err)
	}
	script := filepath.Join(dir, "stack.cjs")
	if err := os.WriteFile(script, launcher, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", append([]string{script}, args...)...)
	// The launcher is written outside the package's directory: node finds
	// the modules through NODE_PATH.
	cmd.Env = append(os.Environ(), "NODE_PATH="+abs, "NODE_NO_WARNINGS=1")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe() // the launcher exits when this closes
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node: %w", err)
	}
	s := &Stack{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case <-s.done:
			default:
				logf(sc.Text())
			}
		}
	}()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, `{"ready"`) {
				continue
			}
			var r struct {
				WS      string `json:"ws"`
				Control string `json:"control"`
				Node    int    `json:"node"`
				Slots   int    `json:"slots"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				ready <- fmt.Errorf("the launcher's ready line %q: %w", line, err)
				return
			}
			s.URL, s.control, s.Node, s.Slots = r.WS, r.Control, r.Node, r.Slots
			ready <- nil
			_, _ = io.Copy(io.Discard, stdout)
			return
		}
		ready <- fmt.Errorf("the zwave-js stack exited before it was ready")
	}()
	select {
	case err = <-ready:
	case <-time.After(startTimeout):
		err = fmt.Errorf("the zwave-js stack was not ready after %s", startTimeout)
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	s.Started = time.Since(began)
	return s, nil
}

// stop ends the launcher: closing its stdin asks it to shut down; a kill
// follows if it does not.
func (s *Stack) stop() {
	select {
	case <-s.done:
		return
	default:
		close(s.done)
	}
	_ = s.stdin.Close()
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-exited
	}
}

// KeypadResult is what the lock did with a code typed on its keypad.
type KeypadResult struct {
	Opened   bool `json:"opened"`
	Slot     int  `json:"slot"`     // the slot whose code opened it
	Jammed   bool `json:"jammed"`   // the bolt is jammed: no code works
	Disabled bool `json:"disabled"` // the keypad is off after wrong codes
}

// Keypad types code on the lock's keypad. A code in an enabled slot opens
// the door (Notification CC, Access Control "Keypad unlock operation" with
// the slot as userId); any other counts as wrong, and the fifth wrong code
// in a row disables the keypad until EnableKeypad.
func (s *Stack) Keypad(t testing.TB, code string) KeypadResult {
	t.Helper()
	var r KeypadResult
	s.call(t, "POST", "/keypad", url.Values{"code": {code}}, &r)
	return r
}

// EnableKeypad ends the keypad's lockout after wrong codes.
func (s *Stack) EnableKeypad(t testing.TB) { t.Helper(); s.call(t, "POST", "/keypad/enable", nil, nil) }

// Manual turns the thumb turn: lock or unlock by hand.
func (s *Stack) Manual(t testing.TB, lock bool) {
	t.Helper()
	op := "unlock"
	if lock {
		op = "lock"
	}
	s.call(t, "POST", "/manual", url.Values{"op": {op}}, nil)
}

// Jam jams the bolt: the lock reports Access Control "Lock state" jammed
// and Door Lock mode Unknown (254), and ignores commands until Unjam.
func (s *Stack) Jam(t testing.TB) { t.Helper(); s.call(t, "POST", "/jam", nil, nil) }

// Unjam frees the bolt and throws it.
func (s *Stack) Unjam(t testing.TB) { t.Helper(); s.call(t, "POST", "/unjam", nil, nil) }

// Battery makes the lock report its battery level; at 10 or less it also
// sends Power Management "Replace battery now".
func (s *Stack) Battery(t testing.TB, level int) {
	t.Helper()
	s.call(t, "POST", "/battery", url.Values{"level": {fmt.Sprint(level)}}, nil)
}

// Dead makes the lock stop answering, as one out of range; Alive brings it
// back. zwave-js notices only when a command to it fails.
func (s *Stack) Dead(t testing.TB)  { t.Helper(); s.call(t, "POST", "/dead", nil, nil) }
func (s *Stack) Alive(t testing.TB) { t.Helper(); s.call(t, "POST", "/alive", nil, nil) }

// StopHub stops the WebSocket server, as a hub that goes away; StartHub
// starts it again on the same address. The driver and the lock run on.
func (s *Stack) StopHub(t testing.TB)  { t.Helper(); s.call(t, "POST", "/hub/stop", nil, nil) }
func (s *Stack) StartHub(t testing.TB) { t.Helper(); s.call(t, "POST", "/hub/start", nil, nil) }

// RestartHub restarts the whole hub: the WebSocket server and the zwave-js
// driver, which opens the serial port again and reads the network from its
// cache; the lock keeps its codes.
func (s *Stack) RestartHub(t testing.TB) { t.Helper(); s.call(t, "POST", "/hub/restart", nil, nil) }

// Slot is what the lock itself holds in a User Code slot: its status
// (0 available, 1 enabled, 2 disabled) and code.
type Slot struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
}

// Slot reads a User Code slot from the simulated lock itself, not through
// zwave-js: what a person at the keypad would find.
func (s *Stack) Slot(t testing.TB, slot int) Slot {
	t.Helper()
	var r Slot
	s.call(t, "GET", "/slot", url.Values{"slot": {fmt.Sprint(slot)}}, &r)
	return r
}

// Bolt is the Door Lock mode the simulated lock is in: 0 unsecured, 255
// secured, 254 unknown (jammed).
func (s *Stack) Bolt(t testing.TB) int {
	t.Helper()
	var r struct {
		Mode int `json:"mode"`
	}
	s.call(t, "GET", "/bolt", nil, &r)
	return r.Mode
}

func (s *Stack) call(t testing.TB, method, path string, q url.Values, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := s.control + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("zwave-js stack %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("zwave-js stack %s %s: %s: %s", method, path, res.Status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("zwave-js stack %s %s: %v", method, path, err)
		}
	}
}
