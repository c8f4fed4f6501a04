package web

import (
	"net/http"
	"time"

	"sparekey"
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
}

func handleGetLock(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, err := cfg.Locks.LockInfo(r.Context(), r.PathValue("lock"))
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		l := info.Lock
		state := l.State
		if state == "" {
			state = sparekey.LockStateUnknown
		}
		encode(w, http.StatusOK, lockResponse{Lock: l.Device, Name: l.Name, Unit: info.Unit, State: string(state),
			Online: l.Online, Battery: l.Battery, LastSeen: l.LastSeen, SlotsPending: info.SlotsPending,
			SlotsFailed: info.SlotsFailed, BackupReady: info.PoolReady})
	})
}

func handleOperateLock(cfg Config, unlock bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		device := r.PathValue("lock")
		if err := cfg.Locks.Operate(r.Context(), device, unlock, "staff:admin"); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusAccepted, map[string]string{"lock": device, "status": "accepted"})
	})
}
