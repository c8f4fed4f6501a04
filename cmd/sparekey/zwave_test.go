package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sparekey/device"
	"sparekey/zwave"
)

// --zwave is repeatable and SPAREKEY_ZWAVE a comma-separated list; a bad
// name or URL stops serve before it starts.
func TestZWaveFlag(t *testing.T) {
	env := func(k string) string {
		if k == "SPAREKEY_ZWAVE" {
			return "bldg-a=ws://127.0.0.1:3000, bldg-b=wss://hub-b.example:443"
		}
		return ""
	}
	c, err := parseServe([]string{"--zwave", "bldg-c=ws://10.0.0.7:3000"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.zwave.String(); got != "bldg-a=ws://127.0.0.1:3000,bldg-b=wss://hub-b.example:443,bldg-c=ws://10.0.0.7:3000" {
		t.Fatalf("--zwave = %s", got)
	}
	for _, bad := range []string{"bldg-a", "bldg a=ws://h:1", "h=http://h:1", "h=ws://", "h=ws://a:1,h=ws://b:1"} {
		if _, err := parseServe([]string{"--zwave", bad}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("--zwave %q accepted", bad)
		}
	}
}

// A hub reached over plain ws:// off this machine is warned about: whoever
// reaches zwave-js-server opens the doors.
func TestZWavePlainRemoteWarned(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	hubs := zwaveHubs{"near": "ws://127.0.0.1:3000", "local": "ws://localhost:3000", "tls": "wss://10.0.0.5:443", "far": "ws://10.0.0.5:3000"}
	d, err := newZWave(zwave.Config{Hubs: hubs, Logger: log}, device.NewRegistry())
	if err != nil || d == nil {
		t.Fatal(d, err)
	}
	if n := strings.Count(logs.String(), "plain ws://"); n != 1 || !strings.Contains(logs.String(), "hub=far") {
		t.Fatalf("warnings:\n%s", logs.String())
	}
}

// --zwave-ca, --zwave-cert and --zwave-key make the TLS of wss:// hubs; a
// half-given pair or a file without a certificate stops serve.
func TestZWaveTLSFlags(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hub CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, cert, keyFile := write("ca.pem", "CERTIFICATE", der), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
	none := func(string) string { return "" }
	c, err := parseServe([]string{"--zwave", "h=wss://10.0.0.5:443", "--zwave-ca", ca, "--zwave-cert", cert, "--zwave-key", keyFile}, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.zwaveTLS == nil || c.zwaveTLS.RootCAs == nil || len(c.zwaveTLS.Certificates) != 1 {
		t.Fatalf("TLS = %+v", c.zwaveTLS)
	}
	if c, _ := parseServe([]string{"--zwave", "h=ws://127.0.0.1:3000"}, none, io.Discard); c.zwaveTLS != nil {
		t.Fatal("a TLS config without TLS flags")
	}
	for _, bad := range [][]string{{"--zwave-cert", cert}, {"--zwave-key", keyFile}, {"--zwave-ca", keyFile}, {"--zwave-ca", filepath.Join(dir, "missing.pem")}} {
		if _, err := parseServe(bad, none, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
