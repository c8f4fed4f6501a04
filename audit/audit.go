// Package audit reads the audit trail for staff: a search that keeps to
// the properties a staff member works for, and the names of the people in
// it. Every package writes its own lines (sparekey.AuditStore); this one
// only reads them.
package audit

import (
	"context"
	"strconv"
	"strings"

	"sparekey"
)

// Log reads the audit trail.
type Log struct {
	store sparekey.Store
}

// New returns a Log reading store.
func New(store sparekey.Store) *Log { return &Log{store: store} }

// Search searches the audit trail newest first. A staff member sees only
// what concerns their properties: events about a lock, resident, link,
// work order or property of theirs, and their own sign-ins. allowed nil
// sees everything.
func (l *Log) Search(ctx context.Context, f sparekey.AuditFilter, allowed func(int64) bool) ([]*sparekey.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	var out []*sparekey.AuditEvent
	err := l.store.Read(ctx, func(tx sparekey.Tx) error {
		if allowed == nil {
			f.Limit = limit
			var err error
			out, err = tx.SearchAudit(ctx, f)
			return err
		}
		// Fetch more than shown: some belong to other properties.
		f.Limit = limit * 5
		events, err := tx.SearchAudit(ctx, f)
		if err != nil {
			return err
		}
		w := &whose{tx: tx, ctx: ctx, cache: map[string]int64{}}
		for _, e := range events {
			if len(out) == limit {
				break
			}
			prop, err := w.property(e)
			if err != nil {
				return err
			}
			if prop != 0 && allowed(prop) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// whose finds the property an audit event is about.
type whose struct {
	ctx   context.Context
	tx    sparekey.Tx
	cache map[string]int64
}

func (w *whose) property(e *sparekey.AuditEvent) (int64, error) {
	subject := e.Subject
	if strings.HasPrefix(subject, "link:") && e.Detail["resident"] != "" {
		subject = "resident:" + e.Detail["resident"]
	}
	if strings.HasPrefix(subject, "staff:") && e.Detail["lock"] != "" {
		subject = "lock:" + e.Detail["lock"]
	}
	if id, ok := w.cache[subject]; ok {
		return id, nil
	}
	id, err := w.lookup(subject)
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		id, err = 0, nil
	}
	if err != nil {
		return 0, err
	}
	w.cache[subject] = id
	return id, nil
}

func (w *whose) lookup(subject string) (int64, error) {
	kind, ref, _ := strings.Cut(subject, ":")
	n, _ := strconv.ParseInt(ref, 10, 64)
	ctx, tx := w.ctx, w.tx
	unitProperty := func(unitID int64) (int64, error) {
		u, err := tx.Unit(ctx, unitID)
		if err != nil {
			return 0, err
		}
		return u.PropertyID, nil
	}
	switch kind {
	case "lock":
		l, err := tx.LockByDevice(ctx, ref)
		if err != nil {
			return 0, err
		}
		return unitProperty(l.UnitID)
	case "resident":
		r, err := tx.Resident(ctx, n)
		if err != nil {
			return 0, err
		}
		return unitProperty(r.UnitID)
	case "work_order":
		wo, err := tx.WorkOrder(ctx, n)
		if err != nil {
			return 0, err
		}
		return wo.PropertyID, nil
	case "property":
		return n, nil
	case "staff":
		st, err := tx.Staff(ctx, n)
		if err != nil || len(st.Properties) == 0 {
			return 0, err
		}
		return st.Properties[0], nil
	}
	return 0, nil
}

// Names names the actors and subjects of events that are people:
// staff ("staff:2" → "Maya Patel"), residents ("resident:3" → "Ana Ruiz
// (resident)"), the admin token and Sparekey itself. Others are left out.
func (l *Log) Names(ctx context.Context, events []*sparekey.AuditEvent) (map[string]string, error) {
	names := map[string]string{"system": "Sparekey", "staff:admin": "admin token"}
	err := l.store.Read(ctx, func(tx sparekey.Tx) error {
		team, err := tx.StaffList(ctx, 0)
		if err != nil {
			return err
		}
		for _, st := range team {
			names["staff:"+strconv.FormatInt(st.ID, 10)] = st.Name
		}
		for _, e := range events {
			for _, who := range []string{e.Actor, e.Subject} {
				ref, ok := strings.CutPrefix(who, "resident:")
				id, err := strconv.ParseInt(ref, 10, 64)
				if _, named := names[who]; !ok || named || err != nil {
					continue
				}
				r, err := tx.Resident(ctx, id)
				if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
					continue
				} else if err != nil {
					return err
				}
				names[who] = r.Name + " (resident)"
			}
		}
		return nil
	})
	return names, err
}
