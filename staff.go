package sparekey

import (
	"context"
	"slices"
	"time"
)

// StaffRole is what a staff account may do. Both roles see work orders and
// locks of their properties; managers also manage residents, jam rules and
// read the audit log.
type StaffRole string

const (
	RoleManager     StaffRole = "manager"
	RoleMaintenance StaffRole = "maintenance"
)

// Staff is an account of the property's team. Email is lower-cased;
// PasswordHash is an argon2id PHC string.
type Staff struct {
	ID           int64
	Email        string
	Name         string
	Role         StaffRole
	PasswordHash string
	Properties   []int64 // the properties the account works for
	CreatedAt    time.Time
	// FailedLogins counts wrong passwords in a row; at the limit the
	// account refuses sign-ins until LockedUntil.
	FailedLogins int
	LockedUntil  *time.Time
}

// WorksFor reports whether the account works for the property.
func (s *Staff) WorksFor(propertyID int64) bool {
	return slices.Contains(s.Properties, propertyID)
}

// StaffSession is a signed-in staff member's session. Only a keyed hash of
// its token is stored.
type StaffSession struct {
	ID        int64
	TokenHash string
	StaffID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// StaffStore keeps staff accounts and their sessions.
type StaffStore interface {
	// CreateStaff fails with ECONFLICT for an email already taken.
	CreateStaff(ctx context.Context, s *Staff) error
	Staff(ctx context.Context, id int64) (*Staff, error)
	StaffByEmail(ctx context.Context, email string) (*Staff, error)
	// StaffList lists accounts by email; propertyID > 0 keeps those who
	// work for it.
	StaffList(ctx context.Context, propertyID int64) ([]*Staff, error)
	UpdateStaff(ctx context.Context, s *Staff) error
	CreateStaffSession(ctx context.Context, s *StaffSession) error
	StaffSessionByTokenHash(ctx context.Context, hash string) (*StaffSession, error)
	DeleteStaffSession(ctx context.Context, id int64) error
	// DeleteStaffSessions ends every session of the account, or with
	// staffID 0 every session that expired before now.
	DeleteStaffSessions(ctx context.Context, staffID int64, now time.Time) error
}
