// Package resident is what a resident's own pages (/app) stand on:
// sign-in without passwords (a one-time code and link sent to the
// account's phone and email), sessions, what a resident's home shows
// (their doors' live state, banners, their access code and its use),
// remote lock and unlock of their own doors, and the situation the lockout
// wizard adapts to.
package resident

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"sparekey"
	"sparekey/contact"
	"sparekey/locale"
	"sparekey/loop"
	"sparekey/secret"
)

// Operator locks and unlocks doors; access.Doors implements it.
type Operator interface {
	Operate(ctx context.Context, device string, unlock bool, actor string) error
}

// Config configures a Service.
type Config struct {
	Store  sparekey.Store
	Keys   sparekey.Keyring
	Clock  sparekey.Clock
	Logger *slog.Logger
	Doors  Operator
	// BaseURL is the public URL sign-in links are built from.
	BaseURL string
	// DefaultRegion reads phone numbers typed without a country code.
	// Default US.
	DefaultRegion string
	// Queued is called after messages were queued (to wake the outbox).
	Queued func()
	// SessionTTL is how long a resident stays signed in. Default 30 days.
	SessionTTL time.Duration
	// SignInLimit is how many sign-in messages one account gets an hour;
	// more requests are answered alike and send nothing. Default 5.
	SignInLimit int
	// PollInterval is how often the job looks for sign-in requests to
	// answer, ±50% (never woken by a request, as Get Code's). Default 1s.
	PollInterval time.Duration
	// Lease is how long a worker holds a request before another may take
	// it over. Default 1 minute.
	Lease time.Duration
}

// Service signs residents in and answers for their pages.
type Service struct {
	cfg   Config
	log   *slog.Logger
	sweep *loop.Loop
	job   *loop.Loop
}

// New returns a Service with defaults filled in.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "US"
	}
	if cfg.Queued == nil {
		cfg.Queued = func() {}
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.SignInLimit == 0 {
		cfg.SignInLimit = 5
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Lease == 0 {
		cfg.Lease = time.Minute
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.sweep = loop.New(time.Hour, func(ctx context.Context) (bool, error) {
		return false, s.Sweep(ctx)
	}, func(err error) { s.log.Error("resident sweep", "err", err) })
	s.job = loop.New(cfg.PollInterval, func(ctx context.Context) (bool, error) {
		n, err := s.RunOnce(ctx)
		return n == signInBatch, err
	}, func(err error) { s.log.Error("sign-in job failed", "err", err) }).WithJitter(0.5)
	return s
}

// Start runs the sign-in job, and deletes old sign-in attempts and expired
// sessions every hour (each sign-in request and sign-in does too), until
// ctx ends or Stop.
func (s *Service) Start(ctx context.Context) {
	s.job.Start(ctx)
	s.sweep.Start(ctx)
}

// Stop stops the job and the sweep and waits for passes under way.
func (s *Service) Stop() {
	s.job.Stop()
	s.sweep.Stop()
}

// Sweep deletes sign-in attempts older than SignInKeep (they hold the
// client's IP) and sessions that have expired.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	return s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		if err := tx.DeleteSignInsBefore(ctx, now.Add(-SignInKeep)); err != nil {
			return err
		}
		return tx.DeleteResidentSessions(ctx, 0, 0, now)
	})
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now() }

// Visit is who asks from where, for the audit trail.
type Visit struct {
	IP, UserAgent string
	Language      string // the page's; the messages the visit causes are written in it
}

// MaxCodeTries is how many codes may be typed for one sign-in.
const MaxCodeTries = 5

// SignInKeep is how long a sign-in attempt is kept: long past its use
// (SignInTTL) and the hour the per-account limit counts, then deleted at
// the next request, as it holds the client's IP. The audit trail keeps
// the request.
const SignInKeep = 24 * time.Hour

// RequestSignIn starts a sign-in for what the resident typed (an email or
// a phone number). If it is an account's, a code and a link go to the
// phone and the email on that account. The answer is the same either way:
// a handle that the browser keeps (a cookie) to type the code against.
// Like Get Code, the request only validates and records: the lookup and
// the sending happen in the background job (RunOnce), so neither the
// answer nor its timing tells whether an account exists.
func (s *Service) RequestSignIn(ctx context.Context, typed string, v Visit) (handle string, err error) {
	kind, normalized, err := contact.Parse(typed, s.cfg.DefaultRegion)
	if err != nil {
		return "", err
	}
	now := s.now()
	handle, token, code := secret.NewToken(), secret.NewToken(), newCode()
	in := &sparekey.SignIn{
		HandleHash:  s.cfg.Keys.Hash(sparekey.HashSignInHandle, handle),
		TokenHash:   s.cfg.Keys.Hash(sparekey.HashSignInToken, token),
		IP:          v.IP,
		UserAgent:   sparekey.Clip(v.UserAgent, 256, ""),
		CreatedAt:   now,
		ExpiresAt:   now.Add(sparekey.SignInTTL),
		ContactKind: kind,
		ContactHash: s.cfg.Keys.Hash(sparekey.HashContact, normalized),
		Secret:      token + " " + code,
		Language:    locale.Of(v.Language),
		Outcome:     sparekey.OutcomePending,
	}
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		if err := tx.CreateSignIn(ctx, in); err != nil {
			return err
		}
		return tx.DeleteSignInsBefore(ctx, now.Add(-SignInKeep)) // sweep the old
	})
	if err != nil {
		return "", err
	}
	return handle, nil
}

// signInBatch is how many sign-in requests one pass of the job takes.
const signInBatch = 50

// RunOnce answers the sign-in requests it can claim and returns how many.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	return loop.Claimed[*sparekey.SignIn]{
		Store: s.cfg.Store,
		Claim: func(ctx context.Context, tx sparekey.Tx) ([]*sparekey.SignIn, error) {
			return tx.ClaimSignIns(ctx, s.now(), s.cfg.Lease, signInBatch)
		},
		Answer: func(ctx context.Context, in *sparekey.SignIn) (bool, error) {
			sent, err := s.answer(ctx, in)
			if err != nil { // an ECONFLICT stays one: errors.As finds it
				err = fmt.Errorf("answer sign-in %d: %w", in.ID, err)
			}
			return sent, err
		},
		Lease: s.cfg.Lease, Clock: s.cfg.Clock, Queued: s.cfg.Queued,
	}.RunOnce(ctx)
}

// answer looks the typed contact up and, for an account under its hourly
// limit, sends the code and the link, in one transaction under the claim's
// lease. It reports whether messages were queued.
func (s *Service) answer(ctx context.Context, claimed *sparekey.SignIn) (bool, error) {
	queued := false
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		// Read again under the row's lock: codes typed meanwhile counted.
		in, err := tx.SignInByHandleHash(ctx, claimed.HandleHash)
		if err != nil {
			return err
		}
		if in.Outcome != sparekey.OutcomePending || in.ClaimedUntil == nil || !in.ClaimedUntil.Equal(*claimed.ClaimedUntil) {
			return sparekey.Errorf(sparekey.ECONFLICT, "sign-in %d was taken over by another worker", in.ID)
		}
		now := s.now()
		token, code, _ := strings.Cut(in.Secret, " ")
		in.Secret = "" // sent or not, never again
		audit := &sparekey.AuditEvent{At: in.CreatedAt, Actor: "anonymous", Action: "resident.sign_in_requested", Subject: "resident:unknown",
			IP: in.IP, UserAgent: in.UserAgent, Detail: map[string]string{"kind": string(in.ContactKind), "outcome": sparekey.OutcomeNoMatch}}
		in.Outcome = sparekey.OutcomeNoMatch
		r, err := tx.ResidentByContactHash(ctx, in.ContactKind, in.ContactHash)
		switch {
		case sparekey.ErrorCode(err) == sparekey.ENOTFOUND:
		case err != nil:
			return err
		default:
			audit.Subject = fmt.Sprintf("resident:%d", r.ID)
			// Answers at once for one account take turns, so they
			// cannot all count below the limit and all send.
			if err := tx.Serialize(ctx, fmt.Sprintf("sign-ins:%d", r.ID)); err != nil {
				return err
			}
			n, err := tx.CountSignInsSince(ctx, r.ID, now.Add(-time.Hour))
			if err != nil {
				return err
			}
			// Bound to the handle, and worth nothing without ResidentID,
			// which only a sent code gets.
			in.CodeHash = s.codeHash(in, code)
			switch {
			case n >= s.cfg.SignInLimit:
				in.Outcome = sparekey.OutcomeThrottled
			case !now.Before(in.ExpiresAt):
				in.Outcome = sparekey.OutcomeExpired // answered too late: the job was down
			default:
				in.Outcome, in.ResidentID = sparekey.OutcomeSent, r.ID
				if err := s.sendSignIn(ctx, tx, r, token, code, in.Language, in.ExpiresAt); err != nil {
					return err
				}
				queued = true
			}
		}
		audit.Detail["outcome"] = in.Outcome
		in.ClaimedUntil = claimed.ClaimedUntil // the fence: only under our lease
		if err := tx.UpdateSignIn(ctx, in); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, audit)
	})
	return queued && err == nil, err
}

// codeHash binds a code to its sign-in, so a code is worth nothing for
// any other attempt.
func (s *Service) codeHash(in *sparekey.SignIn, code string) string {
	return s.cfg.Keys.Hash(sparekey.HashSignInCode, in.HandleHash+":"+code)
}

// sendSignIn queues the code and the link to the account's own phone and
// email, never to what was typed; neither is sent once the code expires.
func (s *Service) sendSignIn(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, token, code, lang string, expires time.Time) error {
	data := map[string]any{"Name": r.FirstName(), "Code": code, "Link": s.cfg.BaseURL + "/app/sign-in/link/" + token,
		"Minutes": int(sparekey.SignInTTL / time.Minute)}
	sms, err := locale.Message(lang, "sign_in.sms", data)
	if err != nil {
		return err
	}
	subject, body, err := locale.Email(lang, "sign_in", data)
	if err != nil {
		return err
	}
	if r.Phone != "" {
		if err := s.queue(ctx, tx, r, &sparekey.Message{Channel: sparekey.ChannelSMS, To: r.Phone, Body: sms, Kind: "sign_in",
			ValidUntil: expires}); err != nil {
			return err
		}
	}
	if r.Email != "" {
		if err := s.queue(ctx, tx, r, &sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email,
			Subject: subject, Body: body, Kind: "sign_in", ValidUntil: expires}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) queue(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, m *sparekey.Message) error {
	return sparekey.QueueMessage(ctx, tx, s.now(), fmt.Sprintf("resident:%d", r.ID), m)
}

var (
	errWrongCode = sparekey.Errorf(sparekey.EINVALID, "That code is not right. Check the latest text or email and try again.")
	errSignInOld = sparekey.Errorf(sparekey.ELINKEXPIRED, "This sign-in has expired or was already used. Ask for a new code.")
)

// SignInWithCode checks a typed code against the sign-in of handle and,
// if it is right, starts a session and returns its token.
func (s *Service) SignInWithCode(ctx context.Context, handle, code string, v Visit) (string, error) {
	code = strings.Join(strings.Fields(code), "")
	return s.signIn(ctx, v, func(tx sparekey.Tx) (*sparekey.SignIn, error) {
		return tx.SignInByHandleHash(ctx, s.cfg.Keys.Hash(sparekey.HashSignInHandle, handle))
	}, func(in *sparekey.SignIn) bool {
		in.Attempts++
		return in.ResidentID != 0 && len(code) == 6 && secret.Equal(in.CodeHash, s.codeHash(in, code))
	})
}

// SignInWithLink starts a session from the link in the sign-in message.
func (s *Service) SignInWithLink(ctx context.Context, token string, v Visit) (string, error) {
	return s.signIn(ctx, v, func(tx sparekey.Tx) (*sparekey.SignIn, error) {
		return tx.SignInByTokenHash(ctx, s.cfg.Keys.Hash(sparekey.HashSignInToken, token))
	}, func(in *sparekey.SignIn) bool { return in.ResidentID != 0 })
}

// CheckLink reports whether a sign-in link still works, without using it
// (the page before the button).
func (s *Service) CheckLink(ctx context.Context, token string) error {
	return s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		in, err := tx.SignInByTokenHash(ctx, s.cfg.Keys.Hash(sparekey.HashSignInToken, token))
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			return errSignInOld
		} else if err != nil {
			return err
		}
		if in.UsedAt != nil || !s.now().Before(in.ExpiresAt) || in.ResidentID == 0 {
			return errSignInOld
		}
		return nil
	})
}

func (s *Service) signIn(ctx context.Context, v Visit, find func(sparekey.Tx) (*sparekey.SignIn, error), ok func(*sparekey.SignIn) bool) (string, error) {
	var token string
	var outcome error
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		now := s.now()
		in, err := find(tx)
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			outcome = errSignInOld
			return nil
		} else if err != nil {
			return err
		}
		if in.UsedAt != nil || !now.Before(in.ExpiresAt) || in.Attempts >= MaxCodeTries {
			outcome = errSignInOld
			return nil
		}
		in.ClaimedUntil = nil // not the job's answer: no lease to hold
		if !ok(in) {
			outcome = errWrongCode
			if in.Attempts >= MaxCodeTries {
				outcome = sparekey.Errorf(sparekey.ERATELIMITED, "Too many wrong codes. Ask for a new one.")
			}
			return tx.UpdateSignIn(ctx, in) // the try counts, the rest rolls back
		}
		in.UsedAt = &now
		if err := tx.UpdateSignIn(ctx, in); err != nil {
			return err
		}
		r, err := tx.Resident(ctx, in.ResidentID)
		if err != nil {
			return err
		}
		if !r.Active() {
			outcome = errSignInOld
			return nil
		}
		token = secret.NewToken()
		sess := &sparekey.ResidentSession{TokenHash: s.cfg.Keys.Hash(sparekey.HashResidentToken, token), ResidentID: r.ID,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), IP: v.IP, UserAgent: sparekey.Clip(v.UserAgent, 256, "")}
		if err := tx.CreateResidentSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.DeleteResidentSessions(ctx, 0, 0, now); err != nil { // sweep the expired
			return err
		}
		who := fmt.Sprintf("resident:%d", r.ID)
		return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: now, Actor: who, Action: "resident.signed_in", Subject: who,
			IP: v.IP, UserAgent: sparekey.Clip(v.UserAgent, 256, "")})
	})
	if err != nil {
		return "", err
	}
	return token, outcome
}

// Session returns the active resident of a live session token.
func (s *Service) Session(ctx context.Context, token string) (*sparekey.Resident, error) {
	missing := sparekey.Errorf(sparekey.EUNAUTHORIZED, "Sign in to continue.")
	if token == "" || len(token) > 100 {
		return nil, missing
	}
	var r *sparekey.Resident
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		sess, err := tx.ResidentSessionByTokenHash(ctx, s.cfg.Keys.Hash(sparekey.HashResidentToken, token))
		if err != nil {
			return err
		}
		if !s.now().Before(sess.ExpiresAt) {
			return missing
		}
		if r, err = tx.Resident(ctx, sess.ResidentID); err != nil {
			return err
		}
		if !r.Active() {
			return missing
		}
		return nil
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil, missing
	}
	return r, err
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		sess, err := tx.ResidentSessionByTokenHash(ctx, s.cfg.Keys.Hash(sparekey.HashResidentToken, token))
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		who := fmt.Sprintf("resident:%d", sess.ResidentID)
		if err := tx.DeleteResidentSessions(ctx, sess.ID, 0, s.now()); err != nil {
			return err
		}
		return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: s.now(), Actor: who, Action: "resident.signed_out", Subject: who})
	})
}

// newCode is six random digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return fmt.Sprintf("%06d", n.Int64())
}
