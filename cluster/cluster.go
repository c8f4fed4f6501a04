// Package cluster lets several Sparekey instances on one database share
// the locks: each instance heartbeats into the database, and every lock has
// exactly one owner among the instances alive, chosen by rendezvous hashing
// so that all instances agree without talking to each other and a member
// joining or leaving moves only its share of the locks.
//
// The owner of a lock is the instance that records its reports and
// programs its codes. Any instance may still send it a command (a remote
// unlock): every instance sees every report, so it sees the confirmation.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"sparekey"
	"sparekey/loop"
)

// Config configures a Member.
type Config struct {
	Store sparekey.Store
	// ID names this instance; default the host name and a random suffix.
	ID string
	// TTL is how long an instance counts as alive after its last
	// heartbeat. It heartbeats every TTL/3. Default 15s.
	TTL time.Duration
	// OnChange is called, on the member's goroutine, after the set of live
	// instances changed (so the locks this one owns did too).
	OnChange func()
	Logger   *slog.Logger
}

// Member is this instance's membership. Liveness runs on the database's
// clock, so the hosts' clocks need not agree.
type Member struct {
	cfg     Config
	log     *slog.Logger
	loop    *loop.Loop
	process string // random: tells this process from another with the same id

	mu      sync.RWMutex
	members []string  // live instances, sorted; always holds this one
	joined  time.Time // first heartbeat
	lastOK  time.Time // last heartbeat that reached the database
	warm    bool      // the others have had time to see us: we own our share
	lapses  int       // times a heartbeat got through after more than a TTL of failures

	changeMu      sync.Mutex
	changeRunning bool
	changeAgain   bool
}

// New returns a member that owns every lock until Start has heard from the
// database.
func New(cfg Config) *Member {
	if cfg.ID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.ID = host + "-" + hex.EncodeToString(b)
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	m := &Member{cfg: cfg, log: cfg.Logger, members: []string{cfg.ID}, process: hex.EncodeToString(b), warm: true}
	m.loop = loop.New(cfg.TTL/3, func(ctx context.Context) (bool, error) { return false, m.beat(ctx) },
		func(err error) { m.log.Error("instance heartbeat failed", "err", err) })
	return m
}

// ID is this instance's name.
func (m *Member) ID() string { return m.cfg.ID }

// Start records the first heartbeat and reads the live instances, then
// keeps heartbeating until Stop. It fails when another running process
// uses the same ID.
func (m *Member) Start(ctx context.Context) error {
	if err := m.beat(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	// Joining others: they keep our share until their next heartbeat has
	// seen us, so we take it only after that, lest two record one report.
	m.warm = len(m.members) == 1
	m.mu.Unlock()
	m.loop.Start(context.WithoutCancel(ctx))
	return nil
}

// Stop ends the heartbeat and removes this instance from the list, so the
// others take over its locks at once rather than after the TTL.
func (m *Member) Stop() {
	m.loop.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error { return tx.RemoveInstance(ctx, m.cfg.ID, m.process) })
	if err != nil {
		m.log.Warn("could not sign off; the other instances take over after the TTL", "err", err)
	}
}

// beat records this instance alive and refreshes the list of live ones.
func (m *Member) beat(ctx context.Context) error {
	var live []string
	err := m.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		if err := tx.Heartbeat(ctx, m.cfg.ID, m.process, m.cfg.TTL); err != nil {
			return err
		}
		var err error
		live, err = tx.Instances(ctx, m.cfg.TTL)
		return err
	})
	if err != nil {
		return err
	}
	if !slices.Contains(live, m.cfg.ID) {
		live = append(live, m.cfg.ID)
		slices.Sort(live)
	}
	now := time.Now()
	m.mu.Lock()
	if m.joined.IsZero() {
		m.joined = now
	}
	// Back after a TTL without a heartbeat: Owns said no meanwhile, so
	// the adapter kept this instance's locks' reports for whoever took
	// them over. Alone, nobody did: the owner must look again, as after
	// any change in the members. With others alive, they took the locks
	// and keep them until their next heartbeat sees this one again: it
	// waits as one joining does, lest two record one report.
	lapsed := !m.lastOK.IsZero() && now.Sub(m.lastOK) > m.cfg.TTL
	if lapsed {
		m.lapses++
		if len(live) > 1 {
			m.warm, m.joined = false, now
		}
	}
	m.lastOK = now
	changed := lapsed || !slices.Equal(live, m.members)
	m.members = live
	if !m.warm && now.Sub(m.joined) >= m.cfg.TTL/3+time.Second {
		m.warm, changed = true, true
	}
	m.mu.Unlock()
	if lapsed {
		m.log.Warn("heartbeat reached the database again after more than the TTL; taking this instance's locks back", "ttl", m.cfg.TTL)
	}
	if changed {
		m.log.Info("instances sharing the locks", "instances", live, "self", m.cfg.ID)
		m.changed()
	}
	return nil
}

// changed runs OnChange off the heartbeat's goroutine (a rebalance of many
// locks must not delay the heartbeat past the TTL), once at a time, again
// if the members changed meanwhile.
func (m *Member) changed() {
	if m.cfg.OnChange == nil {
		return
	}
	m.changeMu.Lock()
	defer m.changeMu.Unlock()
	if m.changeRunning {
		m.changeAgain = true
		return
	}
	m.changeRunning = true
	go func() {
		for {
			m.cfg.OnChange()
			m.changeMu.Lock()
			if !m.changeAgain {
				m.changeRunning = false
				m.changeMu.Unlock()
				return
			}
			m.changeAgain = false
			m.changeMu.Unlock()
		}
	}()
}

// OnChange sets Config.OnChange, for what follows the changes but is made
// after the member because it asks the member whom locks belong to. Call
// it before Start.
func (m *Member) OnChange(fn func()) { m.cfg.OnChange = fn }

// Lapses counts the times this instance's heartbeat reached the database
// again after a TTL without one. While it could not, Owns said no to
// every lock, so OnChange should take the instance's share over again
// when the count has grown, as if the locks had just come to it. (With
// other instances alive, Owns says no a while longer, as for a member
// joining.)
func (m *Member) Lapses() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lapses
}

// Members returns the live instances, sorted.
func (m *Member) Members() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.members)
}

// Owns reports whether this instance owns the lock: the live instance with
// the highest hash of (instance, device). An instance that has just joined
// others owns nothing until they have seen it, and one that could not
// reach the database for a TTL owns nothing either: the others will have
// taken its share.
func (m *Member) Owns(device string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.warm || (!m.lastOK.IsZero() && time.Since(m.lastOK) > m.cfg.TTL) {
		return false
	}
	return Owner(m.members, device) == m.cfg.ID
}

// Owner is the owner of device among members, "" when there are none.
func Owner(members []string, device string) string {
	var best string
	var bestScore uint64
	for _, id := range members {
		h := fnv.New64a()
		h.Write([]byte(id))
		h.Write([]byte{0})
		h.Write([]byte(device))
		if s := mix(h.Sum64()); best == "" || s > bestScore {
			best, bestScore = id, s
		}
	}
	return best
}

// mix spreads FNV's weak high bits (a finalizer from SplitMix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
