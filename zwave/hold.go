package zwave

import (
	"context"
	"sync"
	"time"
)

// Among instances sharing the locks, only a hub's owner holds its
// connection (Config.Holds): two connections would double the radio
// traffic of pings and state reads. Another instance asked to command a
// lock on it (a remote unlock through its API) borrows a connection for a
// while instead.

// borrowFor is how long a borrowed connection stays after its last
// command: a few commands in a row share it.
const borrowFor = 30 * time.Second

// holding is one hub's connection goroutines, held as its owner or
// borrowed for commands.
type holding struct {
	cancel  context.CancelFunc
	done    chan struct{} // closed once the connection is closed
	owner   bool
	until   time.Time // a borrowed connection's end, extended by each command
	stopped bool
}

// Follow connects to the hubs this instance owns (Config.Holds) and lets
// go of the others: call it after the instances sharing the locks
// changed. Letting go is no hub going down: its locks are not marked
// offline, since the owner taking the hub over reads their state.
func (d *Driver) Follow() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.ctx.Err() != nil {
		return
	}
	for _, name := range d.Hubs() {
		want := d.cfg.Holds == nil || d.cfg.Holds(d.Hub(Address(name, 0)))
		cur := d.held[name]
		switch {
		case want && (cur == nil || cur.stopped):
			d.held[name] = d.connect(name, cur, true)
		case want:
			cur.owner = true
		case cur != nil && !cur.stopped && cur.owner:
			d.log.Info("letting go of the Z-Wave JS server: another instance owns the hub", "hub", name)
			cur.cancel()
			cur.stopped = true
		}
	}
}

// owns reports whether this instance holds the hub as its owner.
func (d *Driver) owns(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.held[name]
	return cur != nil && !cur.stopped && cur.owner
}

// borrow makes sure the lock's hub is connected for a command on an
// instance that does not own it, and waits (up to 10s, within ctx) for the
// connection's state dump.
func (d *Driver) borrow(ctx context.Context, lock string) {
	name, _, err := ParseAddress(lock)
	h := d.hubs[name]
	if err != nil || h == nil {
		return // the command says why
	}
	d.mu.Lock()
	if d.ctx == nil || d.ctx.Err() != nil {
		d.mu.Unlock()
		return
	}
	cur := d.held[name]
	fresh := cur == nil || cur.stopped
	if fresh {
		cur = d.connect(name, cur, false)
		d.held[name] = cur
	}
	if !cur.owner {
		cur.until = time.Now().Add(borrowFor)
	}
	d.mu.Unlock()
	if !fresh {
		return // connected, or down: the command says so at once
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for !h.connected.Load() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connect starts holding the hub, once the connection prev held was
// closed: one connection per hub at a time. Call with d.mu held.
func (d *Driver) connect(name string, prev *holding, owner bool) *holding {
	h := d.hubs[name]
	ctx, cancel := context.WithCancel(d.ctx)
	hd := &holding{cancel: cancel, done: make(chan struct{}), owner: owner}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(hd.done)
		if prev != nil {
			<-prev.done
		}
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); h.run(ctx) }()
		go func() { defer wg.Done(); d.pinger(ctx, h) }()
		go func() { defer wg.Done(); d.returnBorrowed(ctx, name, hd) }()
		wg.Wait()
	}()
	return hd
}

// returnBorrowed closes a borrowed connection once no command used it for
// borrowFor, unless this instance came to own the hub meanwhile.
func (d *Driver) returnBorrowed(ctx context.Context, name string, hd *holding) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		if !hd.owner && !hd.stopped && time.Now().After(hd.until) {
			d.log.Debug("closing the borrowed connection to the Z-Wave JS server", "hub", name)
			hd.cancel()
			hd.stopped = true
		}
		d.mu.Unlock()
	}
}
