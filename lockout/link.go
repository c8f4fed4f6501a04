package lockout

import (
	"context"
	"fmt"
	"time"

	"sparekey"
	"sparekey/locale"
	"sparekey/secret"
)

// Visit is who opened a link, for the audit trail.
type Visit struct {
	IP        string
	UserAgent string
}

// LinkView is what a backup link page shows before the code is revealed.
type LinkView struct {
	ExpiresAt time.Time
	Locks     []string // names of the doors the link opens
	FirstName string
	Help      Help
}

// Help is whom a resident calls when a code is not enough.
type Help struct {
	Property string
	Phone    string // maintenance, national format, "" when unknown
	Dial     string // the same in E.164, for tel: links
	Email    string
}

// BackupCode is one door's backup code as revealed.
type BackupCode struct {
	Lock   string `json:"lock"` // device name
	Name   string `json:"name"`
	Code   string `json:"code"`   // empty unless Status is ready
	Status string `json:"status"` // ready, used, unavailable
}

// Reveal is the result of revealing a link.
type Reveal struct {
	ExpiresAt time.Time
	Codes     []BackupCode
	FirstName string
	Help      Help
}

// Backup code statuses in a Reveal.
const (
	CodeReady       = "ready"
	CodeUsed        = "used"        // used once already: ask for a new link
	CodeUnavailable = "unavailable" // the pool was empty when the link was made
	// CodeProgramming is a code the lock lost (a reset or a replaced lock)
	// and is getting again: shown, with a word that it may need a minute.
	CodeProgramming = "programming"
)

// Contacts lists every property's maintenance contact, for residents who
// cannot be helped by a code (a jammed door). Properties without a phone
// are left out.
func (s *Service) Contacts(ctx context.Context) ([]Help, error) {
	var out []Help
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		props, err := tx.Properties(ctx)
		for _, p := range props {
			if h := helpOf(p); h.Phone != "" {
				out = append(out, h)
			}
		}
		return err
	})
	return out, err
}

// maxRevealNotices is how many reveals of one link are emailed to the
// account; later ones are audited only.
const maxRevealNotices = 3

func anyReady(codes []BackupCode) bool {
	for _, c := range codes {
		if c.Status == CodeReady {
			return true
		}
	}
	return false
}

// ViewLink checks a link and describes it without revealing any code or
// changing anything but the audit trail.
func (s *Service) ViewLink(ctx context.Context, token string, v Visit) (*LinkView, error) {
	var view *LinkView
	err := s.withLink(ctx, token, v, "link.viewed", func(tx sparekey.Tx, link *sparekey.BackupLink, r *sparekey.Resident) error {
		locks, err := tx.LocksByUnit(ctx, r.UnitID)
		if err != nil {
			return err
		}
		where, err := locale.PlaceOf(ctx, tx, r.UnitID)
		if err != nil {
			return err
		}
		view = &LinkView{ExpiresAt: link.ExpiresAt, FirstName: r.FirstName(), Help: helpOf(where.Property)}
		for _, l := range locks {
			view.Locks = append(view.Locks, l.Name)
		}
		return nil
	})
	return view, err
}

// RevealLink returns the backup code for every lock of the resident's unit,
// audits the reveal and emails the account that it happened.
func (s *Service) RevealLink(ctx context.Context, token string, v Visit) (*Reveal, error) {
	var out *Reveal
	err := s.withLink(ctx, token, v, "link.revealed", func(tx sparekey.Tx, link *sparekey.BackupLink, r *sparekey.Resident) error {
		now := s.now()
		codes, err := s.codesFor(ctx, tx, link, r, now)
		if err != nil {
			return err
		}
		if link.RevealedAt == nil {
			link.RevealedAt = &now
		}
		link.Reveals++
		if err := tx.UpdateBackupLink(ctx, link); err != nil {
			return err
		}
		where, err := locale.PlaceOf(ctx, tx, r.UnitID)
		if err != nil {
			return err
		}
		// Tell the account whenever a code was shown, for the first few
		// reveals of a link: enough to notice a stranger, not a flood.
		if r.Email != "" && link.Reveals <= maxRevealNotices && anyReady(codes) {
			subject, text, err := revealEmail(link.Language, where, r, now)
			if err != nil {
				return err
			}
			if err := s.queue(ctx, tx, r, &sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email,
				Subject: subject, Body: text, Kind: "code_revealed"}); err != nil {
				return err
			}
		}
		out = &Reveal{ExpiresAt: link.ExpiresAt, Codes: codes, FirstName: r.FirstName(), Help: helpOf(where.Property)}
		return nil
	})
	if err == nil {
		s.cfg.Queued()
	}
	return out, err
}

// codesFor lists one code per lock of the unit, in lock order. A code the
// link carried that has since been used shows as used; a lock the link got
// no code for (empty pool at the time) gets one now if the pool has one.
func (s *Service) codesFor(ctx context.Context, tx sparekey.Tx, link *sparekey.BackupLink, r *sparekey.Resident, now time.Time) ([]BackupCode, error) {
	locks, err := tx.LocksByUnit(ctx, r.UnitID)
	if err != nil {
		return nil, err
	}
	linked, err := tx.BackupLinkSlots(ctx, link.ID)
	if err != nil {
		return nil, err
	}
	byLock := map[int64]*sparekey.Slot{}
	for _, sl := range linked {
		byLock[sl.LockID] = sl
	}
	var codes []BackupCode
	for _, l := range locks {
		sl := byLock[l.ID]
		if sl == nil {
			if sl, err = s.cfg.Issuer.IssueBackupCode(ctx, tx, r, l); err != nil {
				return nil, err
			} else if sl != nil {
				if err := tx.AddBackupLinkSlot(ctx, link.ID, sl.ID); err != nil {
					return nil, err
				}
			}
		}
		c := BackupCode{Lock: l.Device, Name: l.Name, Status: CodeUnavailable}
		switch {
		case sl == nil:
		case sl.HeldBy(r.ID, now) && sl.Usable():
			c.Code, c.Status = sl.Code, CodeReady
		case sl.HeldBy(r.ID, now):
			c.Code, c.Status = sl.Code, CodeProgramming
		default:
			c.Status = CodeUsed
		}
		codes = append(codes, c)
	}
	return codes, nil
}

// withLink finds the live link for token and runs fn in one transaction,
// auditing the access as action. Unknown tokens are link_not_found, expired
// or replaced links link_expired; both are audited too.
func (s *Service) withLink(ctx context.Context, token string, v Visit, action string, fn func(sparekey.Tx, *sparekey.BackupLink, *sparekey.Resident) error) error {
	hash := s.cfg.Keys.Hash(sparekey.HashLinkToken, token)
	var outcome error
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		now := s.now() // inside the transaction: a wait for the writer must not stretch a link's life
		audit := &sparekey.AuditEvent{At: now, Actor: "anonymous", Action: action, IP: v.IP, UserAgent: sparekey.Clip(v.UserAgent, 256, "")}
		link, err := tx.BackupLinkByTokenHash(ctx, hash)
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND || err == nil && !secret.Equal(link.TokenHash, hash) {
			audit.Action, audit.Subject = "link.unknown", "link:unknown"
			outcome = sparekey.Errorf(sparekey.ELINKNOTFOUND, "This link is not valid. Ask for a new backup code.")
			return tx.RecordAudit(ctx, audit)
		} else if err != nil {
			return err
		}
		audit.Subject = fmt.Sprintf("link:%d", link.ID)
		audit.Detail = map[string]string{"resident": fmt.Sprint(link.ResidentID)}
		if !link.Live(now) {
			audit.Action = "link.expired"
			outcome = sparekey.Errorf(sparekey.ELINKEXPIRED, "This link has expired. Backup code links last 30 minutes; ask for a new one.")
			if link.RevokedAt != nil && now.Before(link.ExpiresAt) {
				outcome = sparekey.Errorf(sparekey.ELINKEXPIRED, "A newer link was sent: use the most recent message. Each new request replaces the links before it.")
			}
			return tx.RecordAudit(ctx, audit)
		}
		r, err := tx.Resident(ctx, link.ResidentID)
		if err != nil {
			return err
		}
		if !r.Active() {
			audit.Action = "link.expired"
			outcome = sparekey.Errorf(sparekey.ELINKEXPIRED, "This link has expired. Ask for a new backup code.")
			return tx.RecordAudit(ctx, audit)
		}
		audit.Actor = fmt.Sprintf("resident:%d", r.ID)
		if err := fn(tx, link, r); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, audit)
	})
	if err != nil {
		return err
	}
	return outcome
}

// LinkHolder returns the resident a live link was sent to, for what the
// link lets them do besides revealing codes: the wizard that knows their
// door, Notify maintenance. The look is audited as link.used.
func (s *Service) LinkHolder(ctx context.Context, token string, v Visit) (int64, error) {
	var id int64
	err := s.withLink(ctx, token, v, "link.used", func(tx sparekey.Tx, link *sparekey.BackupLink, r *sparekey.Resident) error {
		id = r.ID
		return nil
	})
	return id, err
}
