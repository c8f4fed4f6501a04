package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sparekey"
	"sparekey/locale"
	"sparekey/staff"
	"sparekey/upkeep"
)

// The staff console: server-rendered pages for the maintenance team and
// managers, usable on a phone and without JavaScript.

// consoleBar is what the console's header needs: who is signed in, the
// CSRF token for forms, and which tab is open.
type consoleBar struct {
	Name, Role, CSRF, Tab string
	Manager               bool
}

// consolePage is the data of every console page.
type consolePage struct {
	Flash string // a one-line confirmation after a change
	Error string
	Data  any
}

func renderConsole(w http.ResponseWriter, r *http.Request, cfg Config, status int, name, title, tab string, data consolePage) {
	p := principalOf(r)
	bar := &consoleBar{Tab: tab, CSRF: csrfToken(cfg, p.session), Manager: p.manager()}
	if p.staff != nil {
		bar.Name, bar.Role = p.staff.Name, string(p.staff.Role)
	}
	if data.Flash == "" {
		q := r.URL.Query()
		data.Flash = flashes[q.Get("done")]
		if n, err := strconv.Atoi(q.Get("n")); err == nil && n > 0 && q.Get("done") == "imported" {
			data.Flash = fmt.Sprintf("Roster imported: %d residents added. Their access codes are on their way to the locks.", n)
			if n == 1 {
				data.Flash = "Roster imported: 1 resident added. Their access code is on its way to the lock."
			}
		}
	}
	renderPage(w, r, cfg.Logger, status, name, page{Title: title, Console: bar, Data: data})
}

// flashes are the confirmations a redirect after a change may show.
var flashes = map[string]string{
	"updated":    "Work order updated.",
	"opened":     "Work order opened. The maintenance team has been told.",
	"added":      "Note added to the open work order for this door.",
	"moved_in":   "Resident added. Their access code is on its way to the lock.",
	"moved_out":  "Resident moved out. Their codes are being cleared from the lock.",
	"imported":   "Roster imported.",
	"rule_saved": "Jam rule saved.",
}

// consoleError shows an error inside the console (or the sign-in page when
// nobody is signed in).
func consoleError(w http.ResponseWriter, r *http.Request, cfg Config, err error) {
	if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
		cfg.Logger.Error("internal error", "method", r.Method, "route", r.Pattern, "err", err)
	}
	status := httpStatus(err)
	if principalOf(r) == nil {
		renderPage(w, r, cfg.Logger, status, "console_error", page{Title: "Console", Staff: true, Data: consolePage{Error: sparekey.ErrorMessage(err)}})
		return
	}
	title := "Something went wrong"
	switch sparekey.ErrorCode(err) {
	case sparekey.EFORBIDDEN:
		title = "Not allowed"
	case sparekey.ENOTFOUND:
		title = "Not found"
	case sparekey.EINVALID, sparekey.ECONFLICT:
		title = "That didn't work"
	}
	renderConsole(w, r, cfg, status, "console_error", title, "", consolePage{Error: sparekey.ErrorMessage(err)})
}

func handleConsoleHome() http.Handler {
	return http.RedirectHandler("/console/work-orders", http.StatusSeeOther)
}

// staffSessionSeconds is the session cookie's life: the session's own
// (staff.Config.SessionTTL's default), so closing the browser keeps it.
const staffSessionSeconds = 12 * 3600

// safeNext keeps a post-sign-in redirect on the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) {
		return next
	}
	return "/console/work-orders"
}

func handleSignInPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := authenticate(cfg, r); p != nil && !p.admin() {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
		signInForm(w, r, cfg, http.StatusOK, "", "")
	})
}

type signInData struct {
	Email, Next, CSRF, Error string
	Demo                     bool
}

func signInForm(w http.ResponseWriter, r *http.Request, cfg Config, status int, email, msg string) {
	pre := preToken(w, r, cfg)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	renderPage(w, r, cfg.Logger, status, "console_signin", page{Title: "Staff sign-in", Staff: true, Data: signInData{
		Email: email, Next: safeNext(next), CSRF: csrfToken(cfg, pre), Error: msg, Demo: cfg.Dev != nil}})
}

// handleSignIn checks a staff member's password: at most ten tries a
// minute from one client, since each costs an argon2id hash (19 MiB).
func handleSignIn(cfg Config, limit *windowLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		email, password := r.PostFormValue("email"), r.PostFormValue("password")
		if !limit.allow(clientIP(r)) {
			w.Header().Set("Retry-After", "60")
			signInForm(w, r, cfg, http.StatusTooManyRequests, email, "Too many tries from your network. Wait a minute and try again.")
			return
		}
		pre, err := r.Cookie(preCookie)
		if err != nil || !validCSRF(cfg, pre.Value, r.PostFormValue(csrfField)) {
			signInForm(w, r, cfg, http.StatusForbidden, email, "This form expired. Please sign in again.")
			return
		}
		if cfg.Staff == nil {
			signInForm(w, r, cfg, http.StatusServiceUnavailable, email, "Staff sign-in is not available on this server.")
			return
		}
		token, _, err := cfg.Staff.SignIn(r.Context(), email, password, staff.Visit{IP: clientIP(r), UserAgent: r.UserAgent()})
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("sign in", "err", err)
			}
			signInForm(w, r, cfg, httpStatus(err), email, sparekey.ErrorMessage(err))
			return
		}
		setCookie(w, cfg, preCookie, "", -1)
		setCookie(w, cfg, sessionCookie, token, staffSessionSeconds)
		http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	})
}

func handleSignOut(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		if err := cfg.Staff.SignOut(r.Context(), p.session, staff.Visit{IP: clientIP(r), UserAgent: r.UserAgent()}); err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		setCookie(w, cfg, sessionCookie, "", -1)
		http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	})
}

// Work orders.

type workOrderList struct {
	Orders []upkeep.Listed
	Status string
	Counts map[string]int // by status, of what the principal may see
	Loc    *time.Location
}

func handleConsoleWorkOrders(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		status := r.URL.Query().Get("status")
		if status != "" && status != "all" && !sparekey.WorkOrderStatus(status).Valid() {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.EINVALID, "Status must be open, in_progress or resolved."))
			return
		}
		all, err := cfg.Upkeep.WorkOrders(r.Context(), sparekey.WorkOrderFilter{PropertyIDs: p.properties(), Limit: 500})
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		data := workOrderList{Status: status, Counts: map[string]int{}, Loc: consoleLocation(r, cfg)}
		for _, o := range all {
			data.Counts[string(o.Status)]++
			data.Counts["all"]++
			if status == "" && o.Status != sparekey.WorkOrderResolved || status == "all" || string(o.Status) == status {
				data.Orders = append(data.Orders, o)
			}
		}
		renderConsole(w, r, cfg, http.StatusOK, "console_workorders", "Work orders", "work-orders", consolePage{Data: data})
	})
}

type workOrderPage struct {
	*upkeep.Detail
	Loc      *time.Location
	Statuses []sparekey.WorkOrderStatus
	Names    map[string]string // note authors ("staff:2") by name
	Form     workOrderForm     // what the update form shows
}

// workOrderForm is the update form's values: the order's own, or what was
// typed when a save was refused, so nothing typed is lost.
type workOrderForm struct {
	Status     sparekey.WorkOrderStatus
	Resolution string
	Assignee   int64
	Note       string
}

func newWorkOrderPage(d *upkeep.Detail) workOrderPage {
	names := map[string]string{"system": "Sparekey", "staff:admin": "admin token"}
	for _, st := range d.Staff {
		names[fmt.Sprintf("staff:%d", st.ID)] = st.Name
	}
	for _, r := range d.Watchers {
		names[fmt.Sprintf("resident:%d", r.ID)] = r.Name + " (resident)"
	}
	return workOrderPage{Detail: d, Loc: location(d.Property), Names: names,
		Statuses: []sparekey.WorkOrderStatus{sparekey.WorkOrderOpen, sparekey.WorkOrderInProgress, sparekey.WorkOrderResolved},
		Form:     workOrderForm{Status: d.WorkOrder.Status, Resolution: d.WorkOrder.Resolution, Assignee: d.WorkOrder.AssigneeID}}
}

func handleConsoleWorkOrder(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.ENOTFOUND, "No such work order."))
			return
		}
		d, err := cfg.Upkeep.WorkOrder(r.Context(), id, principalOf(r).allowed)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		data := newWorkOrderPage(d)
		renderConsole(w, r, cfg, http.StatusOK, "console_workorder", fmt.Sprintf("Work order #%d", id), "work-orders", consolePage{Data: data})
	})
}

func handleConsoleUpdateWorkOrder(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			consoleError(w, r, cfg, sparekey.Errorf(sparekey.ENOTFOUND, "No such work order."))
			return
		}
		c := upkeep.Change{Note: r.PostFormValue("note"), Resolution: r.PostFormValue("resolution"), Actor: p.actor(), Allowed: p.allowed}
		if s := r.PostFormValue("status"); s != "" {
			st := sparekey.WorkOrderStatus(s)
			c.Status = &st
		}
		if a := r.PostFormValue("assignee"); a != "" {
			n, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				consoleError(w, r, cfg, sparekey.Errorf(sparekey.EINVALID, "Pick the assignee from the list."))
				return
			}
			c.AssigneeID = &n
		}
		if _, err := cfg.Upkeep.Update(r.Context(), id, c); err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINVALID || sparekey.ErrorCode(err) == sparekey.ECONFLICT {
				d, derr := cfg.Upkeep.WorkOrder(r.Context(), id, p.allowed)
				if derr == nil {
					data := newWorkOrderPage(d)
					data.Form.Resolution, data.Form.Note = r.PostFormValue("resolution"), r.PostFormValue("note")
					if c.Status != nil && c.Status.Valid() {
						data.Form.Status = *c.Status
					}
					if c.AssigneeID != nil {
						data.Form.Assignee = *c.AssigneeID
					}
					renderConsole(w, r, cfg, httpStatus(err), "console_workorder", fmt.Sprintf("Work order #%d", id), "work-orders",
						consolePage{Error: sparekey.ErrorMessage(err), Data: data})
					return
				}
			}
			consoleError(w, r, cfg, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/console/work-orders/%d?done=updated", id), http.StatusSeeOther)
	})
}

func handleConsoleOpenWorkOrder(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		wo, opened, err := cfg.Upkeep.Open(r.Context(), upkeep.StaffReport{Lock: r.PostFormValue("lock"),
			Note: r.PostFormValue("note"), Actor: p.actor(), Allowed: p.allowed})
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		done := "added"
		if opened {
			done = "opened"
		}
		http.Redirect(w, r, fmt.Sprintf("/console/work-orders/%d?done=%s", wo.ID, done), http.StatusSeeOther)
	})
}

// location is a property's time zone, UTC if it has none that loads.
func location(p *sparekey.Property) *time.Location {
	if p == nil {
		return time.UTC
	}
	return locale.Location(p.Timezone)
}

// consoleLocation is the time zone of the principal's first property: the
// console shows times as the property's staff live them.
func consoleLocation(r *http.Request, cfg Config) *time.Location {
	props, err := cfg.Staff.Properties(r.Context(), principalOf(r).properties())
	if err != nil || len(props) == 0 {
		return time.UTC
	}
	return location(props[0])
}

// query builds a console URL with query parameters, leaving out empty ones.
func query(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
