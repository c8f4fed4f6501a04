// Package staff holds the accounts of the property's team (managers and
// maintenance): argon2id passwords, sign-in with a brake on guessing, and
// sessions whose tokens are stored only as keyed hashes.
package staff

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"sparekey"
	"sparekey/secret"
)

// Config configures a Service.
type Config struct {
	Store  sparekey.Store
	Keys   sparekey.Keyring
	Clock  sparekey.Clock
	Logger *slog.Logger
	// SessionTTL is how long a session lasts after sign-in. Default 12h.
	SessionTTL time.Duration
	// MaxFailedLogins wrong passwords in a row lock an account for
	// LockoutFor. Defaults 10 and 15m.
	MaxFailedLogins int
	LockoutFor      time.Duration
}

// Service signs staff in and out and keeps their accounts.
type Service struct {
	cfg   Config
	log   *slog.Logger
	dummy string // a hash checked for unknown emails, so they take as long
}

// New returns a Service with defaults filled in.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxFailedLogins == 0 {
		cfg.MaxFailedLogins = 10
	}
	if cfg.LockoutFor == 0 {
		cfg.LockoutFor = 15 * time.Minute
	}
	dummy, _ := HashPassword("no account has this password")
	return &Service{cfg: cfg, log: cfg.Logger, dummy: dummy}
}

// maxPasswordBytes is the longest password sign-in reads.
const maxPasswordBytes = 1024

// HashSession is the Keyring purpose of session tokens' hashes.
const HashSession = "staff-session"

// NewAccount is an account to create.
type NewAccount struct {
	Email      string
	Name       string
	Role       sparekey.StaffRole
	Password   string
	Properties []string // property names; empty: every property there is
}

// Check reports what is wrong with the account's email and role, before
// anyone is asked for a password; Add checks everything.
func (a NewAccount) Check() error {
	_, err := a.email()
	if err == nil && a.Role != sparekey.RoleManager && a.Role != sparekey.RoleMaintenance {
		err = sparekey.Errorf(sparekey.EINVALID, "The role must be manager or maintenance, not %q.", a.Role)
	}
	return err
}

// email is the account's email, normalized.
func (a NewAccount) email() (string, error) {
	email := strings.ToLower(strings.TrimSpace(a.Email))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return "", sparekey.Errorf(sparekey.EINVALID, "%q is not an email address.", a.Email)
	}
	return email, nil
}

// Add creates an account and returns it.
func (s *Service) Add(ctx context.Context, a NewAccount) (*sparekey.Staff, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	email, _ := a.email()
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = email
	}
	if len([]rune(a.Password)) < MinPasswordLength {
		return nil, sparekey.Errorf(sparekey.EINVALID, "The password must have at least %d characters.", MinPasswordLength)
	} else if len(a.Password) > maxPasswordBytes {
		return nil, sparekey.Errorf(sparekey.EINVALID, "The password must be at most %d bytes long.", maxPasswordBytes)
	}
	hash, err := HashPassword(a.Password)
	if err != nil {
		return nil, err
	}
	st := &sparekey.Staff{Email: email, Name: name, Role: a.Role, PasswordHash: hash, CreatedAt: s.cfg.Clock.Now()}
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		if st.Properties, err = propertiesOf(ctx, tx, a); err != nil {
			return err
		}
		if err := tx.CreateStaff(ctx, st); err != nil {
			if sparekey.ErrorCode(err) == sparekey.ECONFLICT {
				return sparekey.Errorf(sparekey.ECONFLICT, "There is already an account for %s.", email)
			}
			return err
		}
		return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: st.CreatedAt, Actor: "system", Action: "staff.created",
			Subject: fmt.Sprintf("staff:%d", st.ID), Detail: map[string]string{"role": string(st.Role)}})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// CheckNew says what would stop Add creating the account, but for the
// password: a bad email or role, an email that has an account, a property
// that does not exist. The command line checks before asking for the
// password.
func (s *Service) CheckNew(ctx context.Context, a NewAccount) error {
	if err := a.Check(); err != nil {
		return err
	}
	email, _ := a.email()
	return s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		if _, err := tx.StaffByEmail(ctx, email); err == nil {
			return sparekey.Errorf(sparekey.ECONFLICT, "There is already an account for %s.", email)
		} else if sparekey.ErrorCode(err) != sparekey.ENOTFOUND {
			return err
		}
		_, err := propertiesOf(ctx, tx, a)
		return err
	})
}

// propertiesOf resolves the account's properties by name: every property
// there is when it names none.
func propertiesOf(ctx context.Context, tx sparekey.Tx, a NewAccount) ([]int64, error) {
	props, err := tx.Properties(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if len(a.Properties) == 0 {
		if len(props) == 0 {
			return nil, sparekey.Errorf(sparekey.EINVALID, "There is no property yet: import a roster or start the demo first.")
		}
		for _, p := range props {
			ids = append(ids, p.ID)
		}
		return ids, nil
	}
	byName := map[string]int64{}
	for _, p := range props {
		byName[p.Name] = p.ID
	}
	for _, n := range a.Properties {
		id, ok := byName[strings.TrimSpace(n)]
		if !ok {
			return nil, sparekey.Errorf(sparekey.EINVALID, "There is no property named %q.", n)
		}
		if !slices.Contains(ids, id) { // named twice is once
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Visit is who signs in from where, for the audit trail.
type Visit struct {
	IP, UserAgent string
}

// errSignIn is the one answer to a wrong email or password: it does not say
// which was wrong.
var errSignIn = sparekey.Errorf(sparekey.EUNAUTHORIZED, "That email and password do not match an account. After ten wrong tries, sign-in pauses for 15 minutes.")

// SignIn checks an email and password and starts a session. It returns the
// session's token (for the cookie) and the account.
func (s *Service) SignIn(ctx context.Context, email, password string, v Visit) (string, *sparekey.Staff, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(v.UserAgent) > 256 {
		v.UserAgent = v.UserAgent[:256]
	}
	if len(email) > 254 || len(password) > maxPasswordBytes {
		return "", nil, errSignIn
	}
	var st *sparekey.Staff
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		st, err = tx.StaffByEmail(ctx, email)
		return err
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		CheckPassword(s.dummy, password) // as long as a real check
		s.audit(ctx, "anonymous", "staff.sign_in_failed", "staff:unknown", v, nil)
		return "", nil, errSignIn
	} else if err != nil {
		return "", nil, err
	}
	now := s.cfg.Clock.Now()
	if st.LockedUntil != nil && now.Before(*st.LockedUntil) {
		CheckPassword(s.dummy, password)
		s.audit(ctx, "anonymous", "staff.sign_in_refused", fmt.Sprintf("staff:%d", st.ID), v, nil)
		return "", nil, lockedError()
	}
	ok, err := CheckPassword(st.PasswordHash, password)
	if err != nil {
		return "", nil, fmt.Errorf("check password of staff %d: %w", st.ID, err)
	}
	var token string
	var lockedUntil *time.Time
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		st, err = tx.Staff(ctx, st.ID)
		if err != nil {
			return err
		}
		// Guesses sent at once all pass the check above before any is
		// counted: look again with the account's row held, so that none
		// is counted, or lets in, once the account is locked.
		if st.LockedUntil != nil && now.Before(*st.LockedUntil) {
			lockedUntil = st.LockedUntil
			return s.record(ctx, tx, "anonymous", "staff.sign_in_refused", fmt.Sprintf("staff:%d", st.ID), v, nil)
		}
		if !ok {
			st.FailedLogins++
			if st.FailedLogins >= s.cfg.MaxFailedLogins {
				until := now.Add(s.cfg.LockoutFor)
				st.LockedUntil, st.FailedLogins = &until, 0
				s.log.Warn("staff account locked after repeated wrong passwords", "staff", st.ID)
			}
			if err := tx.UpdateStaff(ctx, st); err != nil {
				return err
			}
			return s.record(ctx, tx, "anonymous", "staff.sign_in_failed", fmt.Sprintf("staff:%d", st.ID), v, nil)
		}
		st.FailedLogins, st.LockedUntil = 0, nil
		if err := tx.UpdateStaff(ctx, st); err != nil {
			return err
		}
		token = secret.NewToken()
		sess := &sparekey.StaffSession{TokenHash: s.cfg.Keys.Hash(HashSession, token), StaffID: st.ID,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), IP: v.IP, UserAgent: v.UserAgent}
		if err := tx.CreateStaffSession(ctx, sess); err != nil {
			return err
		}
		// Now and then, sweep sessions that ran out.
		if err := tx.DeleteStaffSessions(ctx, 0, now); err != nil {
			return err
		}
		return s.record(ctx, tx, fmt.Sprintf("staff:%d", st.ID), "staff.signed_in", fmt.Sprintf("staff:%d", st.ID), v, nil)
	})
	if err != nil {
		return "", nil, err
	}
	if lockedUntil != nil {
		return "", nil, lockedError()
	}
	if !ok {
		return "", nil, errSignIn
	}
	return token, st, nil
}

// lockedError is the answer while an account is locked, right password or
// not: the same as a wrong password's, so that locking an account (anyone
// can, with ten wrong tries) does not tell whether the account exists.
// The message says sign-in pauses after many tries, for everyone.
func lockedError() error { return errSignIn }

// Session returns the account of a live session token.
func (s *Service) Session(ctx context.Context, token string) (*sparekey.Staff, error) {
	missing := sparekey.Errorf(sparekey.EUNAUTHORIZED, "Sign in to continue.")
	if token == "" || len(token) > 100 {
		return nil, missing
	}
	var st *sparekey.Staff
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		sess, err := tx.StaffSessionByTokenHash(ctx, s.cfg.Keys.Hash(HashSession, token))
		if err != nil {
			return err
		}
		if !s.cfg.Clock.Now().Before(sess.ExpiresAt) {
			return missing
		}
		st, err = tx.Staff(ctx, sess.StaffID)
		return err
	})
	if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
		return nil, missing
	}
	return st, err
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string, v Visit) error {
	return s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		sess, err := tx.StaffSessionByTokenHash(ctx, s.cfg.Keys.Hash(HashSession, token))
		if sparekey.ErrorCode(err) == sparekey.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if err := tx.DeleteStaffSession(ctx, sess.ID); err != nil {
			return err
		}
		who := fmt.Sprintf("staff:%d", sess.StaffID)
		return s.record(ctx, tx, who, "staff.signed_out", who, v, nil)
	})
}

// List returns the accounts working for a property (0: all).
func (s *Service) List(ctx context.Context, propertyID int64) ([]*sparekey.Staff, error) {
	var out []*sparekey.Staff
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		out, err = tx.StaffList(ctx, propertyID)
		return err
	})
	return out, err
}

func (s *Service) audit(ctx context.Context, actor, action, subject string, v Visit, detail map[string]string) {
	err := s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		return s.record(ctx, tx, actor, action, subject, v, detail)
	})
	if err != nil {
		s.log.Error("audit", "action", action, "err", err)
	}
}

func (s *Service) record(ctx context.Context, tx sparekey.Tx, actor, action, subject string, v Visit, detail map[string]string) error {
	if len(v.UserAgent) > 256 {
		v.UserAgent = v.UserAgent[:256]
	}
	return tx.RecordAudit(ctx, &sparekey.AuditEvent{At: s.cfg.Clock.Now(), Actor: actor, Action: action,
		Subject: subject, IP: v.IP, UserAgent: v.UserAgent, Detail: detail})
}
