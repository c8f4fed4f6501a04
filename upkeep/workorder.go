package upkeep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sparekey"
	"sparekey/locale"
)

// place is where a lock is: its unit and property.
type place struct {
	lock *sparekey.Lock
	*locale.Place
}

func placeOfLock(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock) (*place, error) {
	where, err := locale.PlaceOf(ctx, tx, lock.UnitID)
	if err != nil {
		return nil, err
	}
	return &place{lock: lock, Place: where}, nil
}

// door names the lock as people do: "Front door, unit 101".
func (p *place) door() string {
	return fmt.Sprintf("%s, unit %s", p.lock.Name, p.Unit.Name)
}

// open creates the lock's work order, fills its first note with what
// maintenance needs to know (the door, battery, jams, last events),
// notifies the maintenance team and audits it.
func (s *Service) open(ctx context.Context, tx sparekey.Tx, p *place, source, author, summary string, jams int) (*sparekey.WorkOrder, error) {
	now := s.now()
	wo := &sparekey.WorkOrder{
		PropertyID: p.Property.ID, UnitID: p.Unit.ID, LockID: p.lock.ID,
		Kind: sparekey.WorkOrderLockJam, Status: sparekey.WorkOrderOpen, Source: source,
		Summary: summary, JamCount: jams, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateWorkOrder(ctx, wo); err != nil {
		return nil, err
	}
	facts, err := s.facts(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	if err := s.note(ctx, tx, wo, author, "opened", summary+"\n"+facts); err != nil {
		return nil, err
	}
	if err := s.notifyTeam(ctx, tx, p, wo); err != nil {
		return nil, err
	}
	if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: author, Action: "work_order.opened",
		Subject: subject(wo), Detail: map[string]string{"lock": p.lock.Device, "source": source, "jams": fmt.Sprint(jams)}}); err != nil {
		return nil, err
	}
	s.log.Info("work order opened", "work_order", wo.ID, "lock", p.lock.Device, "source", source)
	if s.cfg.Opened != nil {
		s.cfg.Opened(source)
	}
	return wo, nil
}

// facts is the snapshot a new work order starts with.
func (s *Service) facts(ctx context.Context, tx sparekey.Tx, p *place) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Door: %s (%s), %s.\n", p.door(), p.lock.Device, p.Property.Name)
	if p.lock.Battery >= 0 {
		fmt.Fprintf(&b, "Battery: %d%%. ", p.lock.Battery)
	}
	online := "online"
	if !p.lock.Online {
		online = "offline"
	}
	fmt.Fprintf(&b, "Lock is %s, %s.\n", online, p.lock.State)
	jams, err := tx.JamsSince(ctx, p.lock.ID, s.now().Add(-30*24*time.Hour), 10)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "Jams in the last 30 days: %d.", len(jams))
	for _, j := range jams {
		fmt.Fprintf(&b, "\n- %s, %s", j.StartedAt.In(p.Location).Format("Jan 2, 3:04 PM MST"), j.Cause)
		switch {
		case j.Attempts == 1:
			b.WriteString(", 1 code try while jammed")
		case j.Attempts > 1:
			fmt.Fprintf(&b, ", %d code tries while jammed", j.Attempts)
		}
		if j.ClearedAt != nil {
			fmt.Fprintf(&b, ", cleared after %s", took(j.ClearedAt.Sub(j.StartedAt)))
		} else {
			b.WriteString(", not cleared")
		}
	}
	events, err := tx.LockEvents(ctx, p.lock.ID, 5)
	if err != nil {
		return "", err
	}
	if len(events) > 0 {
		b.WriteString("\nLast events:")
		for _, e := range events {
			fmt.Fprintf(&b, "\n- %s %s", e.At.In(p.Location).Format("Jan 2, 3:04 PM MST"), strings.ReplaceAll(string(e.Kind), "_", " "))
			if e.Detail != "" {
				b.WriteString(" (" + e.Detail + ")")
			}
		}
	}
	return b.String(), nil
}

func (s *Service) note(ctx context.Context, tx sparekey.Tx, wo *sparekey.WorkOrder, author, kind, text string) error {
	return tx.AddWorkOrderNote(ctx, &sparekey.WorkOrderNote{WorkOrderID: wo.ID, At: s.now(), Author: author, Kind: kind, Text: text})
}

func subject(wo *sparekey.WorkOrder) string { return fmt.Sprintf("work_order:%d", wo.ID) }

// StillJammedNote goes on the timeline of an order resolved while its lock
// still reports the jam: the resolution is kept, and the tech is told the
// door has not yet shown that it works, and what happens if it does not.
func StillJammedNote(rule sparekey.JamRule) string {
	return fmt.Sprintf("The lock still reported jammed when this was resolved. Lock or unlock the door once to confirm the fix: if the lock still reports this jam %s from now, a new work order opens.",
		Span(rule.Uncleared))
}

// Change is a staff member's change to a work order; nil fields stay.
type Change struct {
	Status     *sparekey.WorkOrderStatus
	AssigneeID *int64 // 0 unassigns
	Note       string // added to the timeline
	Resolution string // required to resolve
	Actor      string // "staff:3", "staff:admin"
	Allowed    func(propertyID int64) bool
}

// Update changes a work order's status, assignee or adds a note. Residents
// who reported it hear when it is in progress and when it is resolved.
func (s *Service) Update(ctx context.Context, id int64, c Change) (*sparekey.WorkOrder, error) {
	note, resolution := strings.TrimSpace(c.Note), strings.TrimSpace(c.Resolution)
	if len(note) > MaxNoteLength || len(resolution) > MaxNoteLength {
		return nil, sparekey.Errorf(sparekey.EINVALID, "The note is too long: keep it under %d characters.", MaxNoteLength)
	}
	if c.Status != nil && !c.Status.Valid() {
		return nil, sparekey.Errorf(sparekey.EINVALID, "Status must be open, in_progress or resolved.")
	}
	// The order's lock row is taken before the order's, in the order the
	// lock's reports take them, so the two cannot deadlock.
	var lockID int64
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		wo, err := tx.WorkOrder(ctx, id)
		if err != nil {
			return err
		}
		lockID = wo.LockID
		return nil
	})
	if err != nil {
		return nil, err
	}
	var wo *sparekey.WorkOrder
	told := false
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) (err error) {
		lock, err := tx.Lock(ctx, lockID)
		if err != nil {
			return err
		}
		wo, err = tx.WorkOrder(ctx, id)
		if err != nil {
			return err
		}
		if c.Allowed != nil && !c.Allowed(wo.PropertyID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "work order %d not found", id)
		}
		now := s.now()
		var notes []sparekey.WorkOrderNote
		add := func(kind, text string) { notes = append(notes, sparekey.WorkOrderNote{Kind: kind, Text: text}) }
		if c.AssigneeID != nil && *c.AssigneeID != wo.AssigneeID {
			name := "nobody"
			if *c.AssigneeID != 0 {
				st, err := tx.Staff(ctx, *c.AssigneeID)
				if sparekey.ErrorCode(err) == sparekey.ENOTFOUND || (err == nil && !st.WorksFor(wo.PropertyID)) {
					return sparekey.Errorf(sparekey.EINVALID, "The assignee must be a staff member of this property.")
				} else if err != nil {
					return err
				}
				name = st.Name
			}
			wo.AssigneeID = *c.AssigneeID
			add("assigned", "Assigned to "+name+".")
		}
		var tell string
		if c.Status != nil && *c.Status != wo.Status {
			to := *c.Status
			switch to {
			case sparekey.WorkOrderResolved:
				if resolution == "" {
					return sparekey.Errorf(sparekey.EINVALID, "Say what was done to resolve it (the resolution note).")
				}
				wo.Resolution, wo.ResolvedAt = resolution, &now
				add("status", "Resolved: "+resolution)
				if lock.State == sparekey.LockStateJammed {
					prop, err := tx.Property(ctx, wo.PropertyID)
					if err != nil {
						return err
					}
					add("note", StillJammedNote(prop.JamRule))
				}
				tell = "resolved"
			case sparekey.WorkOrderInProgress:
				if wo.StartedAt == nil {
					wo.StartedAt = &now
				}
				wo.ResolvedAt = nil
				add("status", "In progress.")
				tell = "in_progress"
			case sparekey.WorkOrderOpen:
				wo.ResolvedAt = nil
				add("status", "Reopened.")
			}
			wo.Status = to
		} else if resolution != "" && wo.Status == sparekey.WorkOrderResolved {
			wo.Resolution = resolution
			add("note", "Resolution: "+resolution)
		}
		if note != "" {
			add("note", note)
		}
		if len(notes) == 0 {
			return sparekey.Errorf(sparekey.EINVALID, "Nothing to change: give a status, an assignee or a note.")
		}
		wo.UpdatedAt = now
		if err := tx.UpdateWorkOrder(ctx, wo); err != nil {
			if sparekey.ErrorCode(err) == sparekey.ECONFLICT {
				return sparekey.Errorf(sparekey.ECONFLICT, "This lock has another work order open: add to that one instead.")
			}
			return err
		}
		detail := map[string]string{"status": string(wo.Status)}
		for _, n := range notes {
			if err := s.note(ctx, tx, wo, c.Actor, n.Kind, n.Text); err != nil {
				return err
			}
		}
		if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: c.Actor, Action: "work_order.updated",
			Subject: subject(wo), Detail: detail}); err != nil {
			return err
		}
		if tell == "" {
			return nil
		}
		told = true
		return s.tellWatchers(ctx, tx, wo, tell)
	})
	if err != nil {
		return nil, err
	}
	if told {
		s.queued()
	}
	return wo, nil
}

// Detail is a work order with everything the console shows about it.
type Detail struct {
	WorkOrder *sparekey.WorkOrder
	Lock      *sparekey.Lock
	Unit      *sparekey.Unit
	Property  *sparekey.Property
	Assignee  *sparekey.Staff // nil when nobody
	Notes     []*sparekey.WorkOrderNote
	Jams      []*sparekey.Jam // the lock's jams in the last 30 days, newest first
	Watchers  []*sparekey.Resident
	Staff     []*sparekey.Staff // who it can be assigned to
}

// WorkOrder returns a work order with its lock, timeline and jams.
func (s *Service) WorkOrder(ctx context.Context, id int64, allowed func(int64) bool) (*Detail, error) {
	var d Detail
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		if d.WorkOrder, err = tx.WorkOrder(ctx, id); err != nil {
			return err
		}
		if allowed != nil && !allowed(d.WorkOrder.PropertyID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "work order %d not found", id)
		}
		if d.Lock, err = tx.Lock(ctx, d.WorkOrder.LockID); err != nil {
			return err
		}
		if d.Unit, err = tx.Unit(ctx, d.WorkOrder.UnitID); err != nil {
			return err
		}
		if d.Property, err = tx.Property(ctx, d.WorkOrder.PropertyID); err != nil {
			return err
		}
		if d.WorkOrder.AssigneeID != 0 {
			if d.Assignee, err = tx.Staff(ctx, d.WorkOrder.AssigneeID); err != nil {
				return err
			}
		}
		if d.Notes, err = tx.WorkOrderNotes(ctx, id); err != nil {
			return err
		}
		if d.Jams, err = tx.JamsSince(ctx, d.Lock.ID, s.now().Add(-30*24*time.Hour), 50); err != nil {
			return err
		}
		ids, err := tx.WorkOrderWatchers(ctx, id)
		if err != nil {
			return err
		}
		for _, w := range ids {
			r, err := tx.Resident(ctx, w.ResidentID)
			if err != nil {
				return err
			}
			d.Watchers = append(d.Watchers, r)
		}
		d.Staff, err = tx.StaffList(ctx, d.WorkOrder.PropertyID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Listed is a work order as lists show it.
type Listed struct {
	*sparekey.WorkOrder
	Lock string // device name
	Door string // "Front door"
	Unit string // "101"
}

// WorkOrders lists work orders newest first, with their doors.
func (s *Service) WorkOrders(ctx context.Context, f sparekey.WorkOrderFilter) ([]Listed, error) {
	var out []Listed
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		orders, err := tx.WorkOrders(ctx, f)
		if err != nil {
			return err
		}
		locks := map[int64]*sparekey.Lock{}
		units := map[int64]*sparekey.Unit{}
		out = make([]Listed, 0, len(orders))
		for _, wo := range orders {
			if locks[wo.LockID] == nil {
				if locks[wo.LockID], err = tx.Lock(ctx, wo.LockID); err != nil {
					return err
				}
			}
			if units[wo.UnitID] == nil {
				if units[wo.UnitID], err = tx.Unit(ctx, wo.UnitID); err != nil {
					return err
				}
			}
			out = append(out, Listed{WorkOrder: wo, Lock: locks[wo.LockID].Device, Door: locks[wo.LockID].Name, Unit: units[wo.UnitID].Name})
		}
		return nil
	})
	return out, err
}
