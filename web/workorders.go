package web

import (
	"net/http"
	"strconv"
	"time"

	"sparekey"
	"sparekey/lockout"
	"sparekey/upkeep"
)

type workOrderResponse struct {
	ID         int64      `json:"id"`
	Lock       string     `json:"lock"`
	Unit       string     `json:"unit"`
	Kind       string     `json:"kind"`
	Status     string     `json:"status"`
	JamCount   int        `json:"jam_count"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Source     string     `json:"source"`
	Summary    string     `json:"summary"`
	AssigneeID int64      `json:"assignee_id,omitempty"`
	Resolution string     `json:"resolution,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	HealthyOps int        `json:"healthy_ops"`
}

func workOrderJSON(wo *sparekey.WorkOrder, lock, unit string) workOrderResponse {
	return workOrderResponse{ID: wo.ID, Lock: lock, Unit: unit, Kind: wo.Kind, Status: string(wo.Status),
		JamCount: wo.JamCount, CreatedAt: wo.CreatedAt, UpdatedAt: wo.UpdatedAt, Source: wo.Source,
		Summary: wo.Summary, AssigneeID: wo.AssigneeID, Resolution: wo.Resolution,
		StartedAt: wo.StartedAt, ResolvedAt: wo.ResolvedAt, HealthyOps: wo.HealthyOps}
}

type workOrderNoteResponse struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
}

type workOrderDetailResponse struct {
	workOrderResponse
	Notes []workOrderNoteResponse `json:"notes"`
}

// handleListWorkOrders lists the work orders the caller may see, newest
// first; ?status= and ?lock= filter. status=all, as the console's filter
// says it, is the same as none.
func handleListWorkOrders(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := sparekey.WorkOrderStatus(r.URL.Query().Get("status"))
		if status == "all" {
			status = ""
		}
		if status != "" && !status.Valid() {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EINVALID, "status must be open, in_progress, resolved or all."))
			return
		}
		orders, err := cfg.Upkeep.WorkOrders(r.Context(), sparekey.WorkOrderFilter{
			PropertyIDs: principalOf(r).properties(), Status: status, Limit: 1000})
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		lock := r.URL.Query().Get("lock")
		out := []workOrderResponse{}
		for _, o := range orders {
			if lock == "" || o.Lock == lock {
				out = append(out, workOrderJSON(o.WorkOrder, o.Lock, o.Unit))
			}
		}
		encode(w, http.StatusOK, out)
	})
}

func handleGetWorkOrder(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.ENOTFOUND, "work order %s not found", r.PathValue("id")))
			return
		}
		d, err := cfg.Upkeep.WorkOrder(r.Context(), id, principalOf(r).allowed)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		out := workOrderDetailResponse{workOrderResponse: workOrderJSON(d.WorkOrder, d.Lock.Device, d.Unit.Name), Notes: []workOrderNoteResponse{}}
		for _, n := range d.Notes {
			out.Notes = append(out.Notes, workOrderNoteResponse{At: n.At, Author: n.Author, Kind: n.Kind, Text: n.Text})
		}
		encode(w, http.StatusOK, out)
	})
}

// handleCreateWorkOrder opens a work order on a lock: 201, or 200 with the
// order already open for that lock, the note added to it.
func handleCreateWorkOrder(cfg Config) http.Handler {
	type request struct {
		Lock string `json:"lock"`
		Note string `json:"note"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		if req.Lock == "" {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EINVALID, `Name the lock: {"lock": "unit-101-front", "note": "…"}.`))
			return
		}
		p := principalOf(r)
		wo, opened, err := cfg.Upkeep.Open(r.Context(), upkeep.StaffReport{Lock: req.Lock, Note: req.Note, Actor: p.actor(), Allowed: p.allowed})
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		status := http.StatusOK
		if opened {
			status = http.StatusCreated
		}
		d, err := cfg.Upkeep.WorkOrder(r.Context(), wo.ID, p.allowed)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, status, workOrderJSON(d.WorkOrder, d.Lock.Device, d.Unit.Name))
	})
}

// handleUpdateWorkOrder changes a work order's status or assignee, or adds
// a note.
func handleUpdateWorkOrder(cfg Config) http.Handler {
	type request struct {
		Status     *sparekey.WorkOrderStatus `json:"status"`
		AssigneeID *int64                    `json:"assignee_id"`
		Note       string                    `json:"note"`
		Resolution string                    `json:"resolution"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.ENOTFOUND, "work order %s not found", r.PathValue("id")))
			return
		}
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		p := principalOf(r)
		if _, err := cfg.Upkeep.Update(r.Context(), id, upkeep.Change{Status: req.Status, AssigneeID: req.AssigneeID,
			Note: req.Note, Resolution: req.Resolution, Actor: p.actor(), Allowed: p.allowed}); err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		d, err := cfg.Upkeep.WorkOrder(r.Context(), id, p.allowed)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		encode(w, http.StatusOK, workOrderJSON(d.WorkOrder, d.Lock.Device, d.Unit.Name))
	})
}

// Residents' Notify maintenance, from a backup link.

type reportedView struct {
	Door    string // the door's name
	Unit    string
	ID      int64
	Opened  bool
	Working bool // someone is on it already: the order is in progress
	Token   string
	Contact []lockout.Help
}

func handleLinkReportPage(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		if _, err := cfg.Lockout.ViewLink(r.Context(), token, visit(r)); err != nil {
			linkErrorPage(w, r, cfg, err)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "report", "Notify maintenance", reportedView{Token: token})
	})
}

func handleLinkReport(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		note := r.PostFormValue("note")
		id, err := cfg.Lockout.LinkHolder(r.Context(), token, visit(r))
		if err != nil {
			linkErrorPage(w, r, cfg, err)
			return
		}
		rep, err := cfg.Upkeep.Report(r.Context(), upkeep.ResidentReport{ResidentID: id, Note: note, Via: "backup link", Language: language(r)})
		if err != nil {
			if sparekey.ErrorCode(err) == sparekey.EINVALID {
				render(w, r, cfg.Logger, http.StatusBadRequest, "report", "Notify maintenance", reportedView{Token: token})
				return
			}
			linkErrorPage(w, r, cfg, err)
			return
		}
		render(w, r, cfg.Logger, http.StatusOK, "report_sent", "Maintenance notified",
			reportedView{Door: rep.LockName, Unit: rep.Unit, ID: rep.WorkOrder.ID, Opened: rep.Opened, Token: token,
				Working: rep.WorkOrder.Status == sparekey.WorkOrderInProgress})
	})
}

func handleReportLink(cfg Config) http.Handler {
	type request struct {
		Note string `json:"note"`
	}
	type response struct {
		WorkOrder int64  `json:"work_order"`
		Opened    bool   `json:"opened"`
		Door      string `json:"door"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](w, r)
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		id, err := cfg.Lockout.LinkHolder(r.Context(), r.PathValue("token"), visit(r))
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		rep, err := cfg.Upkeep.Report(r.Context(), upkeep.ResidentReport{ResidentID: id, Note: req.Note, Via: "backup link", Language: language(r)})
		if err != nil {
			writeError(w, r, cfg.Logger, err)
			return
		}
		status := http.StatusOK
		if rep.Opened {
			status = http.StatusCreated
		}
		encode(w, status, response{WorkOrder: rep.WorkOrder.ID, Opened: rep.Opened, Door: rep.Door})
	})
}
