package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/roster"
	"sparekey/secret"
	"sparekey/sim"
	"sparekey/staff"
	"sparekey/web"
)

// seedDemo puts the demo's property, residents and staff in the database
// (once) and makes the admin token, stable across restarts of one demo
// database, when none was given.
func seedDemo(ctx context.Context, c *serveConfig, db sparekey.Store, codes *access.Codes, team *staff.Service,
	keys *secret.Keyring, clock sparekey.Clock, log *slog.Logger) error {
	seeded, err := roster.SeedDemo(ctx, db, codes, clock)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if seeded {
		log.Info("demo data seeded", "property", roster.Demo[0].Property)
	}
	if err := seedDemoStaff(ctx, team); err != nil {
		return fmt.Errorf("seed demo staff: %w", err)
	}
	if c.adminToken == "" {
		c.adminToken = keys.Hash("demo-admin-token", "")[:32]
		c.showToken = true
	}
	return nil
}

// devTools are the demo's dev endpoints: the movable clock (advanced
// wakes the background work that depends on it) and, without --mqtt, the
// simulated locks' keypads and states.
func devTools(ctx context.Context, db sparekey.Store, clock *sparekey.OffsetClock, h *hub, advanced func()) *web.Dev {
	dev := &web.Dev{Clock: clock, Store: db,
		Keypad:   func(string, string) (web.KeypadResult, error) { return web.KeypadResult{}, errNoSimulator },
		SetState: func(string, *bool, *bool, *int) error { return errNoSimulator },
		Advanced: func(ctx context.Context) error {
			advanced()
			return saveDevClock(ctx, db, clock)
		},
	}
	if h != nil && h.demo != nil {
		dev.Keypad = func(device, code string) (web.KeypadResult, error) {
			res, err := h.demo.Keypad(ctx, device, code)
			return web.KeypadResult{Result: res.Result, Pattern: res.Pattern}, err
		}
		dev.SetState = func(device string, jammed, online *bool, battery *int) error {
			return h.demo.SetState(ctx, device, sim.StateChange{Jammed: jammed, Online: online, Battery: battery})
		}
	}
	return dev
}

// devClockSetting is the meta setting that keeps the dev clock's offset,
// so times written on the moved clock stay consistent across restarts.
const devClockSetting = "dev_clock_offset"

func saveDevClock(ctx context.Context, db sparekey.Store, clock *sparekey.OffsetClock) error {
	return db.Tx(ctx, func(tx sparekey.Tx) error {
		return tx.SetMeta(ctx, devClockSetting, clock.Offset().String())
	})
}

// restoreDevClock returns the demo's test clock, moved as far forward as it
// had been before the demo last stopped.
func restoreDevClock(ctx context.Context, db sparekey.Store) (*sparekey.OffsetClock, error) {
	clock := &sparekey.OffsetClock{}
	err := db.Read(ctx, func(tx sparekey.Tx) error {
		v, err := tx.Meta(ctx, devClockSetting)
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("dev clock offset %q in the database: %w", v, err)
		}
		clock.Advance(d)
		return nil
	})
	return clock, err
}

// defaultClientID names this instance on the broker: stable across

// errNoSimulator answers the dev lock endpoints when --mqtt replaced the
// simulator with real locks.
var errNoSimulator = sparekey.Errorf(sparekey.ENOTIMPLEMENTED, "no simulated locks: with --mqtt the locks are real; run sparekey simulate against the broker for virtual ones")

// waitAlone waits, before the demo registers itself, until no other
// instance is registered on the database: a demo that died without signing
// off stays registered for one TTL. It fails naming those still alive
// after that (and a heartbeat). The demo does not register first: it would
// take a share of a live instance's locks while it waited.
func waitAlone(ctx context.Context, db sparekey.Store, ttl time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(ttl + ttl/3 + time.Second)
	for said := false; ; said = true {
		var live []string
		err := db.Read(ctx, func(tx sparekey.Tx) (err error) {
			live, err = tx.Instances(ctx, ttl)
			return err
		})
		if err != nil {
			return fmt.Errorf("list the instances on this database: %w", err)
		}
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return demoNotAlone(live)
		}
		if !said {
			log.Warn("another instance is registered on this database; waiting for it to expire, in case it is a demo that stopped without signing off",
				"instances", live, "wait_up_to", time.Until(deadline).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func demoNotAlone(others []string) error {
	return fmt.Errorf("another Sparekey instance is running on this database (%s); --demo runs its own MQTT broker and virtual locks, which other instances cannot reach: stop the other one, use another --db, or run several instances with --mqtt (and sparekey simulate for virtual locks)",
		strings.Join(others, ", "))
}
