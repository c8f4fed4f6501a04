// Package lockout is the locked-out resident's flow: Get Code requests, the
// background job that answers them with a backup link by SMS and email, and
// the link that reveals the backup codes.
package lockout

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"sparekey"
	"sparekey/contact"
	"sparekey/locale"
	"sparekey/loop"
)

// CodeIssuer gives a resident a backup code on a lock, inside the caller's
// transaction, or nil when the lock has none to give. access.Codes
// implements it.
type CodeIssuer interface {
	IssueBackupCode(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, lock *sparekey.Lock) (*sparekey.Slot, error)
}

// Config configures a Service.
type Config struct {
	Store  sparekey.Store
	Keys   sparekey.Keyring
	Clock  sparekey.Clock
	Issuer CodeIssuer
	Logger *slog.Logger
	// Queued is called after messages were queued, to wake the outbox.
	Queued func()
	// Answered is told each answered request's outcome and how long after
	// the request it came (for metrics). Optional.
	Answered func(outcome string, waited time.Duration)

	// BaseURL is the public URL links are built from, e.g.
	// https://sparekey.example.com. Never taken from a request.
	BaseURL string
	// DefaultRegion parses phone numbers typed without a country code. Default "US".
	DefaultRegion string
	// SMSRegions are the regions Sparekey texts. Default: DefaultRegion only.
	SMSRegions []string

	// IPLimit is the number of Get Code requests a minute from one IP; 0
	// turns the limit off.
	IPLimit int
	// AccountLimit is the number of links an account gets an hour. Default 3.
	AccountLimit int
	// PhoneDailyLimit is the number of SMS one phone number gets a day. Default 5.
	PhoneDailyLimit int
	// SMSHourlyBudget is the number of SMS sent an hour in all; past it, only
	// email goes and an alert is logged. Default 100.
	SMSHourlyBudget int

	// PollInterval is how often the job worker looks for requests, ±50%
	// at random. Default 1s.
	PollInterval time.Duration
	// Lease is how long a worker holds a request before another may take it
	// over. Default 1m.
	Lease time.Duration
}

// Service runs the lockout flow.
type Service struct {
	cfg Config
	log *slog.Logger

	loop  *loop.Loop
	sweep *loop.Loop
}

// New returns a Service with defaults filled in.
func New(cfg Config) *Service {
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "US"
	}
	if len(cfg.SMSRegions) == 0 {
		cfg.SMSRegions = []string{cfg.DefaultRegion}
	}
	if cfg.AccountLimit == 0 {
		cfg.AccountLimit = 3
	}
	if cfg.PhoneDailyLimit == 0 {
		cfg.PhoneDailyLimit = 5
	}
	if cfg.SMSHourlyBudget == 0 {
		cfg.SMSHourlyBudget = 100
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Lease == 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Queued == nil {
		cfg.Queued = func() {}
	}
	if cfg.Answered == nil {
		cfg.Answered = func(string, time.Duration) {}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Service{cfg: cfg, log: cfg.Logger}
	// The job runs on a jittered tick, never woken by a request: when it
	// runs, and how long it holds the database, must not line up with any
	// one request (docs/security.md rule 2).
	s.loop = loop.New(cfg.PollInterval, func(ctx context.Context) (bool, error) {
		n, err := s.RunOnce(ctx)
		return n == requestBatch, err
	}, func(err error) { s.log.Error("backup request job failed", "err", err) }).WithJitter(0.5)
	s.sweep = loop.New(time.Hour, func(ctx context.Context) (bool, error) {
		return false, s.Sweep(ctx)
	}, func(err error) { s.log.Error("backup request sweep failed", "err", err) })
	return s
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now() }

// CodeRequest is one Get Code request as it arrived.
type CodeRequest struct {
	Contact   string // as typed
	IP        string
	UserAgent string
	Language  string // of the page or API call; the messages are written in it
}

// RequestCode validates and records a Get Code request. It does the same
// work for every well-formed contact, known or not: the lookup and the
// sending happen later in the background job, so neither the answer nor its
// timing tells whether an account exists. It fails only with
// invalid_contact or rate_limited.
func (s *Service) RequestCode(ctx context.Context, req CodeRequest) error {
	kind, normalized, err := contact.Parse(req.Contact, s.cfg.DefaultRegion)
	if err != nil {
		return err
	}
	now := s.now()
	r := &sparekey.BackupRequest{
		ContactHash: s.cfg.Keys.Hash(sparekey.HashContact, normalized),
		ContactKind: kind,
		IP:          req.IP,
		UserAgent:   sparekey.Clip(req.UserAgent, 256, ""),
		Outcome:     sparekey.OutcomePending,
		CreatedAt:   now,
		Language:    locale.Of(req.Language),
	}
	err = s.cfg.Store.Tx(ctx, func(tx sparekey.Tx) error {
		if s.cfg.IPLimit > 0 {
			// Two instances counting at once must not both let the last
			// one through.
			if err := tx.Serialize(ctx, "get-code-ip:"+req.IP); err != nil {
				return err
			}
			n, err := tx.CountBackupRequestsByIP(ctx, req.IP, now.Add(-time.Minute))
			if err != nil {
				return err
			}
			if n >= s.cfg.IPLimit {
				return sparekey.Errorf(sparekey.ERATELIMITED, "Too many requests from your network. Wait a minute and try again.")
			}
		}
		return tx.CreateBackupRequest(ctx, r)
	})
	if sparekey.ErrorCode(err) == sparekey.ERATELIMITED {
		s.log.Warn("get code request over the per-IP limit", "ip", req.IP)
	}
	return err
}
