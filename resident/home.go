package resident

import (
	"context"
	"fmt"
	"slices"
	"time"

	"sparekey"
	"sparekey/locale"
)

// KeypadLockout is how long a keypad ignores codes after too many wrong
// ones (Kwikset and Yale keypads: 60 seconds; the simulator does the same).
const KeypadLockout = 60 * time.Second

// LowBattery is the battery percentage under which the app warns.
const LowBattery = 20

// RecentJam is how long after a jam the wizard still leads to the jam steps.
const RecentJam = time.Hour

// Door is one of the resident's locks as the app shows it.
type Door struct {
	Lock *sparekey.Lock
	// Jammed: the lock reports jammed now, or a jam is under way. JamAt
	// is when the jam under way (or the last one within RecentJam) began,
	// JamClearedAt when that last one ended (nil while one is under way).
	Jammed       bool
	JamAt        *time.Time
	JamClearedAt *time.Time
	// KeypadDisabledUntil is set while the keypad ignores codes after too
	// many wrong ones.
	KeypadDisabledUntil *time.Time
	LowBattery          bool
}

// Offline reports whether the lock's hub cannot reach it.
func (d Door) Offline() bool { return !d.Lock.Online }

// Home is what a signed-in resident's home shows.
type Home struct {
	Resident *sparekey.Resident
	Unit     *sparekey.Unit
	Property *sparekey.Property
	Doors    []Door
	Location *time.Location
}

// Home returns the resident's doors with their live state.
func (s *Service) Home(ctx context.Context, residentID int64) (*Home, error) {
	var h Home
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if h.Resident, err = tx.Resident(ctx, residentID); err != nil {
			return err
		}
		where, err := locale.PlaceOf(ctx, tx, h.Resident.UnitID)
		if err != nil {
			return err
		}
		h.Unit, h.Property, h.Location = where.Unit, where.Property, where.Location
		locks, err := tx.LocksByUnit(ctx, h.Unit.ID)
		if err != nil {
			return err
		}
		for _, l := range locks {
			d, err := s.door(ctx, tx, l)
			if err != nil {
				return err
			}
			h.Doors = append(h.Doors, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func (s *Service) door(ctx context.Context, tx sparekey.Tx, l *sparekey.Lock) (Door, error) {
	now := s.now()
	d := Door{Lock: l, Jammed: l.State == sparekey.LockStateJammed, LowBattery: l.Battery >= 0 && l.Battery < LowBattery}
	jams, err := tx.JamsSince(ctx, l.ID, now.Add(-RecentJam), 1)
	if err != nil {
		return d, err
	}
	if open, err := tx.OpenJam(ctx, l.ID); err == nil {
		// Jammed until a clear or a healthy operation is seen, whatever
		// a state report since says (Zigbee2MQTT's cache keeps no jam).
		d.Jammed, d.JamAt = true, &open.StartedAt
	} else if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
		return d, err
	} else if len(jams) > 0 {
		d.JamAt, d.JamClearedAt = &jams[0].StartedAt, jams[0].ClearedAt
	}
	events, err := tx.LockEvents(ctx, l.ID, 20)
	if err != nil {
		return d, err
	}
	for _, e := range events {
		if e.Kind == sparekey.EventKeypadLocked {
			if until := e.At.Add(KeypadLockout); now.Before(until) {
				d.KeypadDisabledUntil = &until
			}
			break
		}
	}
	return d, nil
}

// Operate locks or unlocks one of the resident's doors. Another unit's
// door is not found.
func (s *Service) Operate(ctx context.Context, residentID int64, device string, unlock bool) error {
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		r, err := tx.Resident(ctx, residentID)
		if err != nil {
			return err
		}
		l, err := tx.LockByDevice(ctx, device)
		if err != nil || l.UnitID != r.UnitID {
			return sparekey.Errorf(sparekey.ENOTFOUND, "That door is not one of yours.")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.cfg.Doors.Operate(ctx, device, unlock, fmt.Sprintf("resident:%d", residentID))
}

// Use is one time the resident's code opened a door.
type Use struct {
	At   time.Time
	Door string
	How  string // "access code", "backup code"
}

// Access is the resident's access code on each door, and its use.
type Access struct {
	Codes    []DoorCode
	Uses     []Use // newest first
	Location *time.Location
}

// DoorCode is the resident's code on one door; Code is empty until
// revealed.
type DoorCode struct {
	Door   string
	Code   string
	Synced bool // the lock confirmed it
}

// AccessCodes returns the resident's codes (only when reveal is true, and
// then audited) and the last times a code of theirs opened a door.
func (s *Service) AccessCodes(ctx context.Context, residentID int64, reveal bool, v Visit) (*Access, error) {
	var a Access
	told := false // the reveal email was queued
	tx := s.cfg.Store.Read
	if reveal {
		tx = s.cfg.Store.Tx
	}
	err := tx(ctx, func(tx sparekey.Tx) error {
		r, err := tx.Resident(ctx, residentID)
		if err != nil {
			return err
		}
		where, err := locale.PlaceOf(ctx, tx, r.UnitID)
		if err != nil {
			return err
		}
		a.Location = where.Location
		locks, err := tx.LocksByUnit(ctx, r.UnitID)
		if err != nil {
			return err
		}
		for _, l := range locks {
			slots, err := tx.SlotsByLock(ctx, l.ID)
			if err != nil {
				return err
			}
			how := map[int]string{} // by slot; a slot keeps its purpose
			for _, sl := range slots {
				how[sl.Number] = "backup code"
				if sl.Purpose != sparekey.SlotResident {
					continue
				}
				how[sl.Number] = "access code"
				if sl.ResidentID == r.ID && sl.Code != "" {
					dc := DoorCode{Door: l.Name, Synced: sl.Usable()}
					if reveal {
						dc.Code = sl.Code
					}
					a.Codes = append(a.Codes, dc)
				}
			}
			// Each keypad unlock names whose code it was when it happened,
			// so a backup code passed on to a neighbour keeps its uses.
			events, err := tx.LockEvents(ctx, l.ID, 200)
			if err != nil {
				return err
			}
			for _, e := range events { // newest first
				if e.Kind == sparekey.EventKeypadUnlock && e.ResidentID == r.ID {
					a.Uses = append(a.Uses, Use{At: e.At, Door: l.Name, How: how[e.Slot]})
				}
			}
		}
		if reveal {
			who := fmt.Sprintf("resident:%d", r.ID)
			if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: s.now(), Actor: who, Action: "resident.code_revealed",
				Subject: who, IP: v.IP, UserAgent: sparekey.Clip(v.UserAgent, 256, "")}); err != nil {
				return err
			}
			told, err = s.tellRevealed(ctx, tx, r, where.Property, v.Language)
			return err
		}
		return nil
	})
	if told {
		s.cfg.Queued()
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(a.Uses, func(x, y Use) int { return y.At.Compare(x.At) })
	if len(a.Uses) > 20 {
		a.Uses = a.Uses[:20]
	}
	return &a, nil
}

// tellRevealed emails the account that its access code was shown in the
// app (docs/security.md rule 13), at most once in ten minutes: someone with
// a stolen session learns the code too, and the resident should hear of it.
func (s *Service) tellRevealed(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, prop *sparekey.Property, lang string) (bool, error) {
	if r.Email == "" {
		return false, nil
	}
	recent, err := tx.CountMessagesSince(ctx, sparekey.ChannelEmail, r.Email, s.now().Add(-10*time.Minute))
	if err != nil {
		return false, err
	}
	msgs, err := tx.Messages(ctx, r.Email, max(recent, 1))
	if err != nil {
		return false, err
	}
	for _, m := range msgs[:min(recent, len(msgs))] {
		if m.Kind == "access_code_revealed" {
			return false, nil
		}
	}
	data := map[string]any{"Name": r.FirstName(), "Property": prop.Name}
	subject, body, err := locale.Email(lang, "access_code_revealed", data)
	if err != nil {
		return false, err
	}
	err = s.queue(ctx, tx, r, &sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email,
		Subject: subject, Body: body, Kind: "access_code_revealed"})
	return err == nil, err
}
