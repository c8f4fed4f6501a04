package web

import (
	"net/http"
	"time"

	"sparekey"
)

type outboxItem struct {
	ID         int64      `json:"id"`
	Channel    string     `json:"channel"`
	To         string     `json:"to"`
	Subject    string     `json:"subject"`
	Body       string     `json:"body"`
	HTML       string     `json:"html,omitempty"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until,omitempty"` // when its link or code expires
}

func (d *Dev) outbox(r *http.Request) ([]outboxItem, error) {
	var msgs []*sparekey.Message
	err := d.Store.Read(r.Context(), func(tx sparekey.Tx) (err error) {
		msgs, err = tx.Messages(r.Context(), r.URL.Query().Get("to"), 200)
		return err
	})
	items := []outboxItem{}
	for _, m := range msgs {
		item := outboxItem{ID: m.ID, Channel: string(m.Channel), To: m.To, Subject: m.Subject, Body: m.Body,
			HTML: m.HTML, Kind: m.Kind, Status: string(m.Status), Attempts: m.Attempts, CreatedAt: m.CreatedAt.UTC()}
		if !m.ValidUntil.IsZero() {
			until := m.ValidUntil.UTC()
			item.ValidUntil = &until
		}
		items = append(items, item)
	}
	return items, err
}

func handleDevOutbox(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items, err := cfg.Dev.outbox(r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, items)
	})
}

func handleDevOutboxPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items, err := cfg.Dev.outbox(r)
		if err != nil {
			cfg.Logger.Error("dev outbox page", "err", err)
			render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "outbox", "Dev outbox", items)
	})
}

// maxAdvance bounds one move of the dev clock: a year.
const maxAdvance = 366 * 24 * time.Hour

func handleDevClock(cfg Config) http.Handler {
	type request struct {
		Advance string `json:"advance"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d < 0 || d > maxAdvance {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EINVALID, `advance must be a duration from 0 to 8760h, such as "31m" or "24h".`))
			return
		}
		cfg.Dev.Clock.Advance(d)
		if cfg.Dev.Advanced != nil {
			if err := cfg.Dev.Advanced(r.Context()); err != nil {
				writeError(w, r, cfg.Logger, err)
				return
			}
		}
		encode(w, http.StatusOK, map[string]time.Time{"now": cfg.Dev.Clock.Now().UTC()})
	})
}

// KeypadResult is what the dev keypad endpoint answers: what the virtual
// lock's keypad did with the code.
type KeypadResult struct {
	Result  string `json:"result"`            // unlocked, rejected, jammed, keypad_disabled
	Pattern string `json:"pattern,omitempty"` // x-odd while jammed
}

func handleDevKeypad(cfg Config) http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		res, err := cfg.Dev.Keypad(r.PathValue("lock"), req.Code)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, res)
	})
}

func handleDevLockState(cfg Config) http.Handler {
	type request struct {
		Jammed  *bool `json:"jammed"`
		Online  *bool `json:"online"`
		Battery *int  `json:"battery"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		if err := cfg.Dev.SetState(r.PathValue("lock"), req.Jammed, req.Online, req.Battery); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, map[string]string{"lock": r.PathValue("lock"), "status": "ok"})
	})
}
