package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sparekey"
	"sparekey/lockout"
	"sparekey/resident"
)

// acceptedBody is the one answer to every well-formed Get Code request,
// known contact or not: byte for byte the same.
var acceptedBody = []byte(`{"status":"accepted","message":"If this matches an account, we sent a link to the phone and email on that account. The link expires 30 minutes after your request."}` + "\n")

func handleCreateBackupCodeRequest(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contact, err := decodeContact(w, r)
		if err == nil {
			err = cfg.Lockout.RequestCode(r.Context(), lockout.CodeRequest{Contact: contact, IP: clientIP(r), UserAgent: r.UserAgent(), Language: language(r)})
		}
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write(acceptedBody)
	})
}

// decodeContact accepts exactly {"contact": "<string>"}: one key, once,
// with a string value; arrays, objects, numbers, repeated or unknown keys
// are refused.
func decodeContact(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return "", badJSON(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	invalid := sparekey.Errorf(sparekey.EINVALID, `Send a JSON object with one string field: {"contact": "<email or phone>"}.`)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", invalid
	}
	var contact *string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", invalid
		}
		if key != "contact" || contact != nil {
			return "", invalid
		}
		val, err := dec.Token()
		if err != nil {
			return "", invalid
		}
		s, ok := val.(string)
		if !ok {
			return "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "contact must be one email address or phone number, as a string.")
		}
		contact = &s
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return "", invalid
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", invalid
	}
	if contact == nil {
		return "", sparekey.Errorf(sparekey.EINVALIDCONTACT, "contact is required: your email address or phone number.")
	}
	return *contact, nil
}

// maxContactsShown bounds the maintenance numbers listed on the public
// wizard; a company with many properties shows none rather than a phone book.
const maxContactsShown = 5

// wizardData is what every wizard step gets: the resident's door when we
// know who they are (signed in, or arrived from a backup link), and how to
// keep that context from step to step.
type wizardData struct {
	Contacts []lockout.Help
	Door     *resident.Door // the door that explains most; nil for anonymous visitors
	Loc      *time.Location
	Link     string // the backup link's token when the visitor came from one
	CSRF     string // for Notify maintenance when signed in
	SignedIn bool
	Step     string
}

// Keep is the query that keeps a backup link's context on the next step
// (a template.URL: the template would otherwise escape its & and =).
func (d wizardData) Keep() template.URL {
	if d.Link == "" {
		return ""
	}
	return template.URL("&link=" + url.QueryEscape(d.Link))
}

func handleWizardPage(cfg Config) http.Handler {
	steps := map[string]string{"": "wizard", "jammed": "wizard_jammed", "code": "wizard_code", "cleared": "wizard_cleared", "stuck": "wizard_stuck"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step := r.URL.Query().Get("step")
		name, ok := steps[step]
		if !ok {
			name, step = "wizard", ""
		}
		data := wizardData{Step: step}
		situation(w, r, cfg, &data)
		// What the lock says leads the way: a jam straight to the jam
		// steps, a disabled keypad or an offline hub to the code checks,
		// and a jam freed within the hour back to the jam steps (the X
		// may be back).
		if d := data.Door; d != nil && step == "" {
			switch rank(d) {
			case rankJammed, rankJamFreed:
				name = "wizard_jammed"
			case rankKeypadResting, rankOffline:
				name = "wizard_code"
			}
		}
		if name == "wizard_stuck" && !data.SignedIn && data.Link == "" {
			var err error
			if data.Contacts, err = cfg.Lockout.Contacts(r.Context()); err != nil {
				cfg.Logger.Error("maintenance contacts", "err", err)
			}
			if len(data.Contacts) > maxContactsShown {
				data.Contacts = nil
			}
		}
		p := page{Title: "I'm locked out", Data: data}
		if m := signedIn(cfg, r); m != nil {
			p.Resident, p.Tab = m.resident.FirstName(), "more"
		}
		renderPage(w, r, cfg.Logger, http.StatusOK, name, p)
	})
}

// situation fills in the visitor's door, if we know who they are.
func situation(w http.ResponseWriter, r *http.Request, cfg Config, data *wizardData) {
	if cfg.Residents == nil {
		return
	}
	var id int64
	if m := signedIn(cfg, r); m != nil {
		id, data.SignedIn, data.CSRF = m.resident.ID, true, csrfToken(cfg, m.session)
	} else if token := r.URL.Query().Get("link"); token != "" && len(token) < 100 {
		holder, err := cfg.Lockout.LinkHolder(r.Context(), token, visit(r))
		if err != nil {
			return // an expired or unknown link: the anonymous wizard
		}
		id, data.Link = holder, token
	}
	if id == 0 {
		return
	}
	h, err := cfg.Residents.Home(r.Context(), id)
	if err != nil {
		cfg.Logger.Error("wizard: resident's doors", "err", err)
		return
	}
	data.Loc = h.Location
	for i := range h.Doors {
		d := &h.Doors[i]
		if data.Door == nil || rank(d) > rank(data.Door) {
			data.Door = d
		}
	}
}

// What a door says about a lock-out, from what explains it least to most.
const (
	rankNothing = iota
	rankJamFreed
	rankOffline
	rankKeypadResting
	rankJammed
)

// rank orders what a door says about a lock-out: a jam under way explains
// most; a jam already freed least, as what the lock says now comes first.
func rank(d *resident.Door) int {
	switch {
	case d.Jammed:
		return rankJammed
	case d.KeypadDisabledUntil != nil:
		return rankKeypadResting
	case d.Offline():
		return rankOffline
	case d.JamAt != nil:
		return rankJamFreed
	}
	return rankNothing
}

type getCodeData struct {
	Contact string
	Error   string
}

func handleGetCodePage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, cfg.Logger, http.StatusOK, "getcode", "Send me a code", getCodeData{})
	})
}

func handleGetCodeForm(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			render(w, r, cfg.Logger, http.StatusBadRequest, "getcode", "Send me a code", getCodeData{Error: "The form could not be read. Please try again."})
			return
		}
		values := r.PostForm["contact"]
		if len(values) != 1 {
			render(w, r, cfg.Logger, http.StatusBadRequest, "getcode", "Send me a code", getCodeData{Error: "Enter one email address or phone number."})
			return
		}
		err := cfg.Lockout.RequestCode(r.Context(), lockout.CodeRequest{Contact: values[0], IP: clientIP(r), UserAgent: r.UserAgent(), Language: language(r)})
		if err != nil {
			status := httpStatus(err)
			if status == http.StatusInternalServerError {
				cfg.Logger.Error("get code form", "err", err)
			}
			render(w, r, cfg.Logger, status, "getcode", "Send me a code", getCodeData{Contact: values[0], Error: sparekey.ErrorMessage(err)})
			return
		}
		render(w, r, cfg.Logger, http.StatusAccepted, "getcode_sent", "Check your phone and email", nil)
	})
}

type linkData struct {
	Token       string
	View        *lockout.LinkView
	Reveal      *lockout.Reveal
	ExpiresIn   string
	SecondsLeft int // for the page's countdown (app.js)
}

func visit(r *http.Request) lockout.Visit {
	return lockout.Visit{IP: clientIP(r), UserAgent: r.UserAgent()}
}

func handleLinkPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		view, err := cfg.Lockout.ViewLink(r.Context(), token, visit(r))
		if err != nil {
			linkErrorPage(w, r, cfg, err)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "link", "Your backup code", linkData{Token: token, View: view, ExpiresIn: minutesLeft(language(r), cfg.now(), view.ExpiresAt), SecondsLeft: secondsLeft(cfg.now(), view.ExpiresAt)})
	})
}

func handleRevealPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		rev, err := cfg.Lockout.RevealLink(r.Context(), token, visit(r))
		if err != nil {
			linkErrorPage(w, r, cfg, err)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "reveal", "Your backup code", linkData{Token: token, Reveal: rev, ExpiresIn: minutesLeft(language(r), cfg.now(), rev.ExpiresAt), SecondsLeft: secondsLeft(cfg.now(), rev.ExpiresAt)})
	})
}

func linkErrorPage(w http.ResponseWriter, r *http.Request, cfg Config, err error) {
	switch sparekey.ErrorCode(err) {
	case sparekey.ELINKEXPIRED:
		// The heading says it expired; the lead says why, unless the
		// message only says the same (then the page's own lead does).
		msg := sparekey.ErrorMessage(err)
		if strings.HasPrefix(msg, "This link has expired") {
			msg = ""
		}
		render(w, r, cfg.Logger, http.StatusGone, "link_expired", "This link has expired", getCodeData{Error: msg})
	case sparekey.ELINKNOTFOUND:
		render(w, r, cfg.Logger, http.StatusNotFound, "link_unknown", "Link not found", getCodeData{})
	case sparekey.EFORBIDDEN, sparekey.ENOTFOUND:
		render(w, r, cfg.Logger, http.StatusNotFound, "link_unknown", "Link not found", getCodeData{})
	default:
		cfg.Logger.Error("backup link page", "err", err)
		render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
	}
}

type revealResponse struct {
	ExpiresAt time.Time            `json:"expires_at"`
	Codes     []lockout.BackupCode `json:"codes"`
}

func handleRevealLink(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rev, err := cfg.Lockout.RevealLink(r.Context(), r.PathValue("token"), visit(r))
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, revealResponse{ExpiresAt: rev.ExpiresAt.UTC().Truncate(time.Second), Codes: rev.Codes})
	})
}

// minutesLeft says how long a link has left, to the nearest minute.
func secondsLeft(now, expires time.Time) int { return max(int(expires.Sub(now)/time.Second), 0) }

func minutesLeft(lang string, now, expires time.Time) string {
	d := expires.Sub(now)
	switch {
	case d <= time.Minute:
		return translate(lang, "less than a minute")
	case d < 2*time.Minute:
		return translate(lang, "1 minute")
	}
	return translate(lang, "%d minutes", int(d.Round(time.Minute)/time.Minute)) // 29:55 left reads "30 minutes"
}
