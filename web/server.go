// Package web serves Sparekey over HTTP: the resident pages (HTML, working
// without JavaScript) and the JSON API. Every route is in routes.go.
package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/lockout"
	"sparekey/roster"
	"sparekey/staff"
	"sparekey/upkeep"
)

// Lockout is the locked-out resident's flow.
type Lockout interface {
	RequestCode(ctx context.Context, req lockout.CodeRequest) error
	ViewLink(ctx context.Context, token string, v lockout.Visit) (*lockout.LinkView, error)
	RevealLink(ctx context.Context, token string, v lockout.Visit) (*lockout.Reveal, error)
	Contacts(ctx context.Context) ([]lockout.Help, error)
	LinkHolder(ctx context.Context, token string, v lockout.Visit) (int64, error)
}

// Locks answers staff questions about locks and operates them.
type Locks interface {
	LockInfo(ctx context.Context, device string) (*access.LockInfo, error)
	Locks(ctx context.Context) ([]*access.LockInfo, error)
	LockEvents(ctx context.Context, device string, limit int) ([]*sparekey.LockEvent, error)
	Operate(ctx context.Context, device string, unlock bool, actor string) error
}

// Staff signs staff members in and out.
type Staff interface {
	SignIn(ctx context.Context, email, password string, v staff.Visit) (string, *sparekey.Staff, error)
	Session(ctx context.Context, token string) (*sparekey.Staff, error)
	SignOut(ctx context.Context, token string, v staff.Visit) error
	List(ctx context.Context, propertyID int64) ([]*sparekey.Staff, error)
	// Properties lists the properties with the given ids (nil: all).
	Properties(ctx context.Context, ids []int64) ([]*sparekey.Property, error)
}

// AuditLog reads the audit trail for the console.
type AuditLog interface {
	// Search searches the audit trail, keeping what concerns the allowed
	// properties.
	Search(ctx context.Context, f sparekey.AuditFilter, allowed func(int64) bool) ([]*sparekey.AuditEvent, error)
	// Names names the people among the events' actors and subjects.
	Names(ctx context.Context, events []*sparekey.AuditEvent) (map[string]string, error)
}

// Upkeep is jams and work orders.
type Upkeep interface {
	WorkOrders(ctx context.Context, f sparekey.WorkOrderFilter) ([]upkeep.Listed, error)
	WorkOrder(ctx context.Context, id int64, allowed func(int64) bool) (*upkeep.Detail, error)
	Open(ctx context.Context, r upkeep.StaffReport) (*sparekey.WorkOrder, bool, error)
	Update(ctx context.Context, id int64, c upkeep.Change) (*sparekey.WorkOrder, error)
	Report(ctx context.Context, r upkeep.ResidentReport) (*upkeep.Reported, error)
	DoorHistory(ctx context.Context, device string, allowed func(int64) bool) (*upkeep.History, error)
	JamCounts(ctx context.Context, lockIDs []int64) (map[int64]upkeep.JamCount, error)
	SetJamRule(ctx context.Context, propertyID int64, rule sparekey.JamRule, actor string) error
}

// Directory is who lives where, for the console and the move-out API.
type Directory interface {
	Units(ctx context.Context, propertyID int64) ([]roster.UnitListing, error)
	MoveIn(ctx context.Context, n roster.Newcomer, actor string) (*sparekey.Resident, error)
	Import(ctx context.Context, r io.Reader, allowed func(int64) bool, actor string, welcome bool) (int, error)
	MoveOut(ctx context.Context, residentID int64, allowed func(int64) bool, actor string) (*sparekey.Resident, int, error)
	MoveOutContact(ctx context.Context, kind sparekey.ContactKind, value string, allowed func(int64) bool, actor string) (*roster.Departure, error)
}

// Dev holds the demo-only tools behind /api/v1/dev and /dev. nil turns
// every dev route into a 404.
type Dev struct {
	Clock    *sparekey.OffsetClock
	Store    sparekey.Store
	Keypad   func(device, code string) (KeypadResult, error)
	SetState func(device string, jammed, online *bool, battery *int) error
	// Advanced is called after the clock moved: to keep the offset and
	// wake background work.
	Advanced func(ctx context.Context) error
}

// Config is everything the server needs.
type Config struct {
	Logger     *slog.Logger
	Clock      sparekey.Clock
	Lockout    Lockout
	Locks      Locks
	Dev        *Dev
	AdminToken string
	// Staff, Upkeep, Directory and Audit serve the staff console and the
	// work order API. Without Staff nobody can sign in to the console.
	Staff     Staff
	Upkeep    Upkeep
	Directory Directory
	Audit     AuditLog
	// Residents signs residents in and serves their pages under /app
	// (home, access, more); nil leaves those pages without anyone to
	// sign in.
	Residents Residents
	// Keys derives CSRF tokens from sessions.
	Keys sparekey.Keyring
	// Metrics serves GET /metrics (Prometheus), for the admin token's
	// holder; nil leaves the route out.
	Metrics http.Handler
	// ObserveRequest is told each request's method, route pattern, status
	// and duration (for metrics). Optional.
	ObserveRequest func(method, route string, status int, d time.Duration)
	// BaseURL is the public URL; its origin is trusted for form posts.
	BaseURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client. None by default: the header is ignored.
	TrustedProxies []netip.Prefix
	// LinkLimit is how many times a minute one client may open or reveal
	// backup links. Default 30.
	LinkLimit int
	// DefaultRegion is shown in hints about phone numbers.
	DefaultRegion string
}

// NewServer returns the whole HTTP handler.
func NewServer(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LinkLimit == 0 {
		cfg.LinkLimit = 30
	}
	mux := http.NewServeMux()
	addRoutes(mux, cfg)
	var h http.Handler = mux
	h = rememberLanguage(cfg, h)
	h = crossOrigin(cfg, h)
	h = securityHeaders(cfg, h)
	h = recoverPanics(cfg.Logger, h)
	h = logRequests(cfg, h)
	// Outermost: the request the others see (and the route the log
	// records) is the one with the client's address.
	h = fromProxy(cfg.TrustedProxies, h)
	h = knowPages(mux, h)
	return h
}

func (cfg Config) now() time.Time { return cfg.Clock.Now() }
