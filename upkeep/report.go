package upkeep

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sparekey"
	"sparekey/locale"
)

// How people open work orders: a resident's "Notify maintenance" and staff
// in the console or the API. Either goes onto the lock's open order when
// there is one.

// ResidentReport is a resident's "Notify maintenance".
type ResidentReport struct {
	ResidentID int64
	Lock       string // device name; "" for the first lock of the resident's unit
	Note       string // optional, what the resident wants maintenance to know
	Via        string // where it came from: "link", "app"
	Language   string // of the page: the resident's updates are written in it
}

// ReportRepeat is how soon the same resident's report on an open order
// reaches the maintenance team again.
const ReportRepeat = 30 * time.Minute

// MaxNoteLength is the longest note a person may add to a work order.
const MaxNoteLength = 2000

// Reported is the answer to a resident's report.
type Reported struct {
	WorkOrder *sparekey.WorkOrder
	Opened    bool   // false: the report went onto the order already open
	Door      string // "Front door, unit 101"
	LockName  string // "Front door"
	Unit      string // "101"
}

// Report opens the lock's work order for a resident, or adds the report to
// the one already open, and subscribes the resident to its updates. The
// maintenance team hears of a new order at once; the resident gets an
// email saying it was received.
func (s *Service) Report(ctx context.Context, r ResidentReport) (*Reported, error) {
	note := strings.TrimSpace(r.Note)
	if len(note) > MaxNoteLength {
		return nil, sparekey.Errorf(sparekey.EINVALID, "The note is too long: keep it under %d characters.", MaxNoteLength)
	}
	var out Reported
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		resident, err := tx.Resident(ctx, r.ResidentID)
		if err != nil {
			return err
		}
		if !resident.Active() {
			return sparekey.Errorf(sparekey.EFORBIDDEN, "This account has moved out.")
		}
		lock, err := residentLock(ctx, tx, resident, r.Lock)
		if err != nil {
			return err
		}
		// Take the lock's row (on PostgreSQL) as its reports and staff do,
		// so that two of them at once cannot both open an order.
		if lock, err = tx.Lock(ctx, lock.ID); err != nil {
			return err
		}
		p, err := placeOfLock(ctx, tx, lock)
		if err != nil {
			return err
		}
		author := fmt.Sprintf("resident:%d", resident.ID)
		text := resident.Name + " reported the door is stuck"
		if r.Via != "" {
			text += " (from the " + r.Via + ")"
		}
		text += "."
		if note != "" {
			text += " Note: " + note
		}
		wo, err := tx.ActiveWorkOrder(ctx, lock.ID)
		switch sparekey.ErrorCode(err) {
		case "":
			wo.UpdatedAt = s.now()
			if err := tx.UpdateWorkOrder(ctx, wo); err != nil {
				return err
			}
			// Someone at the door now: the team hears of it, unless the
			// same resident reported it in the last half hour.
			notes, err := tx.WorkOrderNotes(ctx, wo.ID)
			if err != nil {
				return err
			}
			recent := slices.ContainsFunc(notes, func(n *sparekey.WorkOrderNote) bool {
				return n.Kind == "report" && n.Author == author && s.now().Sub(n.At) < ReportRepeat
			})
			if err := s.note(ctx, tx, wo, author, "report", text); err != nil {
				return err
			}
			if !recent {
				if err := s.tellTeamOfReport(ctx, tx, p, wo, text); err != nil {
					return err
				}
			}
		case sparekey.ENOTFOUND:
			jams, err := s.countedJams(ctx, tx, lock, p.Property.JamRule, s.now())
			if err != nil {
				return err
			}
			if wo, err = s.open(ctx, tx, p, sparekey.SourceResident, author, text, jams); err != nil {
				return err
			}
			out.Opened = true
		default:
			return err
		}
		lang := locale.Of(r.Language)
		if err := tx.AddWorkOrderWatcher(ctx, wo.ID, sparekey.WorkOrderWatcher{ResidentID: resident.ID, Language: lang}); err != nil {
			return err
		}
		if err := tx.RecordAudit(ctx, &sparekey.AuditEvent{At: s.now(), Actor: author, Action: "work_order.reported",
			Subject: subject(wo), Detail: map[string]string{"lock": lock.Device, "opened": fmt.Sprint(out.Opened)}}); err != nil {
			return err
		}
		out.WorkOrder, out.Door, out.LockName, out.Unit = wo, p.door(), lock.Name, p.Unit.Name
		return s.tellResident(ctx, tx, resident, lang, p, wo, "received")
	})
	if err != nil {
		return nil, err
	}
	s.queued()
	return &out, nil
}

// residentLock is the named lock of the resident's unit, or its first.
func residentLock(ctx context.Context, tx sparekey.Tx, resident *sparekey.Resident, device string) (*sparekey.Lock, error) {
	locks, err := tx.LocksByUnit(ctx, resident.UnitID)
	if err != nil {
		return nil, err
	}
	for _, l := range locks {
		if device == "" || l.Device == device {
			return l, nil
		}
	}
	return nil, sparekey.Errorf(sparekey.ENOTFOUND, "No such lock on your unit.")
}

// StaffReport is a work order opened by staff.
type StaffReport struct {
	Lock  string // device name
	Note  string
	Actor string // "staff:3", "staff:admin"
	// Allowed says whether the actor works for the property; nil: any.
	Allowed func(propertyID int64) bool
}

// Open opens a work order on a lock for staff, or adds the note to the one
// already open (ECONFLICT is never returned: one order per lock).
func (s *Service) Open(ctx context.Context, r StaffReport) (wo *sparekey.WorkOrder, opened bool, err error) {
	note := strings.TrimSpace(r.Note)
	if note == "" {
		return nil, false, sparekey.Errorf(sparekey.EINVALID, "Say what is wrong with the door.")
	} else if len(note) > MaxNoteLength {
		return nil, false, sparekey.Errorf(sparekey.EINVALID, "The note is too long: keep it under %d characters.", MaxNoteLength)
	}
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, r.Lock)
		if err != nil {
			return err
		}
		p, err := placeOfLock(ctx, tx, lock)
		if err != nil {
			return err
		}
		if r.Allowed != nil && !r.Allowed(p.Property.ID) {
			return sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", r.Lock)
		}
		wo, err = tx.ActiveWorkOrder(ctx, lock.ID)
		switch sparekey.ErrorCode(err) {
		case "":
			wo.UpdatedAt = s.now()
			if err := tx.UpdateWorkOrder(ctx, wo); err != nil {
				return err
			}
			return s.note(ctx, tx, wo, r.Actor, "note", note)
		case sparekey.ENOTFOUND:
			jams, err := s.countedJams(ctx, tx, lock, p.Property.JamRule, s.now())
			if err != nil {
				return err
			}
			wo, err = s.open(ctx, tx, p, sparekey.SourceStaff, r.Actor, note, jams)
			opened = err == nil
			return err
		default:
			return err
		}
	})
	if err != nil {
		return nil, false, err
	}
	if opened {
		s.queued()
	}
	return wo, opened, nil
}
