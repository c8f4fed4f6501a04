package z2m_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/sim"
	"sparekey/z2m"
)

// proxy forwards TCP connections to an MQTT broker and can cut them, as a
// broker restart or a network outage would.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	moved  *sync.Cond // signalled when held or refuse change
	refuse bool
	held   bool // read but do not forward, as a network that stalls
	heldIn int  // bytes from the client read while held
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, broker string) *proxy {
	t.Helper()
	u, err := z2m.BrokerURL(broker)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	p.moved = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// URL is the broker URL that goes through the proxy.
func (p *proxy) URL() string { return "mqtt://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refuse {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.refuse { // cut while dialling
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c, true)
		go p.pipe(c, up, false)
	}
}

// pipe copies one way; when either side ends, both close.
func (p *proxy) pipe(dst, src net.Conn, fromClient bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if p.held && fromClient {
				p.heldIn += n
			}
			for p.held && !p.refuse {
				p.moved.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// hold stops forwarding without closing anything, as a network that
// stops carrying packets.
func (p *proxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = true
}

// heldFromClient is how many bytes the client sent while held.
func (p *proxy) heldFromClient() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heldIn
}

// cut closes every forwarded connection and refuses new ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse, p.held = true, false
	p.moved.Broadcast()
	for c := range p.conns {
		c.Close()
	}
}

// accept forwards new connections again.
func (p *proxy) accept() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = false
	p.moved.Broadcast()
}

// poll calls cond until it holds, failing the test after within.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proxied is an adapter that reaches the broker through a proxy, and a
// virtual lock "front" whose bridge reaches the broker directly.
type proxied struct {
	proxy    *proxy
	adapter  *z2m.Adapter
	fleet    *sim.Fleet
	events   *events
	connects atomic.Int32 // OnConnect calls
}

func newProxied(t *testing.T, broker, base string, commandTimeout time.Duration) *proxied {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := &proxied{proxy: startProxy(t, broker), fleet: sim.New(sparekey.SystemClock{}), events: &events{}}
	r.fleet.Add("front", 30)
	a, err := z2m.Start(ctx, z2m.Config{Broker: r.proxy.URL(), BaseTopic: base, Events: deliver(t, r.events.add),
		OnConnect: func() { r.connects.Add(1) }, CommandTimeout: commandTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	r.adapter = a
	b, err := sim.StartBridge(ctx, r.fleet, sim.BridgeConfig{Broker: broker, BaseTopic: base, ClientID: "sim-" + randomHex()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	r.events.wait(t, "front", sparekey.EventOnline)
	r.events.wait(t, "front", sparekey.EventState) // the baseline; see newRig
	poll(t, 5*time.Second, "first OnConnect", func() bool { return r.connects.Load() == 1 })
	return r
}

func TestReconnectsAfterTheBrokerWasAway(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r := newProxied(t, broker, base, 2*time.Second)
		a, p, fleet := r.adapter, r.proxy, r.fleet

		if err := a.SetPIN(ctx, "front", 2, "864213"); err != nil {
			t.Fatalf("SetPIN before the cut: %v", err)
		}

		p.cut()
		// Once the client has seen the connection go, a command fails at
		// once with lock_offline. (One sent in the instant before may wait
		// longer; see TestCommandInFlightAtTheCut. It must not pass.)
		poll(t, 5*time.Second, "a fast lock_offline during the cut", func() bool {
			cctx, ccancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer ccancel()
			start := time.Now()
			err := a.Lock(cctx, "front")
			if err == nil {
				t.Fatal("Lock succeeded through a cut connection")
			}
			return sparekey.ErrorCode(err) == sparekey.ELOCKOFFLINE && time.Since(start) < 200*time.Millisecond
		})
		start := time.Now()
		if err := a.SetPIN(ctx, "front", 3, "519736"); sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
			t.Fatalf("SetPIN during the cut: %v, want lock_offline", err)
		} else if d := time.Since(start); d > time.Second {
			t.Fatalf("SetPIN during the cut took %s", d)
		}
		if _, ok := fleet.Programmed("front")[3]; ok {
			t.Fatal("slot 3 programmed though the adapter was cut off")
		}
		if n := r.connects.Load(); n != 1 {
			t.Fatalf("OnConnect called %d times before the broker came back", n)
		}

		p.accept()
		poll(t, 15*time.Second, "OnConnect after the reconnect", func() bool { return r.connects.Load() >= 2 })

		// Resubscribed: the virtual lock's events reach the handler again.
		if res, err := fleet.Keypad("front", "864213"); err != nil || res.Result != sim.KeypadUnlocked {
			t.Fatalf("keypad: %+v, %v", res, err)
		}
		if ev := r.events.wait(t, "front", sparekey.EventKeypadUnlock); ev.Slot != 2 {
			t.Fatalf("keypad unlock after the reconnect: %+v", ev)
		}
		if err := a.SetPIN(ctx, "front", 3, "519736"); err != nil {
			t.Fatalf("SetPIN after the reconnect: %v", err)
		}
		if got := fleet.Programmed("front")[3]; got != "519736" {
			t.Fatalf("slot 3 holds %q", got)
		}
		if n := r.connects.Load(); n != 2 {
			t.Fatalf("OnConnect called %d times, want 2", n)
		}
	})
}

// A command whose PUBLISH is on the wire when the connection drops must
// fail as fast as one sent after: the connection is known to be gone.
func TestCommandInFlightAtTheCut(t *testing.T) {
	eachBroker(t, func(t *testing.T, broker, base string) {
		r := newProxied(t, broker, base, time.Second)
		r.proxy.hold()
		done := make(chan error, 1)
		go func() { done <- r.adapter.Lock(context.Background(), "front") }()
		poll(t, 5*time.Second, "the PUBLISH reaching the proxy", func() bool { return r.proxy.heldFromClient() > 0 })
		r.proxy.cut()
		cutAt := time.Now()
		select {
		case err := <-done:
			if sparekey.ErrorCode(err) != sparekey.ELOCKOFFLINE {
				t.Fatalf("Lock in flight at the cut: %v, want lock_offline", err)
			}
			if d := time.Since(cutAt); d > 2*time.Second {
				t.Fatalf("Lock in flight at the cut returned %s after it", d)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Lock in flight at the cut still waiting 5s after it")
		}
	})
}
