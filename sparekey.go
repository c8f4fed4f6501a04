// Package sparekey holds the domain of Sparekey: properties, units,
// residents, locks and their code slots, backup requests and links, the
// message outbox and the audit trail. It imports only the standard library;
// storage, devices, delivery and the web live in their own packages.
package sparekey

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Clock tells the time. Everything that needs "now" takes a Clock so tests
// (and the demo's dev clock) can move it.
type Clock interface {
	Now() time.Time
}

// Keyring holds the server secret. Door codes and message bodies are sealed
// with it (AES-GCM) before they reach the database; link tokens and contacts
// are stored only as keyed hashes.
type Keyring interface {
	// Seal encrypts plaintext; Open reverses it and fails on tampering.
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
	// Hash returns a hex HMAC-SHA256 of value, domain-separated by purpose.
	Hash(purpose, value string) string
}

// Hash purposes used with Keyring.Hash.
const (
	HashContact   = "contact"    // a normalized email or E.164 phone
	HashLinkToken = "link-token" // a backup link token
)

// Property is one apartment community.
type Property struct {
	ID               int64
	Name             string
	Timezone         string // IANA name, e.g. America/New_York
	MaintenanceEmail string
	MaintenancePhone string // E.164
	CreatedAt        time.Time
	// JamRule says when jams open a work order; a zero rule is
	// DefaultJamRule.
	JamRule JamRule
}

// Unit is one apartment of a property.
type Unit struct {
	ID         int64
	PropertyID int64
	Name       string // e.g. "101"
}

// Resident lives in a unit. Email is lower-cased, Phone is E.164; both were
// validated when the resident was created.
type Resident struct {
	ID         int64
	UnitID     int64
	Name       string
	Email      string
	Phone      string
	CreatedAt  time.Time
	MovedOutAt *time.Time // nil while the resident lives there
}

// Active reports whether the resident still lives in the unit.
func (r *Resident) Active() bool { return r.MovedOutAt == nil }

// FirstName is what messages and pages call the resident: the first word
// of their name, or "there" ("Hi there") when it is blank.
func (r *Resident) FirstName() string {
	if f := strings.Fields(r.Name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

// LockState is the bolt's state as last reported by the lock.
type LockState string

const (
	LockStateUnknown  LockState = "unknown"
	LockStateLocked   LockState = "locked"
	LockStateUnlocked LockState = "unlocked"
	LockStateJammed   LockState = "jammed"
)

// Lock is a keypad smart lock on a door of a unit.
type Lock struct {
	ID        int64
	UnitID    int64
	Device    string // device name on the adapter, e.g. unit-101-front; unique
	Name      string // human name, e.g. "Front door"
	Adapter   string // "sim" or "z2m"
	SlotCount int    // user slots on the keypad, numbered 0..SlotCount-1
	CodeMin   int    // shortest code the keypad takes
	CodeMax   int    // longest code the keypad takes
	State     LockState
	Battery   int // percent, -1 when never reported
	Online    bool
	LastSeen  *time.Time
}

// SlotPurpose says what a code slot on a lock is for.
type SlotPurpose string

const (
	SlotResident    SlotPurpose = "resident"
	SlotGuest       SlotPurpose = "guest"
	SlotBackup      SlotPurpose = "backup"
	SlotMaintenance SlotPurpose = "maintenance"
)

// SyncStatus says whether a slot's desired state has reached the lock.
type SyncStatus string

const (
	SyncPending SyncStatus = "pending" // desired differs from what the lock confirmed
	SyncSynced  SyncStatus = "synced"  // the lock confirmed the desired state
	SyncFailed  SyncStatus = "failed"  // failed repeatedly: flagged for staff, retried hourly
)

// BackupState is the life cycle of a backup-pool code.
type BackupState string

const (
	BackupAvailable BackupState = "available" // in the pool, not given to anyone
	BackupIssued    BackupState = "issued"    // given to a resident through a link
	BackupUsed      BackupState = "used"      // used at the keypad; to be rotated
)

// Slot is one numbered user slot on a lock. Code is the desired code in
// plain text in memory; the store seals it at rest. An empty Code means the
// slot should be empty on the lock.
type Slot struct {
	ID         int64
	LockID     int64
	Number     int // 0-based, as Zigbee2MQTT numbers them
	Purpose    SlotPurpose
	ResidentID int64 // owner for resident slots, 0 otherwise
	Code       string

	Sync         SyncStatus
	SyncAttempts int
	NextSyncAt   time.Time
	SyncError    string
	SyncedAt     *time.Time

	// Backup pool fields, meaningful when Purpose is SlotBackup.
	Backup   BackupState
	IssuedTo int64 // resident id while issued; after a rotation, the last holder
	IssuedAt *time.Time
	UsedAt   *time.Time
}

// HeldBy reports whether the slot holds a backup code issued to the
// resident that is still theirs at now: not used, not rotated, and issued
// less than BackupCodeTTL ago.
func (s *Slot) HeldBy(residentID int64, now time.Time) bool {
	return s.Purpose == SlotBackup && s.Backup == BackupIssued && s.IssuedTo == residentID &&
		s.IssuedAt != nil && now.Before(s.IssuedAt.Add(BackupCodeTTL)) && s.Code != ""
}

// Usable reports whether the lock has confirmed the slot's current code.
// A code is never reported usable before the lock confirmed it.
func (s *Slot) Usable() bool { return s.Code != "" && s.Sync == SyncSynced }

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
	// Language is the one the resident asked in (English or Spanish);
	// the link's SMS and email are written in it.
	Language string
}

// The languages residents are written to in: the resident pages and the
// messages of the lockout flow. The staff console is English only.
const (
	English = "en"
	Spanish = "es"
)

// LanguageOf returns lang when residents are written to in it, else
// English.
func LanguageOf(lang string) string {
	if lang == Spanish {
		return Spanish
	}
	return English
}

// BackupLinkTTL is how long a backup link lives after it was requested.
const BackupLinkTTL = 30 * time.Minute

// BackupCodeTTL is how long an issued backup code stays valid if unused.
const BackupCodeTTL = 24 * time.Hour

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

// Channel is how a message travels.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// MessageStatus is an outbox row's life cycle.
type MessageStatus string

const (
	MessageQueued    MessageStatus = "queued"
	MessageSent      MessageStatus = "sent"
	MessageFailed    MessageStatus = "failed" // failed at least once; will be retried
	MessageAbandoned MessageStatus = "abandoned"
)

// Message is an outbox row: written in the same transaction as whatever
// caused it and sent later by the outbox worker. Body and HTML are sealed
// at rest because a backup link's token is in them.
type Message struct {
	ID            int64
	Channel       Channel
	To            string
	Subject       string
	Body          string // plain text
	HTML          string // email only, optional
	Kind          string // e.g. backup_link, code_revealed
	Status        MessageStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	ProviderID    string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// QueueMessage puts m in the outbox, due at now, with a message.queued
// line in the audit trail about subject ("resident:3", "work_order:7"). It
// runs in the caller's transaction, so the message is sent only if what it
// tells of is committed, and then at least once.
func QueueMessage(ctx context.Context, tx Tx, now time.Time, subject string, m *Message) error {
	m.Status, m.CreatedAt, m.NextAttemptAt = MessageQueued, now, now
	if err := tx.CreateMessage(ctx, m); err != nil {
		return err
	}
	return tx.RecordAudit(ctx, &AuditEvent{At: now, Actor: "system", Action: "message.queued", Subject: subject,
		Detail: map[string]string{"message": strconv.FormatInt(m.ID, 10), "channel": string(m.Channel), "kind": m.Kind}})
}

// AuditEvent is one line of the audit trail.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Actor     string // "system", "resident:12", "staff:admin", "anonymous"
	Action    string // e.g. backup.requested, link.revealed
	Subject   string // e.g. "resident:12", "lock:unit-101-front", "link:7"
	IP        string
	UserAgent string
	Detail    map[string]string
}

// LockEvent is something a lock reported.
type LockEvent struct {
	ID     int64
	LockID int64
	At     time.Time
	Kind   DeviceEventKind
	Slot   int // -1 when no slot is involved
	Detail string
	// ResidentID is whose code opened the door (a keypad unlock); 0 when
	// nobody's or unknown.
	ResidentID int64
}

// Stats are counts of the database's state, for metrics.
type Stats struct {
	Messages        map[Channel]map[MessageStatus]int
	Locks           map[LockState]int // by reported state; unknown for never reported
	LocksOnline     int
	LocksLowBattery int // reported battery under 20%
	Slots           map[SyncStatus]int
	RequestsPending int // Get Code requests the job has not answered
}

// Work with the store always happens inside a transaction.
type Store interface {
	// Tx runs fn in a read-write transaction and commits when fn returns nil.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}

// Tx is everything the domain can do with storage inside one transaction.
// A missing row is an *Error with code ENOTFOUND, never (nil, nil).
type Tx interface {
	CreateProperty(ctx context.Context, p *Property) error
	Property(ctx context.Context, id int64) (*Property, error)
	PropertyByName(ctx context.Context, name string) (*Property, error)
	Properties(ctx context.Context) ([]*Property, error) // by name
	UpdateProperty(ctx context.Context, p *Property) error

	CreateUnit(ctx context.Context, u *Unit) error
	Unit(ctx context.Context, id int64) (*Unit, error)
	UnitByName(ctx context.Context, propertyID int64, name string) (*Unit, error)
	// Units lists a property's units by name.
	Units(ctx context.Context, propertyID int64) ([]*Unit, error)

	CreateResident(ctx context.Context, r *Resident) error
	Resident(ctx context.Context, id int64) (*Resident, error)
	// ResidentByContactHash finds the active resident whose email or phone
	// hashes (Keyring.Hash(HashContact, …)) to hash.
	ResidentByContactHash(ctx context.Context, kind ContactKind, hash string) (*Resident, error)
	// ResidentByEmail finds a resident, active or not, by normalized email.
	ResidentByEmail(ctx context.Context, email string) (*Resident, error)
	// ResidentByPhone finds the active resident with this E.164 phone.
	ResidentByPhone(ctx context.Context, phone string) (*Resident, error)
	ResidentsByUnit(ctx context.Context, unitID int64) ([]*Resident, error)
	UpdateResident(ctx context.Context, r *Resident) error

	CreateLock(ctx context.Context, l *Lock) error
	Lock(ctx context.Context, id int64) (*Lock, error)
	LockByDevice(ctx context.Context, device string) (*Lock, error)
	LocksByUnit(ctx context.Context, unitID int64) ([]*Lock, error)
	Locks(ctx context.Context) ([]*Lock, error)
	UpdateLock(ctx context.Context, l *Lock) error

	CreateSlot(ctx context.Context, s *Slot) error
	SlotsByLock(ctx context.Context, lockID int64) ([]*Slot, error)
	UpdateSlot(ctx context.Context, s *Slot) error
	// SlotsToSync returns up to limit pending or failed slots whose
	// NextSyncAt <= now, oldest first.
	SlotsToSync(ctx context.Context, now time.Time, limit int) ([]*Slot, error)
	// IssuedBackupSlotsBefore returns backup slots issued before t and not used.
	IssuedBackupSlotsBefore(ctx context.Context, t time.Time) ([]*Slot, error)

	CreateBackupRequest(ctx context.Context, r *BackupRequest) error
	CountBackupRequestsByIP(ctx context.Context, ip string, since time.Time) (int, error)
	// ClaimBackupRequests leases up to limit pending requests until
	// now+lease so that only one worker processes each.
	ClaimBackupRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*BackupRequest, error)
	UpdateBackupRequest(ctx context.Context, r *BackupRequest) error

	CreateBackupLink(ctx context.Context, l *BackupLink) error
	BackupLinkByTokenHash(ctx context.Context, hash string) (*BackupLink, error)
	UpdateBackupLink(ctx context.Context, l *BackupLink) error
	// RevokeBackupLinks ends every live link of the resident.
	RevokeBackupLinks(ctx context.Context, residentID int64, now time.Time) error
	CountBackupLinksSince(ctx context.Context, residentID int64, since time.Time) (int, error)
	AddBackupLinkSlot(ctx context.Context, linkID, slotID int64) error
	BackupLinkSlots(ctx context.Context, linkID int64) ([]*Slot, error)

	CreateMessage(ctx context.Context, m *Message) error
	// ClaimMessages leases up to limit queued or failed messages of the given
	// channels whose NextAttemptAt <= now, until now+lease.
	ClaimMessages(ctx context.Context, channels []Channel, now time.Time, lease time.Duration, limit int) ([]*Message, error)
	UpdateMessage(ctx context.Context, m *Message) error
	// Messages lists messages newest first; to filters by recipient when set.
	Messages(ctx context.Context, to string, limit int) ([]*Message, error)
	// CountMessagesSince counts messages of a channel created after t; to
	// filters by recipient when set. (All Count…Since windows exclude t, so
	// a one-minute window ends exactly one minute after a request.)
	CountMessagesSince(ctx context.Context, channel Channel, to string, since time.Time) (int, error)

	// Meta reads a setting of the installation (ENOTFOUND when unset);
	// SetMeta writes one.
	Meta(ctx context.Context, name string) (string, error)
	SetMeta(ctx context.Context, name, value string) error

	// Stats counts what operators watch: messages by channel and status,
	// locks by state, slots by sync status, requests not yet answered.
	Stats(ctx context.Context) (*Stats, error)

	// Serialize makes transactions naming the same key take turns, until
	// this one ends: for limits checked by counting, then inserting.
	Serialize(ctx context.Context, key string) error

	// Heartbeat records that instance id, run by process, is alive, on
	// the database's clock; ECONFLICT when another process used the id
	// within ttl.
	Heartbeat(ctx context.Context, id, process string, ttl time.Duration) error
	// Instances lists the instances heard from within ttl, sorted.
	Instances(ctx context.Context, ttl time.Duration) ([]string, error)
	RemoveInstance(ctx context.Context, id, process string) error

	RecordAudit(ctx context.Context, e *AuditEvent) error
	AuditEvents(ctx context.Context, limit int) ([]*AuditEvent, error)
	// SearchAudit lists audit events newest first that match f.
	SearchAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	RecordLockEvent(ctx context.Context, e *LockEvent) error
	LockEvents(ctx context.Context, lockID int64, limit int) ([]*LockEvent, error)

	// Jams.
	CreateJam(ctx context.Context, j *Jam) error
	UpdateJam(ctx context.Context, j *Jam) error
	// OpenJam is the lock's jam that has not cleared (ENOTFOUND if none).
	OpenJam(ctx context.Context, lockID int64) (*Jam, error)
	// JamsSince lists the lock's jams that started after t, newest first.
	JamsSince(ctx context.Context, lockID int64, since time.Time, limit int) ([]*Jam, error)
	// UnclearedJams lists every jam not cleared that started at or before
	// t, oldest first.
	UnclearedJams(ctx context.Context, before time.Time) ([]*Jam, error)

	// Work orders. CreateWorkOrder fails with ECONFLICT when the lock
	// already has one that is not resolved.
	CreateWorkOrder(ctx context.Context, w *WorkOrder) error
	WorkOrder(ctx context.Context, id int64) (*WorkOrder, error)
	// ActiveWorkOrder is the lock's work order that is not resolved
	// (ENOTFOUND if none).
	ActiveWorkOrder(ctx context.Context, lockID int64) (*WorkOrder, error)
	// WorkOrders lists work orders newest first.
	WorkOrders(ctx context.Context, f WorkOrderFilter) ([]*WorkOrder, error)
	UpdateWorkOrder(ctx context.Context, w *WorkOrder) error
	AddWorkOrderNote(ctx context.Context, n *WorkOrderNote) error
	// WorkOrderNotes lists a work order's timeline, oldest first.
	WorkOrderNotes(ctx context.Context, workOrderID int64) ([]*WorkOrderNote, error)
	// AddWorkOrderWatcher subscribes a resident to a work order's updates;
	// again keeps one subscription, in the latest language.
	AddWorkOrderWatcher(ctx context.Context, workOrderID int64, w WorkOrderWatcher) error
	WorkOrderWatchers(ctx context.Context, workOrderID int64) ([]WorkOrderWatcher, error)

	// Resident sign-ins and sessions.
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

	// Staff accounts and their sessions. CreateStaff fails with ECONFLICT
	// for an email already taken.
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
