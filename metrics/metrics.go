// Package metrics exposes what operators watch, in Prometheus' text format:
// HTTP requests, Get Code answers and how long they took, lock events, and,
// read from the database at each scrape, messages by status, locks by
// state, code slots by sync status and unanswered requests. Counts read
// from the database are the same on every instance; counters are each
// instance's own.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sparekey"
)

// Config configures Metrics.
type Config struct {
	Store sparekey.Store
	// Connected reports whether the device adapter has its MQTT broker;
	// nil when there is no adapter.
	Connected func() bool
	// Instances counts the live instances sharing the database.
	Instances func() int
	Logger    *slog.Logger
}

// Metrics holds the instance's collectors. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	deviceEvents *prometheus.CounterVec
	answered     *prometheus.CounterVec
	workOrders   *prometheus.CounterVec
	answerWait   prometheus.Histogram
}

// New registers every collector.
func New(cfg Config) *Metrics {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparekey_http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sparekey_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		deviceEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparekey_device_events_total", Help: "Lock reports this instance handled as their lock's owner, by kind (keypad_unlock, jammed, offline, state, …); reports of devices that are no lock are counted too.",
		}, []string{"kind"}),
		workOrders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparekey_work_orders_opened_total", Help: "Work orders opened, by source (jam_rule: the jam rule fired; resident; staff).",
		}, []string{"source"}),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparekey_backup_requests_answered_total", Help: "Get Code requests the job answered, by outcome (sent, no_match, throttled, expired, failed).",
		}, []string{"outcome"}),
		answerWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sparekey_backup_request_answer_seconds", Help: "Time from a Get Code request to its answer (link made and messages queued): the job's latency.",
			Buckets: []float64{.25, .5, 1, 2, 3, 5, 10, 30, 60, 300},
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.deviceEvents, m.answered, m.workOrders, m.answerWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&dbCollector{cfg: cfg})
	if cfg.Connected != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparekey_mqtt_connected", Help: "1 while the device adapter is connected to its MQTT broker.",
		}, func() float64 { return boolFloat(cfg.Connected()) }))
	}
	if cfg.Instances != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sparekey_instances", Help: "Live instances sharing the database and the locks.",
		}, func() float64 { return float64(cfg.Instances()) }))
	}
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn)})
}

// ObserveRequest counts one HTTP request. route is the pattern, never the
// path, so link tokens never become label values.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	if route == "" || route == "/" {
		route = "unmatched"
	}
	switch method { // anyone can send any method: keep the label's values few
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// DeviceEvent counts a lock report this instance recorded.
func (m *Metrics) DeviceEvent(ev sparekey.DeviceEvent) {
	m.deviceEvents.WithLabelValues(string(ev.Kind)).Inc()
}

// WorkOrderOpened counts a work order opened, by source.
func (m *Metrics) WorkOrderOpened(source string) {
	m.workOrders.WithLabelValues(source).Inc()
}

// Answered counts an answered Get Code request and its wait.
func (m *Metrics) Answered(outcome string, waited time.Duration) {
	m.answered.WithLabelValues(outcome).Inc()
	m.answerWait.Observe(waited.Seconds())
}

// dbCollector reads the database's counts at each scrape.
type dbCollector struct{ cfg Config }

var (
	messagesDesc = prometheus.NewDesc("sparekey_messages", "Outbox messages by channel and status (queued, sent, failed = will retry, abandoned, expired = its link or code ran out unsent).",
		[]string{"channel", "status"}, nil)
	locksDesc = prometheus.NewDesc("sparekey_locks", "Locks by reported state (locked, unlocked, jammed, unknown).",
		[]string{"state"}, nil)
	onlineDesc     = prometheus.NewDesc("sparekey_locks_online", "Locks online.", nil, nil)
	lowBatteryDesc = prometheus.NewDesc("sparekey_locks_low_battery", "Locks reporting less than 20% battery.", nil, nil)
	slotsDesc      = prometheus.NewDesc("sparekey_code_slots", "Code slots by sync status: pending (not on the lock yet), synced, failed (flagged for staff).",
		[]string{"sync"}, nil)
	pendingDesc = prometheus.NewDesc("sparekey_backup_requests_pending", "Get Code requests not answered yet.", nil, nil)
	dbUpDesc    = prometheus.NewDesc("sparekey_database_up", "1 when the scrape could read the database.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{messagesDesc, locksDesc, onlineDesc, lowBatteryDesc, slotsDesc, pendingDesc, dbUpDesc} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st *sparekey.Stats
	err := c.cfg.Store.Read(ctx, func(tx sparekey.Tx) (err error) {
		st, err = tx.Stats(ctx)
		return err
	})
	if err != nil {
		c.cfg.Logger.Warn("metrics: cannot read the database", "err", err)
		ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 1)
	for _, channel := range []sparekey.Channel{sparekey.ChannelSMS, sparekey.ChannelEmail} {
		for _, status := range []sparekey.MessageStatus{sparekey.MessageQueued, sparekey.MessageSent, sparekey.MessageFailed, sparekey.MessageAbandoned, sparekey.MessageExpired} {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(st.Messages[channel][status]), string(channel), string(status))
		}
	}
	for _, state := range []sparekey.LockState{sparekey.LockStateLocked, sparekey.LockStateUnlocked, sparekey.LockStateJammed, sparekey.LockStateUnknown} {
		ch <- prometheus.MustNewConstMetric(locksDesc, prometheus.GaugeValue, float64(st.Locks[state]), string(state))
	}
	ch <- prometheus.MustNewConstMetric(onlineDesc, prometheus.GaugeValue, float64(st.LocksOnline))
	ch <- prometheus.MustNewConstMetric(lowBatteryDesc, prometheus.GaugeValue, float64(st.LocksLowBattery))
	for _, sync := range []sparekey.SyncStatus{sparekey.SyncPending, sparekey.SyncSynced, sparekey.SyncFailed} {
		ch <- prometheus.MustNewConstMetric(slotsDesc, prometheus.GaugeValue, float64(st.Slots[sync]), string(sync))
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(st.RequestsPending))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
