package web

import "net/http"

func addRoutes(mux *http.ServeMux, cfg Config) {
	links := newWindowLimiter(cfg.LinkLimit, cfg.Clock)

	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /api/v1/openapi.json", handleOpenAPI())
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", requireStaff(cfg, requireAdmin(cfg, cfg.Metrics)))
	}
	mux.Handle("GET /static/", handleStatic())
	mux.Handle("GET /{$}", handleHomePage())

	// The locked-out flow: public, no sign-in.
	mux.Handle("GET /support/locked-out", limitLinkParam(cfg, links, handleWizardPage(cfg)))
	mux.Handle("GET /support/locked-out/code", handleGetCodePage(cfg))
	mux.Handle("POST /support/locked-out/code", handleGetCodeForm(cfg))
	mux.Handle("POST /api/v1/backup-code-requests", handleCreateBackupCodeRequest(cfg))
	mux.Handle("GET /b/{token}", limitLinks(cfg, links, handleLinkPage(cfg)))
	mux.Handle("POST /b/{token}", limitLinks(cfg, links, handleRevealPage(cfg)))
	mux.Handle("POST /api/v1/backup-links/{token}/reveal", limitLinks(cfg, links, handleRevealLink(cfg)))
	// Notify maintenance, for a resident holding a live backup link.
	mux.Handle("GET /b/{token}/maintenance", limitLinks(cfg, links, handleLinkReportPage(cfg)))
	mux.Handle("POST /b/{token}/maintenance", limitLinks(cfg, links, handleLinkReport(cfg)))
	mux.Handle("POST /api/v1/backup-links/{token}/maintenance", limitLinks(cfg, links, handleReportLink(cfg)))

	// A resident's own pages: sign in with a code or link sent to the
	// account, then home, access and more.
	signIns := newWindowLimiter(10, cfg.Clock)
	mux.Handle("GET /app", requireResident(cfg, handleResidentHome(cfg)))
	mux.Handle("GET /app/sign-in", handleResidentSignInPage(cfg))
	mux.Handle("POST /app/sign-in", handleResidentSignIn(cfg, signIns))
	mux.Handle("GET /app/sign-in/code", handleResidentCodePage(cfg))
	mux.Handle("POST /app/sign-in/code", handleResidentCode(cfg))
	mux.Handle("GET /app/sign-in/link/{token}", limitLinks(cfg, links, handleResidentLinkPage(cfg)))
	mux.Handle("POST /app/sign-in/link/{token}", limitLinks(cfg, links, handleResidentLink(cfg)))
	mux.Handle("POST /app/sign-out", requireResident(cfg, handleResidentSignOut(cfg)))
	mux.Handle("POST /app/locks/{lock}/unlock", requireResident(cfg, handleResidentOperate(cfg, true)))
	mux.Handle("POST /app/locks/{lock}/lock", requireResident(cfg, handleResidentOperate(cfg, false)))
	mux.Handle("GET /app/access", requireResident(cfg, handleResidentAccess(cfg, false)))
	mux.Handle("POST /app/access", requireResident(cfg, handleResidentAccess(cfg, true)))
	mux.Handle("GET /app/more", requireResident(cfg, handleResidentMore(cfg)))
	mux.Handle("GET /app/maintenance", requireResident(cfg, handleResidentReportPage(cfg)))
	mux.Handle("POST /app/maintenance", requireResident(cfg, handleResidentReport(cfg)))

	// Staff API.
	mux.Handle("GET /api/v1/locks", requireStaff(cfg, handleListLocks(cfg)))
	mux.Handle("GET /api/v1/locks/{lock}", requireStaff(cfg, handleGetLock(cfg)))
	mux.Handle("GET /api/v1/locks/{lock}/events", requireStaff(cfg, handleLockEvents(cfg)))
	mux.Handle("POST /api/v1/locks/{lock}/unlock", requireStaff(cfg, handleOperateLock(cfg, true)))
	mux.Handle("POST /api/v1/locks/{lock}/lock", requireStaff(cfg, handleOperateLock(cfg, false)))
	mux.Handle("POST /api/v1/residents/move-out", requireStaff(cfg, requireManager(cfg, handleMoveOut(cfg))))

	// Demo-only tools; 404 unless serve --demo.
	mux.Handle("GET /api/v1/dev/outbox", devOnly(cfg, handleDevOutbox(cfg)))
	mux.Handle("GET /dev/outbox", devOnly(cfg, handleDevOutboxPage(cfg)))
	mux.Handle("POST /api/v1/dev/clock", devOnly(cfg, handleDevClock(cfg)))
	mux.Handle("POST /api/v1/dev/locks/{lock}/keypad", devOnly(cfg, handleDevKeypad(cfg)))
	mux.Handle("POST /api/v1/dev/locks/{lock}/state", devOnly(cfg, handleDevLockState(cfg)))

	// Staff API, continued: work orders.
	mux.Handle("GET /api/v1/work-orders", requireStaff(cfg, handleListWorkOrders(cfg)))
	mux.Handle("POST /api/v1/work-orders", requireStaff(cfg, handleCreateWorkOrder(cfg)))
	mux.Handle("GET /api/v1/work-orders/{id}", requireStaff(cfg, handleGetWorkOrder(cfg)))
	mux.Handle("PATCH /api/v1/work-orders/{id}", requireStaff(cfg, handleUpdateWorkOrder(cfg)))

	// The staff console: a session cookie, CSRF tokens on every form.
	mux.Handle("GET /console", handleConsoleHome())
	mux.Handle("GET /console/{$}", handleConsoleHome())
	mux.Handle("GET /console/sign-in", handleSignInPage(cfg))
	mux.Handle("POST /console/sign-in", handleSignIn(cfg, newWindowLimiter(10, cfg.Clock)))
	mux.Handle("POST /console/sign-out", requireConsole(cfg, handleSignOut(cfg)))
	mux.Handle("GET /console/work-orders", requireConsole(cfg, handleConsoleWorkOrders(cfg)))
	mux.Handle("POST /console/work-orders", requireConsole(cfg, handleConsoleOpenWorkOrder(cfg)))
	mux.Handle("GET /console/work-orders/{id}", requireConsole(cfg, handleConsoleWorkOrder(cfg)))
	mux.Handle("POST /console/work-orders/{id}", requireConsole(cfg, handleConsoleUpdateWorkOrder(cfg)))
	mux.Handle("GET /console/locks", requireConsole(cfg, handleConsoleLocks(cfg)))
	mux.Handle("GET /console/locks/{lock}", requireConsole(cfg, handleConsoleDoor(cfg)))
	mux.Handle("GET /console/residents", requireConsole(cfg, requireManager(cfg, handleConsoleResidents(cfg))))
	mux.Handle("POST /console/residents", requireConsole(cfg, requireManager(cfg, handleConsoleMoveIn(cfg))))
	mux.Handle("POST /console/residents/import", requireConsole(cfg, requireManager(cfg, handleConsoleImport(cfg))))
	mux.Handle("POST /console/residents/{id}/move-out", requireConsole(cfg, requireManager(cfg, handleConsoleMoveOut(cfg))))
	mux.Handle("GET /console/audit", requireConsole(cfg, requireManager(cfg, handleConsoleAudit(cfg))))
	mux.Handle("GET /console/settings", requireConsole(cfg, requireManager(cfg, handleConsoleSettings(cfg))))
	mux.Handle("POST /console/settings/properties/{id}/jam-rule", requireConsole(cfg, requireManager(cfg, handleConsoleJamRule(cfg))))

	mux.Handle("/", handleUnrouted(cfg, mux))
}
