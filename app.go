package sparekey

import "time"

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

// ResidentSession is a signed-in resident's session in the app. Only a
// keyed hash of its token is stored.
type ResidentSession struct {
	ID         int64
	TokenHash  string
	ResidentID int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Hash purposes of the resident app's secrets.
const (
	HashSignInHandle  = "sign-in-handle"
	HashSignInToken   = "sign-in-token"
	HashSignInCode    = "sign-in-code"
	HashResidentToken = "resident-session"
)
