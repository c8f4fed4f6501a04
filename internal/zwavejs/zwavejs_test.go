package zwavejs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"sparekey/internal/zwavejs"
)

// client is the least a test needs to speak zwave-js-server's protocol: the
// zwave package holds the real driver.
type client struct {
	t      *testing.T
	conn   *websocket.Conn
	n      int
	events chan map[string]any
	result chan map[string]any
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(16 << 20) // the state dump of a lock with many slots
	c := &client{t: t, conn: conn, events: make(chan map[string]any, 100), result: make(chan map[string]any, 1)}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	go func() {
		for {
			var m map[string]any
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				return
			}
			switch m["type"] {
			case "event":
				c.events <- m["event"].(map[string]any)
			case "result":
				c.result <- m
			case "version":
				c.events <- m
			}
		}
	}()
	return c
}

func (c *client) do(cmd map[string]any) map[string]any {
	c.t.Helper()
	c.n++
	cmd["messageId"] = fmt.Sprint(c.n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, cmd); err != nil {
		c.t.Fatal(err)
	}
	select {
	case r := <-c.result:
		if r["success"] != true {
			c.t.Fatalf("%s: %v", cmd["command"], r)
		}
		res, _ := r["result"].(map[string]any)
		return res
	case <-ctx.Done():
		c.t.Fatalf("%s: no result", cmd["command"])
		return nil
	}
}

// event waits for the first event match accepts.
func (c *client) event(what string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if match(ev) {
				return ev
			}
		case <-timeout:
			c.t.Fatalf("no %s event", what)
			return nil
		}
	}
}

func valueUpdated(node int, cc float64, property string, key float64) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		args, _ := ev["args"].(map[string]any)
		return ev["event"] == "value updated" && ev["nodeId"] == float64(node) &&
			args["commandClass"] == cc && args["property"] == property &&
			(key == 0 || args["propertyKey"] == key)
	}
}

// TestStack checks the stack the zwave package's tests stand on: the real
// zwave-js-server serves the simulated lock, a code set through it lands on
// the lock, and what a person does at the door comes back as zwave-js events.
func TestStack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Z-Wave JS stack takes seconds to start")
	}
	s := zwavejs.Start(t)
	t.Logf("the stack started in %s", s.Started.Round(time.Millisecond))

	c := dial(t, s.URL)
	c.event("version", func(ev map[string]any) bool { return ev["type"] == "version" })
	c.do(map[string]any{"command": "set_api_schema", "schemaVersion": 35})
	res := c.do(map[string]any{"command": "start_listening"})
	state := res["state"].(map[string]any)
	var lock map[string]any
	for _, n := range state["nodes"].([]any) {
		if n := n.(map[string]any); n["nodeId"] == float64(s.Node) {
			lock = n
		}
	}
	if lock == nil || lock["ready"] != true {
		t.Fatalf("node %d is not in the state dump, or not ready: %v", s.Node, lock)
	}

	set := func(cc int, property string, key any, value any) {
		t.Helper()
		id := map[string]any{"commandClass": cc, "property": property}
		if key != nil {
			id["propertyKey"] = key
		}
		c.do(map[string]any{"command": "node.set_value", "nodeId": s.Node, "valueId": id, "value": value})
	}

	t.Run("a code set through zwave-js is on the lock", func(t *testing.T) {
		set(99, "userCode", 3, "482913")
		c.event("userIdStatus", valueUpdated(s.Node, 99, "userIdStatus", 3))
		if got := s.Slot(t, 3); got.Status != 1 || got.Code != "482913" {
			t.Fatalf("slot 3 on the lock = %+v, want enabled 482913", got)
		}
	})

	t.Run("the code typed on the keypad unlocks by slot", func(t *testing.T) {
		if r := s.Keypad(t, "482913"); !r.Opened || r.Slot != 3 {
			t.Fatalf("keypad: %+v", r)
		}
		ev := c.event("notification", func(ev map[string]any) bool { return ev["event"] == "notification" })
		args := ev["args"].(map[string]any)
		params, _ := args["parameters"].(map[string]any)
		if args["type"] != float64(6) || args["event"] != float64(6) || params["userId"] != float64(3) {
			b, _ := json.Marshal(ev)
			t.Fatalf("notification: %s", b)
		}
		c.event("currentMode", valueUpdated(s.Node, 98, "currentMode", 0))
	})

	t.Run("remote lock is confirmed by currentMode", func(t *testing.T) {
		set(98, "targetMode", nil, 255)
		c.event("currentMode 255", func(ev map[string]any) bool {
			args, _ := ev["args"].(map[string]any)
			return valueUpdated(s.Node, 98, "currentMode", 0)(ev) && args["newValue"] == float64(255)
		})
		if got := s.Bolt(t); got != 255 {
			t.Fatalf("bolt = %d, want 255", got)
		}
	})

	t.Run("a jam is a state", func(t *testing.T) {
		s.Jam(t)
		c.event("Lock state 11", func(ev map[string]any) bool {
			args, _ := ev["args"].(map[string]any)
			return ev["event"] == "value updated" && args["commandClass"] == float64(113) &&
				args["propertyKey"] == "Lock state" && args["newValue"] == float64(11)
		})
		s.Unjam(t)
	})

	t.Run("a dead lock is found by a ping", func(t *testing.T) {
		s.Dead(t)
		res := c.do(map[string]any{"command": "node.ping", "nodeId": s.Node})
		if res["responded"] != false {
			t.Fatalf("ping of a dead lock: %v", res)
		}
		c.event("dead", func(ev map[string]any) bool { return ev["event"] == "dead" })
		s.Alive(t)
		res = c.do(map[string]any{"command": "node.ping", "nodeId": s.Node})
		if res["responded"] != true {
			t.Fatalf("ping of a live lock: %v", res)
		}
		c.event("alive", func(ev map[string]any) bool { return ev["event"] == "alive" })
	})
}
