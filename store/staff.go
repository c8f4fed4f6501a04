package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"sparekey"
)

// Staff accounts and their sessions.
//
// Emails are stored lower-cased (CreateStaff and UpdateStaff lower-case
// Staff.Email), so one address is one account whatever its case. The
// properties an account works for are rows of staff_properties: CreateStaff
// and UpdateStaff replace the set, reads return it sorted (nil when empty).
// Staff and StaffByEmail lock the account's row in a read-write transaction
// on PostgreSQL, until commit, so counting failed sign-ins loses no count.

const staffColumns = `id, email, name, role, password_hash, created_at, failed_logins, locked_until`

func scanStaff(row scanner) (*sparekey.Staff, error) {
	var s sparekey.Staff
	var createdAt int64
	var lockedUntil sql.NullInt64
	if err := row.Scan(&s.ID, &s.Email, &s.Name, &s.Role, &s.PasswordHash, &createdAt, &s.FailedLogins, &lockedUntil); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(createdAt)
	s.LockedUntil = timePtr(lockedUntil)
	return &s, nil
}

func conflictStaffEmail(email string) string {
	return "a staff account with email " + email + " already exists"
}

func (t *tx) CreateStaff(ctx context.Context, s *sparekey.Staff) error {
	s.Email = strings.ToLower(s.Email)
	id, err := t.insert(ctx, "create staff", conflictStaffEmail(s.Email), `
		INSERT INTO staff (email, name, role, password_hash, created_at, failed_logins, locked_until)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.Email, s.Name, string(s.Role), s.PasswordHash, micros(s.CreatedAt), s.FailedLogins, nullMicros(s.LockedUntil))
	if err != nil {
		return err
	}
	if err := t.setStaffProperties(ctx, id, s.Properties); err != nil {
		return err
	}
	s.ID = id
	return nil
}

func (t *tx) Staff(ctx context.Context, id int64) (*sparekey.Staff, error) {
	s, err := getOne(ctx, t, "staff", notFound("staff %d not found", id), scanStaff,
		`SELECT `+staffColumns+` FROM staff WHERE id = ? `+t.rowLock(), id)
	if err != nil {
		return nil, err
	}
	return s, t.withStaffProperties(ctx, s)
}

func (t *tx) StaffByEmail(ctx context.Context, email string) (*sparekey.Staff, error) {
	missing := notFound("staff with that email not found")
	if email == "" {
		return nil, missing
	}
	s, err := getOne(ctx, t, "staff by email", missing, scanStaff,
		`SELECT `+staffColumns+` FROM staff WHERE email = ? `+t.rowLock(), strings.ToLower(email))
	if err != nil {
		return nil, err
	}
	return s, t.withStaffProperties(ctx, s)
}

func (t *tx) StaffList(ctx context.Context, propertyID int64) ([]*sparekey.Staff, error) {
	// Both queries keep the same accounts: all, or those of the property.
	staffQuery := `SELECT ` + staffColumns + ` FROM staff ORDER BY email`
	propertiesQuery := `SELECT staff_id, property_id FROM staff_properties ORDER BY staff_id, property_id`
	var args []any
	if propertyID > 0 {
		staffQuery = `SELECT ` + staffColumns + ` FROM staff
			WHERE id IN (SELECT staff_id FROM staff_properties WHERE property_id = ?)
			ORDER BY email`
		propertiesQuery = `SELECT staff_id, property_id FROM staff_properties
			WHERE staff_id IN (SELECT staff_id FROM staff_properties WHERE property_id = ?)
			ORDER BY staff_id, property_id`
		args = []any{propertyID}
	}
	list, err := getAll(ctx, t, "staff list", scanStaff, staffQuery, args...)
	if err != nil || len(list) == 0 {
		return list, err
	}
	byID := make(map[int64]*sparekey.Staff, len(list))
	for _, s := range list {
		byID[s.ID] = s
	}
	rows, err := t.query(ctx, propertiesQuery, args...)
	if err != nil {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var staffID, pid int64
		if err := rows.Scan(&staffID, &pid); err != nil {
			return nil, fmt.Errorf("staff list: %w", err)
		}
		if s := byID[staffID]; s != nil {
			s.Properties = append(s.Properties, pid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("staff list: %w", err)
	}
	return list, nil
}

// UpdateStaff writes every field but ID and CreatedAt, and replaces the
// account's properties.
func (t *tx) UpdateStaff(ctx context.Context, s *sparekey.Staff) error {
	s.Email = strings.ToLower(s.Email)
	err := t.update(ctx, "update staff", notFound("staff %d not found", s.ID), conflictStaffEmail(s.Email), `
		UPDATE staff SET email = ?, name = ?, role = ?, password_hash = ?, failed_logins = ?, locked_until = ?
		WHERE id = ?`,
		s.Email, s.Name, string(s.Role), s.PasswordHash, s.FailedLogins, nullMicros(s.LockedUntil), s.ID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM staff_properties WHERE staff_id = ?`, s.ID); err != nil {
		return fmt.Errorf("update staff: %w", err)
	}
	return t.setStaffProperties(ctx, s.ID, s.Properties)
}

// setStaffProperties adds the account's properties (a repeated id once).
func (t *tx) setStaffProperties(ctx context.Context, staffID int64, properties []int64) error {
	for _, pid := range properties {
		if _, err := t.exec(ctx, `
			INSERT INTO staff_properties (staff_id, property_id) VALUES (?, ?)
			ON CONFLICT (staff_id, property_id) DO NOTHING`, staffID, pid); err != nil {
			return fmt.Errorf("staff %d property %d: %w", staffID, pid, err)
		}
	}
	return nil
}

// withStaffProperties reads the account's properties into s.
func (t *tx) withStaffProperties(ctx context.Context, s *sparekey.Staff) error {
	ids, err := getIDs(ctx, t, "staff properties",
		`SELECT property_id FROM staff_properties WHERE staff_id = ? ORDER BY property_id`, s.ID)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		s.Properties = ids
	}
	return nil
}

const staffSessionColumns = `id, token_hash, staff_id, created_at, expires_at, ip, user_agent`

func scanStaffSession(row scanner) (*sparekey.StaffSession, error) {
	var s sparekey.StaffSession
	var createdAt, expiresAt int64
	if err := row.Scan(&s.ID, &s.TokenHash, &s.StaffID, &createdAt, &expiresAt, &s.IP, &s.UserAgent); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicros(createdAt)
	s.ExpiresAt = fromMicros(expiresAt)
	return &s, nil
}

func (t *tx) CreateStaffSession(ctx context.Context, s *sparekey.StaffSession) error {
	id, err := t.insert(ctx, "create staff session", "", `
		INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TokenHash, s.StaffID, micros(s.CreatedAt), micros(s.ExpiresAt), s.IP, s.UserAgent)
	if err != nil {
		return err
	}
	s.ID = id
	return nil
}

// StaffSessionByTokenHash returns the session, expired or not: the caller
// compares ExpiresAt with its clock.
func (t *tx) StaffSessionByTokenHash(ctx context.Context, hash string) (*sparekey.StaffSession, error) {
	// The message does not show the hash.
	missing := notFound("staff session not found")
	if hash == "" {
		return nil, missing
	}
	return getOne(ctx, t, "staff session", missing, scanStaffSession,
		`SELECT `+staffSessionColumns+` FROM staff_sessions WHERE token_hash = ?`, hash)
}

// DeleteStaffSession ends a session; one already gone is no error, so two
// sign-outs at once both succeed.
func (t *tx) DeleteStaffSession(ctx context.Context, id int64) error {
	if _, err := t.exec(ctx, `DELETE FROM staff_sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete staff session %d: %w", id, err)
	}
	return nil
}

// DeleteStaffSessions with staffID > 0 deletes all of the account's
// sessions; with staffID 0, every session whose expires_at <= now.
func (t *tx) DeleteStaffSessions(ctx context.Context, staffID int64, now time.Time) error {
	var err error
	if staffID > 0 {
		_, err = t.exec(ctx, `DELETE FROM staff_sessions WHERE staff_id = ?`, staffID)
	} else {
		_, err = t.exec(ctx, `DELETE FROM staff_sessions WHERE expires_at <= ?`, micros(now))
	}
	if err != nil {
		return fmt.Errorf("delete staff sessions: %w", err)
	}
	return nil
}
