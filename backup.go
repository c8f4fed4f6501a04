package sparekey

import (
	"context"
	"time"
)

// BackupState is the life cycle of a backup-pool code.
type BackupState string

const (
	BackupAvailable BackupState = "available" // in the pool, not given to anyone
	BackupIssued    BackupState = "issued"    // given to a resident through a link
	BackupUsed      BackupState = "used"      // used at the keypad; to be rotated
)

// BackupLinkTTL is how long a backup link lives after it was requested.
const BackupLinkTTL = 30 * time.Minute

// BackupCodeTTL is how long an issued backup code stays valid if unused.
const BackupCodeTTL = 24 * time.Hour

// ContactKind is what a resident typed into Get Code.
type ContactKind string

const (
	ContactEmail ContactKind = "email"
	ContactPhone ContactKind = "phone"
)

// Backup request outcomes, recorded by the background job (never shown to
// the requester, who always sees the same answer).
const (
	OutcomePending   = "pending"
	OutcomeSent      = "sent"
	OutcomeNoMatch   = "no_match"
	OutcomeThrottled = "throttled"
	OutcomeFailed    = "failed"  // given up after repeated errors; a bug, not a normal outcome
	OutcomeExpired   = "expired" // answered only after its link would have expired
)

// BackupRequest is one Get Code request. The contact is kept only as a
// keyed hash; the background job matches it against residents' hashes.
type BackupRequest struct {
	ID          int64
	ContactHash string
	ContactKind ContactKind
	IP          string
	UserAgent   string
	Outcome     string
	ResidentID  int64 // set by the job when the contact matched
	CreatedAt   time.Time
	ProcessedAt *time.Time
	Attempts    int
	// ClaimedUntil is the lease of the worker holding the request; an
	// update made under a lease that has since passed to another worker
	// is refused (ECONFLICT), so a request is answered once.
	ClaimedUntil *time.Time
	// Language is the one the resident asked in (a tag of the locale package);
	// the link's SMS and email are written in it.
	Language string
}

// BackupLink is a link sent to a resident that reveals their backup codes.
// Only the keyed hash of its token is stored.
type BackupLink struct {
	ID         int64
	TokenHash  string
	ResidentID int64
	RequestID  int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time // a newer request ended it
	RevealedAt *time.Time // first reveal
	Reveals    int
	Language   string // the request's: the account is told of reveals in it
}

// Live reports whether the link can still be used at now.
func (l *BackupLink) Live(now time.Time) bool {
	return l.RevokedAt == nil && now.Before(l.ExpiresAt)
}

// BackupStore keeps Get Code requests and the backup links that answer
// them.
type BackupStore interface {
	CreateBackupRequest(ctx context.Context, r *BackupRequest) error
	CountBackupRequestsByIP(ctx context.Context, ip string, since time.Time) (int, error)
	// ClaimBackupRequests leases up to limit pending requests until
	// now+lease so that only one worker processes each.
	ClaimBackupRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*BackupRequest, error)
	UpdateBackupRequest(ctx context.Context, r *BackupRequest) error
	// DeleteBackupRequestsBefore deletes up to limit answered requests
	// created before t (they hold the client's IP and the contact's hash)
	// and returns how many; pending ones stay for the job. Their links
	// stay too, without the request.
	DeleteBackupRequestsBefore(ctx context.Context, t time.Time, limit int) (int, error)

	CreateBackupLink(ctx context.Context, l *BackupLink) error
	BackupLinkByTokenHash(ctx context.Context, hash string) (*BackupLink, error)
	UpdateBackupLink(ctx context.Context, l *BackupLink) error
	// RevokeBackupLinks ends every live link of the resident.
	RevokeBackupLinks(ctx context.Context, residentID int64, now time.Time) error
	CountBackupLinksSince(ctx context.Context, residentID int64, since time.Time) (int, error)
	AddBackupLinkSlot(ctx context.Context, linkID, slotID int64) error
	BackupLinkSlots(ctx context.Context, linkID int64) ([]*Slot, error)
}
