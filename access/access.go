// Package access keeps the codes on every lock right: residents' access
// codes, the pool of backup codes programmed in advance, and the reconciler
// that drives each slot from its desired state to what the lock confirmed.
// It also turns lock reports into lock state, lock events and audit lines.
package access

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"sparekey"
	"sparekey/loop"
)

// Config configures a Service.
type Config struct {
	Store  sparekey.Store
	Driver sparekey.LockDriver
	Clock  sparekey.Clock
	Logger *slog.Logger

	// PoolSize is the number of backup slots kept on every lock. Default 3.
	PoolSize int
	// MaxSyncAttempts is how many failed programming attempts (lock online)
	// flag a slot as failed for staff instead of retrying. Default 8.
	MaxSyncAttempts int
	// SyncInterval is how often the reconciler looks for work when nobody
	// nudges it. Default 2s.
	SyncInterval time.Duration
	// Owns says whether this instance programs the lock's codes and
	// rotates its backup codes, when several instances share the locks
	// (cluster.Member.Owns). nil: every lock.
	Owns func(device string) bool
	// Parallel is how many locks the reconciler programs at once. Default
	// 16.
	Parallel int
	// Observer is told of every event a lock reported, in the transaction
	// that records it (the jam rule). Optional.
	Observer sparekey.LockObserver
	// BackoffMax caps the delay between retries of one slot. Default 5m;
	// retries for an offline lock are capped at 1m and a lock coming back
	// online retries at once.
	BackoffMax time.Duration
}

// Service implements access codes, the backup pool and the reconciler.
type Service struct {
	cfg Config
	log *slog.Logger

	loop *loop.Loop

	lastPoolCheck time.Time // the loop's goroutine only (RunOnce is not concurrent)
	unknown       sync.Map  // device names of events from no known lock, logged once
}

// New returns a Service with defaults filled in.
func New(cfg Config) *Service {
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 3
	}
	if cfg.MaxSyncAttempts == 0 {
		cfg.MaxSyncAttempts = 8
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 2 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 16
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.loop = loop.New(cfg.SyncInterval, func(ctx context.Context) (bool, error) {
		n, err := s.RunOnce(ctx)
		return n == syncBatch, err
	}, func(err error) { s.log.Error("reconcile pass failed", "err", err) })
	return s
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now() }

func (s *Service) owns(device string) bool { return s.cfg.Owns == nil || s.cfg.Owns(device) }

// LockInfo is a lock's live state as staff see it.
type LockInfo struct {
	Lock         *sparekey.Lock
	Unit         string
	PropertyID   int64
	SlotsPending int
	SlotsFailed  int
	PoolReady    int // confirmed backup codes nobody holds
	// Problems are the slots not on the lock as they should be that have
	// failed at least once, worst first.
	Problems []SlotProblem
}

// SlotProblem is a slot whose code has not reached the lock.
type SlotProblem struct {
	Slot      int
	Purpose   sparekey.SlotPurpose
	Status    sparekey.SyncStatus // pending or failed
	Attempts  int
	Error     string
	NextRetry time.Time
}

// LockInfo describes the lock with the given device name.
func (s *Service) LockInfo(ctx context.Context, device string) (*LockInfo, error) {
	var info *LockInfo
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		info, err = lockInfo(ctx, tx, lock)
		return err
	})
	return info, err
}

// Locks describes every lock, by device name.
func (s *Service) Locks(ctx context.Context) ([]*LockInfo, error) {
	var infos []*LockInfo
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		locks, err := tx.Locks(ctx)
		if err != nil {
			return err
		}
		infos = make([]*LockInfo, 0, len(locks))
		for _, lock := range locks {
			info, err := lockInfo(ctx, tx, lock)
			if err != nil {
				return err
			}
			infos = append(infos, info)
		}
		return nil
	})
	slices.SortFunc(infos, func(a, b *LockInfo) int { return strings.Compare(a.Lock.Device, b.Lock.Device) })
	return infos, err
}

func lockInfo(ctx context.Context, tx sparekey.Tx, lock *sparekey.Lock) (*LockInfo, error) {
	unit, err := tx.Unit(ctx, lock.UnitID)
	if err != nil {
		return nil, err
	}
	slots, err := tx.SlotsByLock(ctx, lock.ID)
	if err != nil {
		return nil, err
	}
	info := &LockInfo{Lock: lock, Unit: unit.Name, PropertyID: unit.PropertyID, Problems: []SlotProblem{}}
	for _, sl := range slots {
		switch sl.Sync {
		case sparekey.SyncPending:
			info.SlotsPending++
		case sparekey.SyncFailed:
			info.SlotsFailed++
		}
		if sl.Sync != sparekey.SyncSynced && (sl.SyncError != "" || sl.Sync == sparekey.SyncFailed) {
			info.Problems = append(info.Problems, SlotProblem{Slot: sl.Number, Purpose: sl.Purpose, Status: sl.Sync,
				Attempts: sl.SyncAttempts, Error: sl.SyncError, NextRetry: sl.NextSyncAt})
		}
		if sl.Purpose == sparekey.SlotBackup && sl.Backup == sparekey.BackupAvailable && sl.Usable() {
			info.PoolReady++
		}
	}
	slices.SortFunc(info.Problems, func(a, b SlotProblem) int {
		if a.Status != b.Status {
			return strings.Compare(string(a.Status), string(b.Status)) // failed before pending
		}
		return a.Slot - b.Slot
	})
	return info, nil
}

// Operate locks or unlocks a door remotely for actor (e.g. "staff:admin").
// An offline lock is lock_offline and a jammed one lock_jammed, without
// waiting on the lock.
func (s *Service) Operate(ctx context.Context, device string, unlock bool, actor string) error {
	var lock *sparekey.Lock
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		lock, err = tx.LockByDevice(ctx, device)
		return err
	})
	if err != nil {
		return err
	}
	// The command may reach the lock even if the caller gives up waiting:
	// the action is audited whatever happens to the request, refused
	// ones too (who tried to open which door, and why it did not).
	bg := context.WithoutCancel(ctx)
	action := "lock.remote_" + verb(unlock)
	switch {
	case !lock.Online:
		err = sparekey.Errorf(sparekey.ELOCKOFFLINE, "%s is offline: it cannot be reached to %s. Backup codes on the keypad still work.", lock.Name, verb(unlock))
	case lock.State == sparekey.LockStateJammed:
		err = sparekey.Errorf(sparekey.ELOCKJAMMED, "%s is jammed: realign the door (push or pull it) and try again, or call maintenance.", lock.Name)
	case unlock:
		err = s.cfg.Driver.Unlock(ctx, device)
	default:
		err = s.cfg.Driver.Lock(ctx, device)
	}
	detail := map[string]string{"result": "ok"}
	if err != nil {
		detail["result"] = sparekey.ErrorCode(err)
		if ctx.Err() != nil && lock.Online && lock.State != sparekey.LockStateJammed {
			detail["result"] = "not_awaited" // sent, but the caller left; the lock may have moved
		}
	}
	auditErr := s.cfg.Store.Tx(bg, func(tx sparekey.Tx) error {
		if err == nil {
			// The driver returns once the lock confirmed the bolt moved:
			// record it now, so the page the caller sees next says so
			// (the lock's report, a moment later, says the same).
			l, lerr := tx.LockByDevice(bg, device)
			if lerr != nil {
				return lerr
			}
			want := sparekey.LockStateLocked
			if unlock {
				want = sparekey.LockStateUnlocked
			}
			if l.State != want && l.State != sparekey.LockStateJammed {
				l.State = want
				if err := tx.UpdateLock(bg, l); err != nil {
					return err
				}
			}
		}
		return tx.RecordAudit(bg, &sparekey.AuditEvent{At: s.now(), Actor: actor, Action: action, Subject: "lock:" + device, Detail: detail})
	})
	if err != nil {
		return err
	}
	return auditErr
}

func verb(unlock bool) string {
	if unlock {
		return "unlock"
	}
	return "lock"
}

// LockEvents returns the lock's most recent events, newest first.
func (s *Service) LockEvents(ctx context.Context, device string, limit int) ([]*sparekey.LockEvent, error) {
	var events []*sparekey.LockEvent
	err := s.cfg.Store.Read(ctx, func(tx sparekey.Tx) error {
		lock, err := tx.LockByDevice(ctx, device)
		if err != nil {
			return err
		}
		events, err = tx.LockEvents(ctx, lock.ID, limit)
		return err
	})
	return events, err
}
