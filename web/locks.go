package web

import (
	"net/http"
	"strconv"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/contact"
)

type lockResponse struct {
	Lock         string     `json:"lock"`
	Name         string     `json:"name"`
	Unit         string     `json:"unit"`
	State        string     `json:"state"`
	Online       bool       `json:"online"`
	Battery      int        `json:"battery"`
	LastSeen     *time.Time `json:"last_seen,omitempty"`
	SlotsPending int        `json:"slots_pending"`
	SlotsFailed  int        `json:"slots_failed"`
	BackupReady  int        `json:"backup_codes_ready"`
	SyncProblems []slotJSON `json:"sync_problems"`
}

// slotJSON is a slot whose code has not reached the lock yet. It never
// holds the code.
type slotJSON struct {
	Slot      int       `json:"slot"`
	Purpose   string    `json:"purpose"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error,omitempty"`
	NextRetry time.Time `json:"next_retry"`
}

func lockJSON(info *access.LockInfo) lockResponse {
	l := info.Lock
	state := l.State
	if state == "" {
		state = sparekey.LockStateUnknown
	}
	resp := lockResponse{Lock: l.Device, Name: l.Name, Unit: info.Unit, State: string(state),
		Online: l.Online, Battery: l.Battery, LastSeen: l.LastSeen, SlotsPending: info.SlotsPending,
		SlotsFailed: info.SlotsFailed, BackupReady: info.PoolReady, SyncProblems: []slotJSON{}}
	for _, p := range info.Problems {
		resp.SyncProblems = append(resp.SyncProblems, slotJSON{Slot: p.Slot, Purpose: string(p.Purpose),
			Status: string(p.Status), Attempts: p.Attempts, Error: p.Error, NextRetry: p.NextRetry})
	}
	return resp
}

type lockEventJSON struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Slot   *int      `json:"slot,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// handleLockEvents lists what the lock reported, newest first: ?limit=N,
// 1 to 500 (default 50).
func handleLockEvents(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EINVALID, "limit must be a number from 1 to 500"))
				return
			}
			limit = n
		}
		if err := lockAllowed(r, cfg); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		events, err := cfg.Locks.LockEvents(r.Context(), r.PathValue("lock"), limit)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		out := make([]lockEventJSON, 0, len(events))
		for _, e := range events {
			j := lockEventJSON{At: e.At, Kind: string(e.Kind), Detail: e.Detail}
			if e.Slot >= 0 {
				slot := e.Slot
				j.Slot = &slot
			}
			out = append(out, j)
		}
		encode(w, http.StatusOK, out)
	})
}

func handleListLocks(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infos, err := cfg.Locks.Locks(r.Context())
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		out := make([]lockResponse, 0, len(infos))
		for _, info := range infos {
			if principalOf(r).allowed(info.PropertyID) {
				out = append(out, lockJSON(info))
			}
		}
		encode(w, http.StatusOK, out)
	})
}

// handleMoveOut takes {"contact": "<email or phone>"} and ends that
// resident's access.
func handleMoveOut(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[struct {
			Contact string `json:"contact"`
		}](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		kind, value, err := contact.Parse(req.Contact, cfg.DefaultRegion)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		p := principalOf(r)
		d, err := cfg.Directory.MoveOutContact(r.Context(), kind, value, p.allowed, p.actor())
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, map[string]any{"resident": d.Resident.Name, "unit": d.Unit,
			"moved_out_at": d.Resident.MovedOutAt.UTC().Truncate(time.Second), "codes_cleared": d.CodesCleared})
	})
}

func handleGetLock(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, err := cfg.Locks.LockInfo(r.Context(), r.PathValue("lock"))
		if err == nil && !principalOf(r).allowed(info.PropertyID) {
			err = sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", r.PathValue("lock"))
		}
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, lockJSON(info))
	})
}

func handleOperateLock(cfg Config, unlock bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		device := r.PathValue("lock")
		if err := lockAllowed(r, cfg); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		if err := cfg.Locks.Operate(r.Context(), device, unlock, principalOf(r).actor()); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusAccepted, map[string]string{"lock": device, "status": "accepted"})
	})
}

// lockAllowed answers not found for a lock of a property the caller does
// not work for, as for a lock that does not exist.
func lockAllowed(r *http.Request, cfg Config) error {
	info, err := cfg.Locks.LockInfo(r.Context(), r.PathValue("lock"))
	if err != nil {
		return err
	}
	if !principalOf(r).allowed(info.PropertyID) {
		return sparekey.Errorf(sparekey.ENOTFOUND, "lock %s not found", r.PathValue("lock"))
	}
	return nil
}
