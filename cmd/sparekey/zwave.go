package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"

	"sparekey/device"
	"sparekey/zwave"
)

// zwaveHubs is the value of --zwave NAME=ws://host:port, repeatable, each
// value also a comma-separated list (SPAREKEY_ZWAVE): the Z-Wave JS server
// of each hub.
type zwaveHubs map[string]string

func (z zwaveHubs) String() string {
	names := make([]string, 0, len(z))
	for n := range z {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + z[n]
	}
	return strings.Join(parts, ",")
}

func (z zwaveHubs) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, u, ok := strings.Cut(item, "=")
		if !ok || !zwave.ValidHubName(name) {
			return fmt.Errorf("%q: want NAME=ws://host:port, NAME of letters, digits, -, _ or .", item)
		}
		if _, dup := z[name]; dup {
			return fmt.Errorf("hub %s named twice", name)
		}
		if _, err := zwave.ServerURL(u); err != nil {
			return err
		}
		z[name] = u
	}
	return nil
}

// zwaveTLS is the TLS of wss:// hubs: the CA that signed the hubs' (or
// their TLS proxy's) certificates instead of the system's, and the client
// certificate a proxy requires. nil when none is given.
func zwaveTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--zwave-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--zwave-ca %s: no PEM certificate in it", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("--zwave-cert and --zwave-key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--zwave-cert, --zwave-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// newZWave makes the Z-Wave JS driver (not connected yet) for cfg.Hubs and
// registers it for zwave:// locks; nil without hubs. It warns about every
// hub reached over plain ws:// off this machine: zwave-js-server has no
// authentication, and whoever reaches it opens the doors.
func newZWave(cfg zwave.Config, locks *device.Registry) (*zwave.Driver, error) {
	if len(cfg.Hubs) == 0 {
		return nil, nil
	}
	for name, s := range cfg.Hubs {
		u, _ := url.Parse(s)
		if ip := net.ParseIP(u.Hostname()); u.Scheme == "ws" && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			cfg.Logger.Warn("Z-Wave JS server reached over plain ws:// off this machine: anyone on that network can open its doors; use a private network or VPN, or wss:// through a TLS proxy that requires client certificates (docs/zwave-js.md)",
				"hub", name, "url", s)
		}
	}
	d, err := zwave.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--zwave: %w", err)
	}
	locks.Register(zwave.Scheme, d)
	return d, nil
}
