package zwave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"sparekey"
)

// hub is the connection to one zwave-js-server: it connects, negotiates the
// schema, reads the state dump, then reads events until the connection
// drops, and starts again with backoff.
type hub struct {
	name string
	url  string
	d    *Driver

	connected atomic.Bool
	tr        *translator // the reader's own

	mu      sync.Mutex
	conn    *websocket.Conn // nil while disconnected
	pending map[string]chan *incoming
	nextID  int
	heard   map[int]time.Time // when each lock last reported, for the pings
	dead    map[int]bool      // locks zwave-js marked dead
}

func newHub(d *Driver, name, url string) *hub {
	return &hub{name: name, url: url, d: d, tr: newTranslator(name),
		pending: map[string]chan *incoming{}, heard: map[int]time.Time{}, dead: map[int]bool{}}
}

// run keeps the hub connected until ctx ends.
func (h *hub) run(ctx context.Context) {
	log := h.d.log.With("hub", h.name)
	for attempt := 0; ; attempt++ {
		err := h.session(ctx, func() { attempt = 0 })
		if ctx.Err() != nil {
			return
		}
		wait := h.d.cfg.Backoff(attempt + 1)
		log.Warn("Z-Wave JS server unreachable; retrying", "url", h.url, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session is one connection: it returns when the connection drops. up runs
// once the state dump was read.
func (h *hub) session(ctx context.Context, up func()) error {
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dialCtx, h.url, &websocket.DialOptions{HTTPClient: h.d.http})
	cancel()
	if err != nil {
		return err
	}
	// The state dump of a hub with many locks of 250 slots each is large.
	conn.SetReadLimit(64 << 20)
	defer conn.CloseNow()

	// The server speaks first: its version and the schemas it knows.
	var v incoming
	if err := readJSON(ctx, conn, &v, 10*time.Second); err != nil {
		return fmt.Errorf("reading the server's version: %w", err)
	}
	if v.Type != "version" {
		return fmt.Errorf("the server's first message is %q, not its version: is this a Z-Wave JS server?", v.Type)
	}
	if v.MaxSchemaVersion < schemaVersion || v.MinSchemaVersion > schemaVersion {
		return fmt.Errorf("Z-Wave JS server %s (driver %s) speaks API schemas %d to %d; Sparekey needs %d", v.ServerVersion, v.DriverVersion, v.MinSchemaVersion, v.MaxSchemaVersion, schemaVersion)
	}

	ctx, stop := context.WithCancel(ctx) // ends the reader with the session
	defer stop()
	h.mu.Lock()
	h.conn = conn
	h.mu.Unlock()
	readErr := make(chan error, 1)
	events := make(chan *event, 256)
	go func() { readErr <- h.read(ctx, conn, events) }()
	defer func() {
		h.mu.Lock()
		h.conn = nil
		for id, ch := range h.pending {
			close(ch)
			delete(h.pending, id)
		}
		h.mu.Unlock()
	}()

	setup := func() (*state, error) {
		if _, err := h.call(ctx, map[string]any{"command": "set_api_schema", "schemaVersion": schemaVersion}); err != nil {
			return nil, err
		}
		res, err := h.call(ctx, map[string]any{"command": "start_listening"})
		if err != nil {
			return nil, err
		}
		var st state
		if err := json.Unmarshal(res, &st); err != nil {
			return nil, fmt.Errorf("start_listening's state dump: %w", err)
		}
		return &st, nil
	}
	type setupResult struct {
		st  *state
		err error
	}
	done := make(chan setupResult, 1)
	go func() { st, err := setup(); done <- setupResult{st, err} }()
	var st *state
	// Events that arrive before the dump are held and applied after it.
	var early []*event
	for st == nil {
		select {
		case r := <-done:
			if r.err != nil {
				return r.err
			}
			st = r.st
		case ev := <-events:
			early = append(early, ev)
		case err := <-readErr:
			return err
		}
	}
	now := h.d.cfg.Clock.Now()
	for _, n := range st.State.Nodes {
		if n.Ready && isLock(n.Values) && codesUnread(n) {
			h.d.log.Warn("zwave-js has not read this lock's user codes: interview.queryAllUserCodes looks off on this hub, and with it off zwave-js's first interview of a lock it did not include clears every code on it; turn it on (docs/zwave-js.md)",
				"hub", h.name, "lock", Address(h.name, n.NodeID))
		}
	}
	for dev, evs := range h.tr.baseline(st.State.Nodes, now) {
		h.d.emit(dev, evs)
	}
	h.mu.Lock()
	clear(h.dead)
	for _, n := range st.State.Nodes {
		if isLock(n.Values) {
			h.heard[n.NodeID] = now
			h.dead[n.NodeID] = n.Status == nodeDead
		}
	}
	h.mu.Unlock()
	for _, ev := range early {
		h.handle(ev)
	}
	h.connected.Store(true)
	up()
	h.d.log.Info("connected to the Z-Wave JS server", "hub", h.name, "server", v.ServerVersion, "driver", v.DriverVersion)
	if h.d.cfg.OnConnect != nil {
		go h.d.cfg.OnConnect()
	}

	defer func() {
		h.connected.Store(false)
		stopping := ctx.Err() != nil // Sparekey shuts down: the hub is not down
		for dev, evs := range h.tr.hubDown(h.d.cfg.Clock.Now()) {
			h.d.waiters.Fail(dev, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: its Z-Wave JS server %s is unreachable", dev, h.name))
			if !stopping {
				h.d.emit(dev, evs)
			}
		}
	}()
	for {
		select {
		case ev := <-events:
			h.handle(ev)
		case err := <-readErr:
			// Events read before the drop still count.
			for {
				select {
				case ev := <-events:
					h.handle(ev)
				default:
					return err
				}
			}
		}
	}
}

// read reads messages until the connection drops: results go to the
// command waiting for them, events to events, in order.
func (h *hub) read(ctx context.Context, conn *websocket.Conn, events chan<- *event) error {
	for {
		var m incoming
		if err := readJSON(ctx, conn, &m, 0); err != nil {
			return err
		}
		switch m.Type {
		case "result":
			h.mu.Lock()
			ch := h.pending[m.MessageID]
			delete(h.pending, m.MessageID)
			h.mu.Unlock()
			if ch != nil {
				ch <- &m
			}
		case "event":
			if m.Event != nil {
				select {
				case events <- m.Event:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}

// handle translates one event, wakes the commands it answers and hands its
// events to the device layer.
func (h *hub) handle(ev *event) {
	now := h.d.cfg.Clock.Now()
	dev, events, r, ok := h.tr.translate(ev, now)
	if !ok {
		return
	}
	h.mu.Lock()
	h.heard[ev.NodeID] = now
	switch ev.Event {
	case "dead":
		h.dead[ev.NodeID] = true
	case "alive":
		h.dead[ev.NodeID] = false
	}
	h.mu.Unlock()
	if r.dead {
		h.d.waiters.Fail(dev, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s is offline: it did not answer its Z-Wave JS server %s", dev, h.name))
	} else {
		h.d.waiters.Report(dev, r)
	}
	h.d.emit(dev, events)
}

// errServer is a command zwave-js-server refused or zwave-js could not
// carry out, with its Z-Wave error (e.g. ZW0204: the node did not
// acknowledge).
type errServer struct {
	code    string
	zwave   int
	message string
}

func (e *errServer) Error() string {
	if e.zwave != 0 {
		code := fmt.Sprintf("ZW%04d", e.zwave)
		msg := strings.TrimSpace(strings.TrimSuffix(e.message, "("+code+")"))
		return fmt.Sprintf("Z-Wave error %s: %s", code, msg)
	}
	return fmt.Sprintf("Z-Wave JS server error %s: %s", e.code, e.message)
}

// call sends a command and returns its result.
func (h *hub) call(ctx context.Context, cmd map[string]any) (json.RawMessage, error) {
	h.mu.Lock()
	conn := h.conn
	if conn == nil {
		h.mu.Unlock()
		return nil, errHubDown
	}
	h.nextID++
	id := strconv.Itoa(h.nextID)
	ch := make(chan *incoming, 1)
	h.pending[id] = ch
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.pending, id)
		h.mu.Unlock()
	}()

	msg := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		msg[k] = v
	}
	msg["messageId"] = id
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.d.cfg.CommandTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, errHubDown
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return nil, errHubDown
		}
		if !m.Success {
			e := &errServer{code: m.ErrorCode, zwave: m.ZWaveErrorCode, message: m.ZWaveErrorMessage}
			if e.message == "" {
				e.message = m.Message
			}
			return nil, e
		}
		return m.Result, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, errNoResult
		}
		return nil, ctx.Err()
	}
}

var (
	errHubDown  = errors.New("the Z-Wave JS server is unreachable")
	errNoResult = errors.New("the Z-Wave JS server did not answer in time")
)

func readJSON(ctx context.Context, conn *websocket.Conn, v any, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	_, b, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// isDead reports whether zwave-js marked the node dead.
func (h *hub) isDead(nodeID int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dead[nodeID]
}

// quiet returns the locks not heard from for d: the ones to ping. heard
// holds locks only.
func (h *hub) quiet(now time.Time, d time.Duration) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for id, at := range h.heard {
		if now.Sub(at) >= d {
			out = append(out, id)
		}
	}
	return out
}

// ping asks zwave-js to ping the node: one that does not answer is marked
// dead, which arrives as a "dead" event.
func (h *hub) ping(ctx context.Context, nodeID int) {
	res, err := h.call(ctx, map[string]any{"command": "node.ping", "nodeId": nodeID})
	if err != nil {
		h.d.log.Debug("ping not sent", "hub", h.name, "node", nodeID, "err", err)
		return
	}
	var r struct {
		Responded bool `json:"responded"`
	}
	_ = json.Unmarshal(res, &r)
	if r.Responded {
		h.mu.Lock()
		h.heard[nodeID] = h.d.cfg.Clock.Now()
		h.mu.Unlock()
	}
}

// defaultBackoff waits 1s, 2s, 4s… up to 30s between attempts, with jitter
// so that instances do not reconnect in step.
func defaultBackoff(n int) time.Duration {
	d := time.Second << min(n-1, 5)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}
