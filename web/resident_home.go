package web

import (
	"net/http"

	"sparekey"
	"sparekey/resident"
	"sparekey/upkeep"
)

// A signed-in resident's pages: Home, Access, More, and Notify
// maintenance.

func handleResidentHome(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderResidentHome(w, r, cfg, http.StatusOK, operateErrors[r.URL.Query().Get("failed")])
	})
}

func renderResidentHome(w http.ResponseWriter, r *http.Request, cfg Config, status int, errMsg string) {
	h, err := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
	if err != nil {
		cfg.Logger.Error("resident home", "err", err)
		render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
		return
	}
	m := memberOf(r)
	p := page{Title: "Home", Tab: "home", Resident: m.resident.FirstName(),
		Data: residentPage{CSRF: csrfToken(cfg, m.session), Done: r.URL.Query().Get("done"), Error: errMsg, Data: h}}
	renderPage(w, r, cfg.Logger, status, "app_home", p)
}

func handleResidentOperate(cfg Config, unlock bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := cfg.Residents.Operate(r.Context(), memberOf(r).resident.ID, r.PathValue("lock"), unlock)
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("resident lock operation", "err", err)
			}
			// A known failure is said on Home's own address, so that
			// reloading the page does not send the command again.
			if code := sparekey.ErrorCode(err); operateErrors[code] != "" {
				http.Redirect(w, r, "/app?failed="+code, http.StatusSeeOther)
				return
			}
			renderResidentHome(w, r, cfg, httpStatus(err), sparekey.ErrorMessage(err))
			return
		}
		done := "locked"
		if unlock {
			done = "unlocked"
		}
		http.Redirect(w, r, "/app?done="+done, http.StatusSeeOther)
	})
}

// operateErrors are what a resident reads when Lock or Unlock fails: fixed
// texts, so they can be translated.
var operateErrors = map[string]string{
	sparekey.ELOCKOFFLINE: "The app can't reach your door right now. Your code and backup codes still work on the keypad.",
	sparekey.ELOCKJAMMED:  "Your door is jammed: no button or code can move the bolt. Push or pull the door toward the frame while you enter your code, or notify maintenance.",
	sparekey.ELOCKTIMEOUT: "The lock didn't answer in time. Try again in a moment.",
	sparekey.ELOCKFAILED:  "The lock refused the command. Try again in a moment.",
	sparekey.EINTERNAL:    "That didn't work on our side. Please try again in a moment.",
}

func handleResidentAccess(cfg Config, reveal bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := cfg.Residents.AccessCodes(r.Context(), memberOf(r).resident.ID, reveal, residentVisit(r))
		if err != nil {
			cfg.Logger.Error("resident access", "err", err)
			render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
			return
		}
		renderResident(w, r, cfg, http.StatusOK, "app_access", "Access", "access", a)
	})
}

func handleResidentMore(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderResident(w, r, cfg, http.StatusOK, "app_more", "More", "more", nil)
	})
}

// Notify maintenance from a signed-in resident's pages.

type reportForm struct {
	Doors []resident.Door
	Sent  *reportedView
}

func handleResidentReportPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
		if err != nil {
			cfg.Logger.Error("resident home", "err", err)
			render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
			return
		}
		renderResident(w, r, cfg, http.StatusOK, "app_report", "Notify maintenance", "more", reportForm{Doors: h.Doors})
	})
}

func handleResidentReport(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := cfg.Upkeep.Report(r.Context(), upkeep.ResidentReport{ResidentID: memberOf(r).resident.ID,
			Lock: r.PostFormValue("lock"), Note: r.PostFormValue("note"), Via: "app", Language: language(r)})
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINTERNAL {
				cfg.Logger.Error("resident report", "err", err)
			}
			h, herr := cfg.Residents.Home(r.Context(), memberOf(r).resident.ID)
			if herr != nil {
				render(w, r, cfg.Logger, http.StatusInternalServerError, "error", "Something went wrong", nil)
				return
			}
			m := memberOf(r)
			renderPage(w, r, cfg.Logger, httpStatus(err), "app_report", page{Title: "Notify maintenance", Tab: "more",
				Resident: m.resident.FirstName(), Data: residentPage{CSRF: csrfToken(cfg, m.session), Error: sparekey.ErrorMessage(err), Data: reportForm{Doors: h.Doors}}})
			return
		}
		renderResident(w, r, cfg, http.StatusOK, "app_report", "Maintenance notified", "more",
			reportForm{Sent: &reportedView{Door: rep.LockName, Unit: rep.Unit, ID: rep.WorkOrder.ID, Opened: rep.Opened,
				Working: rep.WorkOrder.Status == sparekey.WorkOrderInProgress}})
	})
}
