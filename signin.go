package sparekey

import (
	"context"
	"time"
)

// SignIn is one resident sign-in attempt: a one-time code and a link sent
// to the account's phone and email. Handle identifies the attempt in the
// browser that asked (a cookie), so a typed code is checked against one
// attempt only; the link's token works from any browser. Only keyed hashes
// of the handle, token and code are stored. ResidentID is 0 when the typed
// contact matched nobody: the attempt is kept so the answer looks the same.
type SignIn struct {
	ID         int64
	ResidentID int64
	HandleHash string
	TokenHash  string
	CodeHash   string
	IP         string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	Attempts   int        // codes typed
	UsedAt     *time.Time // signed in with it; it works once

	// The request, until a background job answers it (as Get Code's is):
	// the typed contact's kind and keyed hash, the code and link token
	// to send (sealed at rest, emptied once answered), the language to
	// write in, the outcome (OutcomePending until answered) and the
	// answering worker's lease.
	UserAgent    string // for the audit line the answer writes
	ContactKind  ContactKind
	ContactHash  string
	Secret       string
	Language     string
	Outcome      string
	ClaimedUntil *time.Time
}

// SignInTTL is how long a sign-in code and link work.
const SignInTTL = 15 * time.Minute

// ResidentSession is a signed-in resident's session on their home pages
// (/app). Only a keyed hash of its token is stored.
type ResidentSession struct {
	ID         int64
	TokenHash  string
	ResidentID int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Hash purposes of resident sign-in's and sessions' secrets.
const (
	HashSignInHandle  = "sign-in-handle"
	HashSignInToken   = "sign-in-token"
	HashSignInCode    = "sign-in-code"
	HashResidentToken = "resident-session"
)

// SignInStore keeps resident sign-in attempts and resident sessions.
type SignInStore interface {
	CreateSignIn(ctx context.Context, s *SignIn) error
	SignInByHandleHash(ctx context.Context, hash string) (*SignIn, error)
	SignInByTokenHash(ctx context.Context, hash string) (*SignIn, error)
	UpdateSignIn(ctx context.Context, s *SignIn) error
	// ClaimSignIns leases up to limit unanswered sign-in requests until
	// now+lease, oldest first, skipping those another worker holds.
	ClaimSignIns(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*SignIn, error)
	// CountSignInsSince counts the resident's sign-in attempts created
	// after t.
	CountSignInsSince(ctx context.Context, residentID int64, since time.Time) (int, error)
	// DeleteSignInsBefore deletes the sign-in attempts created before t;
	// each holds the client's IP, and none is of use after a day.
	DeleteSignInsBefore(ctx context.Context, t time.Time) error
	CreateResidentSession(ctx context.Context, s *ResidentSession) error
	ResidentSessionByTokenHash(ctx context.Context, hash string) (*ResidentSession, error)
	// DeleteResidentSessions ends the session with id, or with id 0 every
	// session of the resident (residentID) or, with both 0, every session
	// that expired before now.
	DeleteResidentSessions(ctx context.Context, id, residentID int64, now time.Time) error
}
