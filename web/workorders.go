package web

import (
	"net/http"
	"time"

	"sparekey"
)

type workOrderResponse struct {
	ID        int64     `json:"id"`
	Lock      string    `json:"lock"`
	Unit      string    `json:"unit"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	JamCount  int       `json:"jam_count"`
	CreatedAt time.Time `json:"created_at"`
}

// handleListWorkOrders lists work orders. The jam rule that opens them is
// not built yet, so the list is empty; the route, its auth and its filter
// are in place so clients can rely on them.
func handleListWorkOrders(cfg Config) http.Handler {
	statuses := map[string]bool{"": true, "open": true, "in_progress": true, "resolved": true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := r.URL.Query().Get("status"); !statuses[status] {
			writeError(w, r, cfg.Logger, sparekey.Errorf(sparekey.EINVALID, "status must be open, in_progress or resolved."))
			return
		}
		encode(w, http.StatusOK, []workOrderResponse{})
	})
}
