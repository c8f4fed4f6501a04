package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"sparekey"
	"sparekey/access"
	"sparekey/audit"
	"sparekey/cluster"
	"sparekey/device"
	"sparekey/lockout"
	"sparekey/metrics"
	"sparekey/notify"
	"sparekey/resident"
	"sparekey/roster"
	"sparekey/staff"
	"sparekey/store"
	"sparekey/upkeep"
	"sparekey/web"
	"sparekey/z2m"
)

type serveConfig struct {
	addr, db, baseURL, adminToken, mqtt   string
	mqttTopic, mqttClientID               string
	zwave                                 zwaveHubs // Z-Wave JS server per hub name
	zwaveTLS                              *tls.Config
	zwavePing                             time.Duration
	instanceID                            string
	instanceTTL                           time.Duration
	demo                                  bool
	ipLimit, poolSize                     int
	smtp, smtpFrom                        string
	smsURL, smsAccount, smsToken, smsFrom string
	defaultRegion, secretKey, logLevel    string
	smsRegions                            []string
	trustedProxies                        []netip.Prefix
	showToken                             bool // print the admin token: the demo made it
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{zwave: zwaveHubs{}}
	fs := newFlagSet("serve", "", stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.db, "db", "sparekey.db", "SQLite file, or a postgres:// URL")
	fs.StringVar(&c.baseURL, "base-url", "", "public URL that links are built from (default http://<addr>)")
	fs.BoolVar(&c.demo, "demo", false, "seed the demo data, run the lock simulator, the dev outbox and the dev endpoints")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer token with full staff rights on the API (demo: a random one is printed)")
	fs.StringVar(&c.mqtt, "mqtt", "", "MQTT broker URL for real Zigbee2MQTT locks, e.g. mqtt://user:pass@broker:1883")
	fs.StringVar(&c.mqttTopic, "mqtt-topic", "zigbee2mqtt", "Zigbee2MQTT's base topic")
	fs.StringVar(&c.mqttClientID, "mqtt-client-id", "", "MQTT client ID, the same across restarts so lock events sent while Sparekey is down are kept for it (default sparekey-<host>-<port>)")
	fs.Var(c.zwave, "zwave", "Z-Wave JS server of a hub, NAME=ws://host:port (repeatable; comma-separated in SPAREKEY_ZWAVE): its locks are zwave://NAME/NODE")
	zwaveCA := fs.String("zwave-ca", "", "PEM file of the CA that signed the wss:// Z-Wave JS servers' (or their TLS proxy's) certificates (default: the system's CAs)")
	zwaveCert := fs.String("zwave-cert", "", "PEM client certificate for wss:// Z-Wave JS servers behind a proxy that requires one (with --zwave-key)")
	zwaveKey := fs.String("zwave-key", "", "PEM private key of --zwave-cert")
	fs.DurationVar(&c.zwavePing, "zwave-ping", 30*time.Second, "how often a Z-Wave lock that reported nothing meanwhile is pinged: zwave-js notices a dead lock only when a command to it fails")
	fs.IntVar(&c.ipLimit, "ip-limit", 10, "Get Code requests a minute from one IP (0 turns it off)")
	fs.IntVar(&c.poolSize, "pool-size", 3, "backup codes kept programmed on every lock")
	fs.StringVar(&c.smtp, "smtp", "", "SMTP server for email, smtp://user:pass@host:587 or smtps://host:465")
	fs.StringVar(&c.smtpFrom, "smtp-from", "Sparekey <sparekey@localhost>", "From address of emails")
	fs.StringVar(&c.smsURL, "sms-url", "", "base URL of a Twilio-compatible SMS API, e.g. https://api.twilio.com")
	fs.StringVar(&c.smsAccount, "sms-account", "", "SMS API account SID")
	fs.StringVar(&c.smsToken, "sms-token", "", "SMS API auth token")
	fs.StringVar(&c.smsFrom, "sms-from", "", "SMS sender number in E.164")
	fs.StringVar(&c.defaultRegion, "default-region", "US", "region for phone numbers typed without a country code")
	proxies := fs.String("trusted-proxies", "", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client")
	smsRegions := fs.String("sms-regions", "", "comma-separated regions Sparekey may text, e.g. US,CA (default: --default-region)")
	fs.StringVar(&c.secretKey, "secret-key", "", "32-byte master key, hex or base64 (default: a 0600 key file next to the SQLite file)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.instanceID, "instance-id", "", "this instance's name among several on one database (default: host name and a random suffix)")
	fs.DurationVar(&c.instanceTTL, "instance-ttl", 15*time.Second, "how long a silent instance keeps its locks before the others take them over")
	rest, err := envFlags(fs, args, getenv)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("serve takes no arguments, got %q", rest)
	}
	if !phonenumbers.GetSupportedRegions()[strings.ToUpper(c.defaultRegion)] {
		return nil, fmt.Errorf("--default-region %q is not a region code such as US or GB", c.defaultRegion)
	}
	c.defaultRegion = strings.ToUpper(c.defaultRegion)
	for _, r := range strings.Split(*smsRegions, ",") {
		if r = strings.ToUpper(strings.TrimSpace(r)); r == "" {
			continue
		} else if !phonenumbers.GetSupportedRegions()[r] {
			return nil, fmt.Errorf("--sms-regions: %q is not a region code such as US or GB", r)
		}
		c.smsRegions = append(c.smsRegions, r)
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.trustedProxies = append(c.trustedProxies, prefix.Masked())
	}
	if c.ipLimit < 0 {
		return nil, fmt.Errorf("--ip-limit must be 0 or more")
	}
	if c.instanceTTL < time.Second || c.instanceTTL > 10*time.Minute {
		return nil, fmt.Errorf("--instance-ttl must be between 1s and 10m")
	}
	if c.poolSize < 1 || c.poolSize > 10 {
		return nil, fmt.Errorf("--pool-size must be between 1 and 10")
	}
	if c.baseURL == "" {
		c.baseURL = "http://" + c.addr
	}
	if c.mqttClientID == "" {
		c.mqttClientID = defaultClientID(c.addr)
	}
	if c.baseURL, err = checkBaseURL(c.baseURL); err != nil {
		return nil, err
	}
	if c.smsURL != "" && (c.smsAccount == "" || c.smsToken == "" || c.smsFrom == "") {
		return nil, fmt.Errorf("--sms-url needs --sms-account, --sms-token and --sms-from")
	}
	if c.mqtt != "" {
		if _, err := z2m.BrokerURL(c.mqtt); err != nil {
			return nil, fmt.Errorf("--mqtt: %w", err)
		}
	}
	if c.zwavePing < 100*time.Millisecond || c.zwavePing > time.Hour {
		return nil, fmt.Errorf("--zwave-ping must be between 100ms and 1h")
	}
	if c.zwaveTLS, err = zwaveTLS(*zwaveCA, *zwaveCert, *zwaveKey); err != nil {
		return nil, err
	}
	if isPostgres(c.db) && c.secretKey == "" {
		return nil, fmt.Errorf("--secret-key (or SPAREKEY_SECRET_KEY) is required with a PostgreSQL database: every instance needs the same key")
	}
	return c, nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// serve reads straight through: configuration, then the dependencies,
// each made from the ones before it, then the server, then run until ctx
// ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(c.logLevel, stderr)
	if err != nil {
		return err
	}
	keys, keyFile, err := loadKeys(c.secretKey, c.db)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, c.db, keys)
	if err != nil {
		return err
	}
	defer db.Close()
	if keyFile != "" {
		log.Info("secret key file", "path", keyFile)
	}
	var clock sparekey.Clock = sparekey.SystemClock{}
	var devClock *sparekey.OffsetClock
	if c.demo {
		if devClock, err = restoreDevClock(ctx, db); err != nil {
			return err
		}
		clock = devClock
	}
	transports, err := transportsFor(c)
	if err != nil {
		return err
	}
	warnSetup(log, c, transports)

	id := c.instanceID
	if id == "" && c.demo && c.mqtt == "" {
		// The demo runs alone on its database: one name for every run, so a
		// run after a crash takes back what the last one held.
		id = "demo"
	}
	member := cluster.New(cluster.Config{Store: db, ID: id, TTL: c.instanceTTL, Logger: log})
	db.ClaimAs(member.ID())
	locks := device.NewRegistry() // the hub registers its driver below
	// Who records a lock's reports and programs it: the lock's owner, or
	// its hub's for a driver with one connection per hub.
	owners := locks.Owning(member)
	meterCfg := metrics.Config{Store: db, Logger: log, Instances: func() int { return len(member.Members()) }}
	if hasHub(c) {
		meterCfg.Connected = locks.Connected
	}
	meters := metrics.New(meterCfg)
	outbox := notify.NewWorker(notify.WorkerConfig{Store: db, Clock: clock, Transports: transports, Logger: log})
	jams := upkeep.New(upkeep.Config{Store: db, Clock: clock, Logger: log, BaseURL: c.baseURL,
		Queued: outbox.Notify, Opened: meters.WorkOrderOpened})
	acc := access.New(access.Config{Store: db, Driver: locks, Clock: clock, Logger: log, PoolSize: c.poolSize,
		Owns: owners.Owns, Observers: []sparekey.LockObserver{jams}})
	team := staff.New(staff.Config{Store: db, Keys: keys, Clock: clock, Logger: log})
	people := &roster.Directory{Store: db, Codes: acc.Codes, Mover: acc.Codes, Clock: clock, Region: c.defaultRegion,
		BaseURL: c.baseURL, Queued: outbox.Notify}
	residents := resident.New(resident.Config{Store: db, Keys: keys, Clock: clock, Logger: log, Doors: acc.Doors,
		BaseURL: c.baseURL, DefaultRegion: c.defaultRegion, Queued: outbox.Notify})
	flow := lockout.New(lockout.Config{Store: db, Keys: keys, Clock: clock, Issuer: acc.Codes, Logger: log, Queued: outbox.Notify, Answered: meters.Answered,
		BaseURL: c.baseURL, DefaultRegion: c.defaultRegion, SMSRegions: c.smsRegions, IPLimit: c.ipLimit})
	hub, err := newHub(c, db, clock, log, member, owners, locks, acc, meters)
	if err != nil {
		return err
	}
	defer hub.close()

	if c.demo {
		if err := seedDemo(ctx, c, db, acc.Codes, team, keys, clock, log); err != nil {
			return err
		}
		if c.mqtt == "" {
			if err := waitAlone(ctx, db, c.instanceTTL, log); err != nil {
				return err
			}
		}
	}
	if err := member.Start(ctx); err != nil {
		return fmt.Errorf("join the instances on this database: %w", err)
	}
	defer member.Stop()
	// Joined under our id, so no other live process holds it: what it
	// claimed was a crashed run's, and is answered now rather than when
	// its leases run out. Before any worker starts.
	var released int
	err = db.Tx(ctx, func(tx sparekey.Tx) (err error) {
		released, err = tx.ReleaseClaims(ctx, member.ID())
		return err
	})
	if err != nil {
		return err
	}
	if released > 0 {
		log.Info("took back the claims of this instance's last run", "instance", member.ID(), "claims", released)
	}
	if c.demo && c.mqtt == "" && len(member.Members()) > 1 {
		return demoNotAlone(slices.DeleteFunc(member.Members(), func(id string) bool { return id == member.ID() }))
	}
	if err := hub.start(ctx, acc.Reconciler); err != nil {
		return err
	}

	var dev *web.Dev
	if c.demo {
		dev = devTools(ctx, db, devClock, hub, func() { acc.Reconciler.Nudge(); flow.Wake(); jams.Wake(); outbox.Notify() })
	}
	handler := web.NewServer(web.Config{Logger: log, Clock: clock, Lockout: flow, Locks: acc.Doors, Dev: dev,
		Staff: team, Upkeep: jams, Directory: people, Audit: audit.New(db), Residents: residents, Keys: keys,
		AdminToken: c.adminToken, DefaultRegion: c.defaultRegion, BaseURL: c.baseURL,
		Metrics: meters.Handler(), ObserveRequest: meters.ObserveRequest,
		TrustedProxies: c.trustedProxies})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	bg := context.WithoutCancel(ctx)
	acc.Reconciler.Start(bg)
	flow.Start(bg)
	outbox.Start(bg)
	jams.Start(bg)
	residents.Start(bg)
	defer residents.Stop()
	defer outbox.Stop()
	defer jams.Stop()
	defer flow.Stop()
	defer acc.Reconciler.Stop()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	broker, external := hub.brokers()
	printBanner(stdout, c, ln.Addr().String(), broker, external)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warnSetup says at start-up what will not work as a resident expects, so
// nobody learns it from a resident who never got their link.
func warnSetup(log *slog.Logger, c *serveConfig, t map[sparekey.Channel]notify.Transport) {
	if t[sparekey.ChannelEmail] == nil {
		log.Warn("no email transport: emails wait in the outbox, unsent, until serve runs with --smtp")
	}
	if t[sparekey.ChannelSMS] == nil {
		log.Warn("no SMS transport: texts wait in the outbox, unsent, until serve runs with --sms-url")
	}
	if !c.demo && c.adminToken == "" {
		log.Warn("no --admin-token: the staff API answers 401 to everyone")
	}
	if c.demo && (c.smtp != "" || c.smsURL != "") {
		log.Warn("--demo with real delivery: the dev outbox and dev endpoints show and control real messages; do not expose this server")
	}
	if host, _, err := net.SplitHostPort(c.addr); c.demo && err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			log.Warn("--demo is listening beyond this machine: anyone who can reach it can read the dev outbox and move the clock", "addr", c.addr)
		}
	}
	if !c.demo && strings.HasPrefix(c.baseURL, "http://") {
		log.Warn("--base-url is http: backup links travel unencrypted; use https behind a TLS proxy", "base_url", c.baseURL)
	}
}

func transportsFor(c *serveConfig) (map[sparekey.Channel]notify.Transport, error) {
	t := map[sparekey.Channel]notify.Transport{}
	if c.demo {
		t[sparekey.ChannelEmail] = notify.DevBox{}
		t[sparekey.ChannelSMS] = notify.DevBox{}
	}
	if c.smtp != "" {
		s, err := notify.NewSMTP(c.smtp, c.smtpFrom)
		if err != nil {
			return nil, fmt.Errorf("--smtp: %w", err)
		}
		t[sparekey.ChannelEmail] = s
	}
	if c.smsURL != "" {
		s, err := notify.NewSMS(notify.SMSConfig{BaseURL: c.smsURL, AccountSID: c.smsAccount, AuthToken: c.smsToken, From: c.smsFrom})
		if err != nil {
			return nil, fmt.Errorf("--sms-url: %w", err)
		}
		t[sparekey.ChannelSMS] = s
	}
	return t, nil
}

func printBanner(w io.Writer, c *serveConfig, addr, broker, external string) {
	fmt.Fprintf(w, "Sparekey is listening on http://%s (links use %s)\n", addr, c.baseURL)
	if !c.demo {
		return
	}
	base := c.baseURL
	fmt.Fprintf(w, `
Demo mode: Maple Court Apartments, units 101-103, simulated locks, dev outbox.
  Locked-out wizard:  %[1]s/support/locked-out
  Resident app:       %[1]s/app  (sign in as ana@example.com; the code is in the dev outbox)
  Dev outbox:         %[1]s/dev/outbox
  Staff console:      %[1]s/console
                      manager@example.com or maintenance@example.com, password demo-password
  Admin token:        %[2]s
  Locks' MQTT:        %[3]s
Try it:
  curl -s -X POST %[1]s/api/v1/backup-code-requests -d '{"contact":"(201) 555-0101"}'
  curl -s '%[1]s/api/v1/dev/outbox?to=%%2B12015550101'
`, base, shownToken(c), brokerLine(c, broker, external))
}

// brokerLine says where the demo's locks talk, so one can watch them.
func brokerLine(c *serveConfig, broker, external string) string {
	if broker == "" {
		return external + " (real locks, " + c.mqttTopic + "/#)"
	}
	return broker + " (embedded; watch with: mosquitto_sub -L '" + broker + "/" + c.mqttTopic + "/#' -v)"
}

func shownToken(c *serveConfig) string {
	if c.showToken {
		return c.adminToken
	}
	return "(the one given with --admin-token)"
}

// defaultClientID names this instance on the broker: stable across
// restarts, different for two instances on one host.
func defaultClientID(addr string) string {
	host, _ := os.Hostname()
	_, port, _ := net.SplitHostPort(addr)
	id := "sparekey-" + host + "-" + port
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, id)
}
