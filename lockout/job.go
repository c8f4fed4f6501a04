package lockout

import (
	"context"
	"fmt"
	"time"

	"sparekey"
	"sparekey/contact"
	"sparekey/locale"
	"sparekey/loop"
	"sparekey/secret"
)

// maxRequestAttempts is how often a request is tried before it is given up
// as failed (a bug or a broken database, not a normal outcome).
const maxRequestAttempts = 10

// requestBatch is how many requests one pass claims at most.
const requestBatch = 20

// Start runs the background job that answers Get Code requests, and
// deletes old requests every hour, until ctx ends or Stop is called.
func (s *Service) Start(ctx context.Context) {
	s.loop.Start(ctx)
	s.sweep.Start(ctx)
}

// Stop ends the job worker and the sweep and waits for them.
func (s *Service) Stop() {
	s.loop.Stop()
	s.sweep.Stop()
}

// RequestKeep is how long an answered Get Code request is kept: long past
// its link's 30 minutes and the minute the per-IP limit counts, then
// deleted, as it holds the client's IP and the contact's hash. The audit
// trail keeps the request.
const RequestKeep = 24 * time.Hour

// sweepBatch is how many requests one sweep transaction deletes at most,
// so that a day after a flood the sweep holds the writer only briefly at
// a time.
const sweepBatch = 1000

// Sweep deletes answered requests older than RequestKeep. Pending ones
// stay: the job answers them (as expired) first.
func (s *Service) Sweep(ctx context.Context) error {
	before := s.now().Add(-RequestKeep)
	for {
		var n int
		err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) (err error) {
			n, err = tx.DeleteBackupRequestsBefore(ctx, before, sweepBatch)
			return err
		})
		if err != nil || n < sweepBatch {
			return err
		}
	}
}

// Wake makes the job worker look for requests now.
func (s *Service) Wake() { s.loop.Wake() }

// RunOnce answers the pending requests it can claim and returns how many.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	return loop.Claimed[*sparekey.BackupRequest]{
		Store: s.cfg.Store,
		Claim: func(ctx context.Context, tx sparekey.Tx) ([]*sparekey.BackupRequest, error) {
			return tx.ClaimBackupRequests(ctx, s.now(), s.cfg.Lease, requestBatch)
		},
		Answer: func(ctx context.Context, r *sparekey.BackupRequest) (bool, error) {
			sent, err := s.answer(ctx, r)
			switch {
			case sparekey.ErrorCode(err) == sparekey.ECONFLICT:
				s.log.Info("backup request taken over by another worker; its answer is theirs", "request", r.ID)
			case err != nil:
				err = fmt.Errorf("answer backup request %d: %w", r.ID, err)
			case r.ProcessedAt != nil:
				s.cfg.Answered(r.Outcome, r.ProcessedAt.Sub(r.CreatedAt))
			}
			return sent, err
		},
		Lease: s.cfg.Lease, Clock: s.cfg.Clock, Queued: s.cfg.Queued,
	}.RunOnce(ctx)
}

// answer does everything a request leads to in one transaction: if the
// process dies half-way nothing is written, the lease runs out and another
// pass answers the request again. It reports whether messages were queued.
func (s *Service) answer(ctx context.Context, r *sparekey.BackupRequest) (bool, error) {
	queued := false
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		now := s.now()
		r.ProcessedAt = &now
		if r.Attempts > maxRequestAttempts {
			r.Outcome = sparekey.OutcomeFailed
			s.log.Error("backup request given up after repeated failures", "request", r.ID)
			return s.finish(ctx, tx, r, nil)
		}
		resident, err := tx.ResidentByContactHash(ctx, r.ContactKind, r.ContactHash)
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			r.Outcome = sparekey.OutcomeNoMatch
			return s.finish(ctx, tx, r, nil)
		} else if err != nil {
			return err
		}
		r.ResidentID = resident.ID
		// Counted, then inserted: instances take turns per account.
		if err := tx.Serialize(ctx, fmt.Sprintf("backup-links:%d", resident.ID)); err != nil {
			return err
		}
		n, err := tx.CountBackupLinksSince(ctx, resident.ID, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n >= s.cfg.AccountLimit {
			r.Outcome = sparekey.OutcomeThrottled
			s.log.Warn("backup link not sent: account over its hourly limit", "resident", resident.ID)
			return s.finish(ctx, tx, r, nil)
		}
		if !now.Before(r.CreatedAt.Add(sparekey.BackupLinkTTL)) {
			// Answered too late (the job was down): the link would be dead
			// on arrival. The resident will have asked again.
			r.Outcome = sparekey.OutcomeExpired
			s.log.Warn("backup request answered after its link would have expired; nothing sent", "request", r.ID)
			return s.finish(ctx, tx, r, resident)
		}
		token, err := s.createLink(ctx, tx, r, resident)
		if err != nil {
			return err
		}
		if err := s.queueLinkMessages(ctx, tx, resident, r.Language, token, r.CreatedAt.Add(sparekey.BackupLinkTTL)); err != nil {
			return err
		}
		r.Outcome = sparekey.OutcomeSent
		queued = true
		return s.finish(ctx, tx, r, resident)
	})
	return queued, err
}

func (s *Service) finish(ctx context.Context, tx sparekey.Tx, r *sparekey.BackupRequest, resident *sparekey.Resident) error {
	if err := tx.UpdateBackupRequest(ctx, r); err != nil {
		return err
	}
	subject := "request:" + fmt.Sprint(r.ID)
	if resident != nil {
		subject = fmt.Sprintf("resident:%d", resident.ID)
	}
	return tx.RecordAudit(ctx, &sparekey.AuditEvent{
		At: r.CreatedAt, Actor: "anonymous", Action: "backup.requested", Subject: subject,
		IP: r.IP, UserAgent: r.UserAgent,
		Detail: map[string]string{"contact_hash": r.ContactHash[:16], "contact_kind": string(r.ContactKind), "outcome": r.Outcome},
	})
}

// createLink ends the resident's live links, makes a new one that expires
// 30 minutes after the request, and attaches a backup code per lock.
func (s *Service) createLink(ctx context.Context, tx sparekey.Tx, r *sparekey.BackupRequest, resident *sparekey.Resident) (string, error) {
	now := s.now()
	if err := tx.RevokeBackupLinks(ctx, resident.ID, now); err != nil {
		return "", err
	}
	token := secret.NewToken()
	link := &sparekey.BackupLink{
		TokenHash:  s.cfg.Keys.Hash(sparekey.HashLinkToken, token),
		ResidentID: resident.ID,
		RequestID:  r.ID,
		CreatedAt:  now,
		ExpiresAt:  r.CreatedAt.Add(sparekey.BackupLinkTTL),
		Language:   r.Language,
	}
	if err := tx.CreateBackupLink(ctx, link); err != nil {
		return "", err
	}
	locks, err := tx.LocksByUnit(ctx, resident.UnitID)
	if err != nil {
		return "", err
	}
	for _, lock := range locks {
		sl, err := s.cfg.Issuer.IssueBackupCode(ctx, tx, resident, lock)
		if err != nil {
			return "", err
		}
		if sl != nil {
			if err := tx.AddBackupLinkSlot(ctx, link.ID, sl.ID); err != nil {
				return "", err
			}
		}
	}
	return token, nil
}

// queueLinkMessages queues the email (always) and the SMS (when the phone
// may be texted and the limits allow) to the contacts on the account, never
// to what was typed. Neither is sent once the link expires.
func (s *Service) queueLinkMessages(ctx context.Context, tx sparekey.Tx, resident *sparekey.Resident, lang, token string, expires time.Time) error {
	now := s.now()
	link := s.cfg.BaseURL + "/b/" + token
	where, err := locale.PlaceOf(ctx, tx, resident.UnitID)
	if err != nil {
		return err
	}
	if resident.Email != "" {
		subject, text, html, err := linkEmail(lang, where, resident, link, s.cfg.BaseURL+"/support/locked-out", expires)
		if err != nil {
			return err
		}
		if err := s.queue(ctx, tx, resident, &sparekey.Message{Channel: sparekey.ChannelEmail, To: resident.Email,
			Subject: subject, Body: text, HTML: html, Kind: "backup_link", ValidUntil: expires}); err != nil {
			return err
		}
	}
	if resident.Phone == "" {
		return nil
	}
	if !contact.SMSAllowed(resident.Phone, s.cfg.SMSRegions) {
		s.log.Warn("backup link SMS skipped: number not allowed (premium rate or region)", "resident", resident.ID)
		return nil
	}
	// The per-phone and global budgets are counted, then spent: instances
	// take turns. Taken after the account's key, always in this order.
	if err := tx.Serialize(ctx, "sms-budget"); err != nil {
		return err
	}
	n, err := tx.CountMessagesSince(ctx, sparekey.ChannelSMS, resident.Phone, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if n >= s.cfg.PhoneDailyLimit {
		s.log.Warn("backup link SMS skipped: phone over its daily limit", "resident", resident.ID)
		return nil
	}
	total, err := tx.CountMessagesSince(ctx, sparekey.ChannelSMS, "", now.Add(-time.Hour))
	if err != nil {
		return err
	}
	if total >= s.cfg.SMSHourlyBudget {
		s.log.Error("ALERT: hourly SMS budget exhausted; sending email only (possible SMS pumping)", "budget", s.cfg.SMSHourlyBudget)
		return nil
	}
	sms, err := linkSMS(lang, where, link)
	if err != nil {
		return err
	}
	return s.queue(ctx, tx, resident, &sparekey.Message{Channel: sparekey.ChannelSMS, To: resident.Phone,
		Body: sms, Kind: "backup_link", ValidUntil: expires})
}

func (s *Service) queue(ctx context.Context, tx sparekey.Tx, resident *sparekey.Resident, m *sparekey.Message) error {
	return sparekey.QueueMessage(ctx, tx, s.now(), fmt.Sprintf("resident:%d", resident.ID), m)
}
