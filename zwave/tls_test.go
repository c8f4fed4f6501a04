package zwave_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"sparekey/internal/zwavejs"
	"sparekey/zwave"
)

// testCA issues the certificates of a TLS proxy test: one CA, a server
// certificate for 127.0.0.1 and a client certificate.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hub CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestWSSThroughAClientCertProxy: the way docs/zwave-js.md says to expose a
// hub, a TLS proxy that requires a client certificate in front of the real
// zwave-js-server. The driver gets through with the hub's CA and its
// certificate, and not without the certificate.
func TestWSSThroughAClientCertProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Z-Wave JS stack takes seconds to start")
	}
	stack := zwavejs.Shared(t)
	ca := newTestCA(t)
	target, _ := url.Parse(strings.Replace(stack.URL, "ws://", "http://", 1))
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	proxy.TLS = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "hub", x509.ExtKeyUsageServerAuth)},
		ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	wss := strings.Replace(proxy.URL, "https://", "wss://", 1)

	connect := func(cfg *tls.Config) *zwave.Driver {
		d, err := zwave.New(zwave.Config{Hubs: map[string]string{"bldg-a": wss}, TLS: cfg,
			Backoff: func(int) time.Duration { return 100 * time.Millisecond }})
		if err != nil {
			t.Fatal(err)
		}
		d.Start(context.Background())
		t.Cleanup(d.Stop)
		return d
	}
	withCert := connect(&tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{ca.issue(t, "sparekey", x509.ExtKeyUsageClientAuth)}})
	withoutCert := connect(&tls.Config{RootCAs: ca.pool})
	deadline := time.Now().Add(20 * time.Second)
	for !withCert.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("the driver with the client certificate did not get through the proxy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := withCert.Lock(context.Background(), zwave.Address("bldg-a", stack.Node)); err != nil {
		t.Fatalf("Lock through the proxy: %v", err)
	}
	if withoutCert.Connected() {
		t.Fatal("the driver without a client certificate got through the proxy")
	}
}
