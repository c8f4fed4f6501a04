package web

import (
	"fmt"
	"net/http"
	"time"

	"sparekey"
	"sparekey/access"
	"sparekey/upkeep"
)

// lockHealth is one row of the lock health page.
type lockHealth struct {
	*access.LockInfo
	Jams30 upkeep.JamCount // jams in the last 30 days
	Issues []string        // what needs attention, worst first; empty when healthy
	Bad    bool            // jammed, offline or failing slots
}

// lowBattery is the battery percentage under which a lock needs new
// batteries soon.
const lowBattery = 20

func healthOf(info *access.LockInfo) lockHealth {
	h := lockHealth{LockInfo: info}
	l := info.Lock
	if l.State == sparekey.LockStateJammed {
		h.Issues, h.Bad = append(h.Issues, "jammed"), true
	}
	if !l.Online {
		h.Issues, h.Bad = append(h.Issues, "offline"), true
	}
	if l.Battery >= 0 && l.Battery < lowBattery {
		h.Issues = append(h.Issues, fmt.Sprintf("battery low (%d%%)", l.Battery))
	}
	if info.SlotsFailed > 0 {
		h.Issues, h.Bad = append(h.Issues, fmt.Sprintf("%d codes failing to sync", info.SlotsFailed)), true
	}
	if info.PoolReady == 0 {
		h.Issues = append(h.Issues, "no backup code ready")
	}
	return h
}

// jamIssues says a door jams often: 3 jams or more in 30 days that no
// resolved work order has answered yet (a fix starts the count anew, as it
// does for the jam rule).
func jamIssues(c upkeep.JamCount) []string {
	switch {
	case c.SinceFix < 3:
		return nil
	case c.FixedBy != 0:
		return []string{fmt.Sprintf("%d jams since work order #%d was resolved", c.SinceFix, c.FixedBy)}
	}
	return []string{fmt.Sprintf("%d jams in 30 days", c.SinceFix)}
}

type lockHealthPage struct {
	Locks     []lockHealth
	Attention int
	Loc       *time.Location
}

func handleConsoleLocks(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		infos, err := cfg.Locks.Locks(r.Context())
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		data := lockHealthPage{Loc: consoleLocation(r, cfg)}
		var ids []int64
		for _, info := range infos {
			if p.allowed(info.PropertyID) {
				ids = append(ids, info.Lock.ID)
			}
		}
		jams, err := cfg.Upkeep.JamCounts(r.Context(), ids)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		var fine []lockHealth
		for _, info := range infos {
			if !p.allowed(info.PropertyID) {
				continue
			}
			h := healthOf(info)
			h.Jams30 = jams[info.Lock.ID]
			h.Issues = append(h.Issues, jamIssues(h.Jams30)...)
			if len(h.Issues) > 0 {
				data.Locks = append(data.Locks, h)
				data.Attention++
			} else {
				fine = append(fine, h)
			}
		}
		data.Locks = append(data.Locks, fine...) // those needing attention first
		renderConsole(w, r, cfg, http.StatusOK, "console_locks", "Lock health", "locks", consolePage{Data: data})
	})
}

type doorPage struct {
	*upkeep.History
	Health lockHealth
	Chart  chart
	Active *upkeep.Listed // the open work order, if any
}

func handleConsoleDoor(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r)
		h, err := cfg.Upkeep.DoorHistory(r.Context(), r.PathValue("lock"), p.allowed)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		info, err := cfg.Locks.LockInfo(r.Context(), h.Lock.Device)
		if err != nil {
			consoleError(w, r, cfg, err)
			return
		}
		data := doorPage{History: h, Health: healthOf(info), Chart: jamChart(h.Weeks, h.Location)}
		data.Health.Jams30 = h.Jams30
		data.Health.Issues = append(data.Health.Issues, jamIssues(h.Jams30)...)
		for i := range h.WorkOrders {
			if h.WorkOrders[i].Status != sparekey.WorkOrderResolved {
				data.Active = &h.WorkOrders[i]
			}
		}
		renderConsole(w, r, cfg, http.StatusOK, "console_door", h.Lock.Name+", unit "+h.Unit.Name, "locks", consolePage{Data: data})
	})
}

// chart is the jams-per-week bar chart, drawn on the server as SVG.
type chart struct {
	Width, Height, Base int
	Bars                []bar
	Max                 int
	Label               string // the chart in words, for screen readers
}

type bar struct {
	X, Y, W, H int
	N          int
	Label      string // week's start, e.g. "Nov 2"
	ShowLabel  bool
	Anchor     string // the label's text-anchor: the first starts at its bar, so it fits
	Title      string
}

func jamChart(weeks []upkeep.Week, loc *time.Location) chart {
	c := chart{Width: 360, Height: 150, Base: 122}
	for _, w := range weeks {
		c.Max = max(c.Max, w.Jams)
	}
	scale := max(c.Max, 3)
	step := (c.Width - 24) / max(len(weeks), 1) // room for the last label
	total := 0
	for i, w := range weeks {
		h := w.Jams * 100 / scale
		if w.Jams > 0 {
			h = max(h, 4)
		}
		label := w.Start.In(loc).Format("Jan 2")
		c.Bars = append(c.Bars, bar{X: i*step + 4, Y: c.Base - h, W: step - 8, H: h, N: w.Jams,
			Label: label, ShowLabel: i%3 == 0 || i == len(weeks)-1, Anchor: map[bool]string{true: "start", false: "middle"}[i == 0],
			Title: fmt.Sprintf("Week of %s: %d jams", label, w.Jams)})
		total += w.Jams
	}
	c.Label = fmt.Sprintf("Jams per week over the last %d weeks: %d in all, at most %d in one week.", len(weeks), total, c.Max)
	return c
}
