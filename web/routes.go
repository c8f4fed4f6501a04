package web

import "net/http"

func addRoutes(mux *http.ServeMux, cfg Config) {
	links := newWindowLimiter(cfg.LinkLimit, cfg.Clock)

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /api/v1/openapi.json", handleOpenAPI())
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", requireStaff(cfg, cfg.Metrics))
	}
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /{$}", handleHomePage())

	// The locked-out flow: public, no sign-in.
	mux.Handle("GET /support/locked-out", handleWizardPage(cfg))
	mux.Handle("GET /support/locked-out/code", handleGetCodePage(cfg))
	mux.Handle("POST /support/locked-out/code", handleGetCodeForm(cfg))
	mux.Handle("POST /api/v1/backup-code-requests", handleCreateBackupCodeRequest(cfg))
	mux.Handle("GET /b/{token}", limitLinks(cfg, links, handleLinkPage(cfg)))
	mux.Handle("POST /b/{token}", limitLinks(cfg, links, handleRevealPage(cfg)))
	mux.Handle("POST /api/v1/backup-links/{token}/reveal", limitLinks(cfg, links, handleRevealLink(cfg)))

	// Staff API.
	mux.Handle("GET /api/v1/locks", requireStaff(cfg, handleListLocks(cfg)))
	mux.Handle("GET /api/v1/locks/{lock}", requireStaff(cfg, handleGetLock(cfg)))
	mux.Handle("GET /api/v1/locks/{lock}/events", requireStaff(cfg, handleLockEvents(cfg)))
	mux.Handle("POST /api/v1/locks/{lock}/unlock", requireStaff(cfg, handleOperateLock(cfg, true)))
	mux.Handle("POST /api/v1/locks/{lock}/lock", requireStaff(cfg, handleOperateLock(cfg, false)))
	mux.Handle("POST /api/v1/residents/move-out", requireStaff(cfg, handleMoveOut(cfg)))

	// Demo-only tools; 404 unless serve --demo.
	mux.Handle("GET /api/v1/dev/outbox", devOnly(cfg, handleDevOutbox(cfg)))
	mux.Handle("GET /dev/outbox", devOnly(cfg, handleDevOutboxPage(cfg)))
	mux.Handle("POST /api/v1/dev/clock", devOnly(cfg, handleDevClock(cfg)))
	mux.Handle("POST /api/v1/dev/locks/{lock}/keypad", devOnly(cfg, handleDevKeypad(cfg)))
	mux.Handle("POST /api/v1/dev/locks/{lock}/state", devOnly(cfg, handleDevLockState(cfg)))

	// Staff API, continued: work orders arrive with the jam rule; until
	// then there are none.
	mux.Handle("GET /api/v1/work-orders", requireStaff(cfg, handleListWorkOrders(cfg)))

	mux.Handle("/", handleNotFound())
}
