package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetrics: /metrics answers the admin token's holder in Prometheus'
// format with what operators watch, and nobody else.
func TestMetrics(t *testing.T) {
	s := startServer(t)
	for _, d := range []string{"unit-101-front", "unit-102-front", "unit-103-front"} {
		s.waitLock(d, "first sync", inSync)
	}
	s.requestCode("(201) 555-0101")
	sms := s.waitMessages("+12015550101", "backup_link", 1)
	if r := s.do("GET", "/metrics", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without the token = %d, want 401", r.status)
	}
	want := []string{
		`sparekey_http_requests_total{code="202",method="POST",route="POST /api/v1/backup-code-requests"} 1`,
		`sparekey_backup_requests_answered_total{outcome="sent"} 1`,
		`sparekey_backup_request_answer_seconds_count 1`,
		`sparekey_messages{channel="sms",status="sent"} 1`,
		`sparekey_messages{channel="email",status="sent"} 1`,
		`sparekey_messages{channel="sms",status="expired"} 0`, // a final state of its own
		`sparekey_locks{state="locked"} 3`,
		`sparekey_locks_online 3`,
		`sparekey_code_slots{sync="failed"} 0`,
		`sparekey_code_slots{sync="pending"} 0`,
		`sparekey_backup_requests_pending 0`,
		`sparekey_device_events_total{kind="online"} 3`,
		`sparekey_mqtt_connected 1`,
		`sparekey_instances 1`,
		`sparekey_database_up 1`,
		`go_goroutines `,
	}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.do("GET", "/metrics", "", "Authorization", staffAuth)
		body = string(r.body)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %s:\n%s", missing, grepSparekey(body))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Rules 12 and 14: no token or door code in metrics, logs or the lock
	// lists and histories.
	tok := token(t, sms[0])
	code := s.reveal(tok).Codes[0].Code
	if got := s.keypad("unit-101-front", code); got != "unlocked" {
		t.Fatalf("revealed code at the keypad = %s", got)
	}
	var seen strings.Builder
	for _, path := range []string{"/metrics", "/api/v1/locks", "/api/v1/locks/unit-101-front", "/api/v1/locks/unit-101-front/events?limit=500"} {
		r := s.do("GET", path, "", "Authorization", staffAuth)
		if r.status != 200 {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		seen.Write(r.body)
	}
	seen.WriteString(s.stderr.String())
	for _, secret := range []string{tok, code, "482916", "731845", "590273"} {
		if strings.Contains(seen.String(), secret) {
			t.Errorf("%q appears in the metrics, the lock API or the log", secret)
		}
	}
}

func grepSparekey(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "sparekey_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
