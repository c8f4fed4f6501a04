package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sparekey"
	"sparekey/roster"
	"sparekey/upkeep"
)

// maxUpload is the largest roster file the console takes.
const maxUpload = 8 << 20

type residentsPage struct {
	Properties []propertyUnits
	Form       roster.Newcomer // the move-in form as typed, after an error
	Loc        *time.Location
}

type propertyUnits struct {
	Property *sparekey.Property
	Units    []roster.UnitListing
}

func (cfg Config) residentsData(r *http.Request) (residentsPage, error) {
	p := principalOf(r)
	props, err := cfg.Staff.Properties(r.Context(), p.properties())
	if err != nil {
		return residentsPage{}, err
	}
	data := residentsPage{Loc: consoleLocation(r, cfg), Form: roster.Newcomer{Welcome: true}}
	for _, prop := range props {
		units, err := cfg.Directory.Units(r.Context(), prop.ID)
		if err != nil {
			return residentsPage{}, err
		}
		data.Properties = append(data.Properties, propertyUnits{Property: prop, Units: units})
	}
	return data, nil
}

func handleConsoleResidents(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := cfg.residentsData(r)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		renderConsole(w, r, cfg, http.StatusOK, "console_residents", "Residents", "residents", consolePage{Data: data})
	})
}

// residentsError shows the residents page again with what went wrong.
func residentsError(w http.ResponseWriter, r *http.Request, cfg Config, form roster.Newcomer, err error) {
	if code := sparekey.ErrorCode(err); code != sparekey.EINVALID && code != sparekey.ECONFLICT && code != sparekey.ETOOLARGE {
		consoleError(w, r, cfg, err)
		return
	}
	data, derr := cfg.residentsData(r)
	if derr != nil {
		consoleError(w, r, cfg, derr)
		return
	}
	data.Form = form
	renderConsole(w, r, cfg, httpStatus(err), "console_residents", "Residents", "residents",
		consolePage{Error: sparekey.ErrorMessage(err), Data: data})
}

func handleConsoleMoveIn(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		n := roster.Newcomer{Unit: r.PostFormValue("unit"), Name: r.PostFormValue("name"),
			Email: r.PostFormValue("email"), Phone: r.PostFormValue("phone"), Welcome: r.PostFormValue("welcome") == "yes"}
		id, err := strconv.ParseInt(r.PostFormValue("property"), 10, 64)
		if err != nil || !p.allowed(id) {
			residentsError(w, r, cfg, n, sparekey.Errorf(sparekey.EINVALID, "Pick one of your properties."))
			return
		}
		n.PropertyID = id
		if _, err := cfg.Directory.MoveIn(r.Context(), n, p.actor()); err != nil {
			residentsError(w, r, cfg, n, err)
			return
		}
		http.Redirect(w, r, "/console/residents?done=moved_in", http.StatusSeeOther)
	})
}

func handleConsoleImport(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		// requireConsole parsed the multipart form for its CSRF check.
		f, _, err := r.FormFile("roster")
		if err != nil {
			msg := "Choose a CSV file to import."
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) || strings.Contains(err.Error(), "too large") {
				msg = fmt.Sprintf("The file is larger than %d MiB.", maxUpload>>20)
			}
			residentsError(w, r, cfg, roster.Newcomer{Welcome: true}, sparekey.Errorf(sparekey.EINVALID, "%s", msg))
			return
		}
		defer f.Close()
		n, err := cfg.Directory.Import(r.Context(), f, p.allowed, p.actor(), r.FormValue("welcome") == "yes")
		if err != nil {
			if code := sparekey.ErrorCode(err); code == sparekey.EINVALID || code == sparekey.ECONFLICT {
				err = sparekey.Errorf(code, "%s (nothing was imported)", sparekey.ErrorMessage(err))
			}
			residentsError(w, r, cfg, roster.Newcomer{Welcome: true}, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/console/residents?done=imported&n=%d", n), http.StatusSeeOther)
	})
}

func handleConsoleMoveOut(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.ENOTFOUND, "No such resident."))
			return
		}
		if r.PostFormValue("confirm") != "yes" {
			// One tap ends someone's access to their home: ask first.
			renderConsole(w, r, cfg, http.StatusOK, "console_moveout", "Move out?", "residents",
				consolePage{Data: moveOutPage{ID: id, Name: r.PostFormValue("name")}})
			return
		}
		if _, _, err := cfg.Directory.MoveOut(r.Context(), id, p.allowed, p.actor()); err != nil {
			residentsError(w, r, cfg, roster.Newcomer{Welcome: true}, err)
			return
		}
		http.Redirect(w, r, "/console/residents?done=moved_out", http.StatusSeeOther)
	})
}

type moveOutPage struct {
	ID   int64
	Name string // as the residents page named them; shown only
}

// The audit log.

type auditPage struct {
	Events []*sparekey.AuditEvent
	Filter auditForm
	Loc    *time.Location
	Names  map[string]string // people among actors and subjects ("staff:2", "resident:3") by name
}

type auditForm struct {
	Action, Actor, Subject, From, To string
}

func handleConsoleAudit(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		q := r.URL.Query()
		form := auditForm{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
			Subject: strings.TrimSpace(q.Get("subject")), From: q.Get("from"), To: q.Get("to")}
		loc := consoleLocation(r, cfg)
		f := sparekey.AuditFilter{ActionPrefix: form.Action, Actor: form.Actor, Subject: form.Subject, Limit: 200}
		var err error
		if f.Since, err = day(form.From, loc, 0); err == nil {
			f.Until, err = day(form.To, loc, 1)
		}
		data := auditPage{Filter: form, Loc: loc}
		if err != nil {
			renderConsole(w, r, cfg, http.StatusBadRequest, "console_audit", "Audit log", "audit", consolePage{Error: err.Error(), Data: data})
			return
		}
		var allowed func(int64) bool
		if !p.admin() {
			allowed = p.allowed
		}
		if data.Events, err = cfg.Audit.Search(r.Context(), f, allowed); err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		if data.Names, err = cfg.Audit.Names(r.Context(), data.Events); err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		renderConsole(w, r, cfg, http.StatusOK, "console_audit", "Audit log", "audit", consolePage{Data: data})
	})
}

// day parses a YYYY-MM-DD date in loc, plus days; "" is the zero time.
func day(s string, loc *time.Location, plus int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("Dates are written like 2026-11-26, not %q.", s)
	}
	return t.AddDate(0, 0, plus), nil
}

// Settings: each property's jam rule.

type settingsPage struct {
	Properties []settingsProperty
}

// settingsProperty is a property with its jam rule in the words the audit
// log uses for it.
type settingsProperty struct {
	*sparekey.Property
	Rule string
}

func newSettingsPage(props []*sparekey.Property) settingsPage {
	var page settingsPage
	for _, p := range props {
		page.Properties = append(page.Properties, settingsProperty{Property: p, Rule: upkeep.DescribeRule(p.JamRule)})
	}
	return page
}

func handleConsoleSettings(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		props, err := cfg.Staff.Properties(r.Context(), principalOf(r).properties())
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		renderConsole(w, r, cfg, http.StatusOK, "console_settings", "Settings", "settings", consolePage{Data: newSettingsPage(props)})
	})
}

func handleConsoleJamRule(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || !p.allowed(id) {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.ENOTFOUND, "No such property."))
			return
		}
		num := func(name string) int {
			n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
			if err != nil {
				return -1
			}
			return n
		}
		rule := sparekey.JamRule{Jams: num("jams"), Window: time.Duration(num("days")) * 24 * time.Hour,
			Uncleared: time.Duration(num("minutes")) * time.Minute}
		if err := cfg.Upkeep.SetJamRule(r.Context(), id, rule, p.actor()); err != nil {
			if sparekey.ErrorCode(err) != sparekey.EINVALID {
				consoleError(w, r, cfg, err)
				return
			}
			props, perr := cfg.Staff.Properties(r.Context(), p.properties())
			if perr != nil {
				consoleError(w, r, cfg, perr)
				return
			}
			renderConsole(w, r, cfg, http.StatusBadRequest, "console_settings", "Settings", "settings",
				consolePage{Error: sparekey.ErrorMessage(err), Data: newSettingsPage(props)})
			return
		}
		http.Redirect(w, r, "/console/settings?done=rule_saved", http.StatusSeeOther)
	})
}
