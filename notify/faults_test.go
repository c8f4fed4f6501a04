package notify

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
)

// Provider faults, against real servers on loopback: a hung SMTP relay, a
// hung SMS API, an SMS API failing, then rate limiting with Retry-After.

// hungRelay accepts SMTP connections and never says a word, as a relay
// stuck behind a full disk or a firewall that drops replies does.
func hungRelay(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int32{}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			accepted.Add(1)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), accepted
}

// faultBundle is a worker with real transports over the fake store, on a
// clock that stands still unless a test moves it.
type faultBundle struct {
	store *fakeStore
	clock *sparekey.OffsetClock
}

func setupFaults(t *testing.T, transports map[sparekey.Channel]Transport) (*Worker, *faultBundle) {
	t.Helper()
	b := &faultBundle{store: newFakeStore(), clock: sparekey.NewFixedClock(testkit.T0)}
	w := NewWorker(WorkerConfig{Store: b.store, Clock: b.clock, Transports: transports, PollInterval: time.Hour,
		Backoff: func(int) time.Duration { return time.Minute }})
	return w, b
}

func TestHungSMTPDoesNotHoldTheSMS(t *testing.T) {
	t.Parallel()
	relay, accepted := hungRelay(t)
	var texts atomic.Int32
	api := twilioServer(t, func(w http.ResponseWriter) {
		texts.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid": "SM1", "status": "queued"}`)
	})
	w, b := setupFaults(t, map[sparekey.Channel]Transport{
		sparekey.ChannelEmail: newTestSMTP(t, "smtp://"+relay),
		sparekey.ChannelSMS:   newTestSMS(t, api.URL),
	})
	email := b.store.add(*emailMessage(), testkit.T0)
	sms := b.store.add(*smsMessage(), testkit.T0)

	w.Start(context.Background())
	waitFor(t, func() bool { return accepted.Load() == 1 }) // the email is stuck
	// Within seconds, while the relay still holds the email's connection
	// (its send is cut off only after 15s).
	waitFor(t, func() bool { return b.store.get(sms).Status == sparekey.MessageSent })
	if m := b.store.get(email); texts.Load() != 1 || m.Status != sparekey.MessageQueued || m.Attempts != 0 {
		t.Errorf("texts %d, email %+v", texts.Load(), m)
	}
	w.Stop() // cuts the hung send short: the email goes out after its lease
	if m := b.store.get(email); m.Status != sparekey.MessageQueued || m.Attempts != 0 {
		t.Errorf("email = %+v", m)
	}
}

// A hung relay fails the send at the cutoff, and the message is retried
// later rather than held.
func TestHungSMTPFailsAtTheCutoff(t *testing.T) {
	t.Parallel()
	relay, _ := hungRelay(t)
	b := &faultBundle{store: newFakeStore(), clock: sparekey.NewFixedClock(testkit.T0)}
	w := NewWorker(WorkerConfig{Store: b.store, Clock: b.clock, Lease: 2 * time.Second, // sends cut at 0.5s
		Transports: map[sparekey.Channel]Transport{sparekey.ChannelEmail: newTestSMTP(t, "smtp://"+relay)},
		Backoff:    func(int) time.Duration { return time.Minute }})
	email := b.store.add(*emailMessage(), testkit.T0)
	runOnce(t, w, 1)
	m := b.store.get(email)
	if m.Status != sparekey.MessageFailed || m.Attempts != 1 || !m.NextAttemptAt.Equal(testkit.T0.Add(time.Minute)) {
		t.Errorf("email = %+v", m)
	}
}

func TestHungSMSAPIDoesNotHoldTheEmail(t *testing.T) {
	t.Parallel()
	relay := startMailServer(t, false, false)
	release := make(chan struct{})
	api := twilioServer(t, func(w http.ResponseWriter) { <-release })
	// Before api.Close (registered earlier, so run later): let the handler go.
	t.Cleanup(func() { close(release) })
	w, b := setupFaults(t, map[sparekey.Channel]Transport{
		sparekey.ChannelEmail: newTestSMTP(t, "smtp://"+relay.Addr),
		sparekey.ChannelSMS:   newTestSMS(t, api.URL),
	})
	sms := b.store.add(*smsMessage(), testkit.T0)
	email := b.store.add(*emailMessage(), testkit.T0)

	w.Start(context.Background())
	waitFor(t, func() bool { return b.store.get(email).Status == sparekey.MessageSent })
	if n := len(relay.Mails()); n != 1 || b.store.get(sms).Status != sparekey.MessageQueued {
		t.Errorf("mails %d, sms %s", n, b.store.get(sms).Status)
	}
	w.Stop()
}

func TestSMSAPIFailsThenAccepts(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	api := twilioServer(t, func(w http.ResponseWriter) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"code": 20500, "message": "Internal Server Error", "status": 500}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid": "SM2", "status": "queued"}`)
	})
	w, b := setupFaults(t, map[sparekey.Channel]Transport{sparekey.ChannelSMS: newTestSMS(t, api.URL)})
	id := b.store.add(*smsMessage(), testkit.T0)

	runOnce(t, w, 1)
	if m := b.store.get(id); m.Status != sparekey.MessageFailed || !m.NextAttemptAt.Equal(testkit.T0.Add(time.Minute)) ||
		m.LastError != "sms: provider answered 500: Internal Server Error (code 20500)" {
		t.Fatalf("after the 500: %+v", m)
	}
	b.clock.Advance(time.Minute)
	runOnce(t, w, 1)
	if m := b.store.get(id); m.Status != sparekey.MessageSent || m.ProviderID != "SM2" || m.Attempts != 2 || calls.Load() != 2 {
		t.Errorf("after the retry: %+v, %d calls", m, calls.Load())
	}
}

// 429 with Retry-After, in seconds or as an HTTP date: the next try is
// recorded for exactly then, not for the backoff's minute.
func TestSMSAPIRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"429, seconds", http.StatusTooManyRequests, "30", 30 * time.Second},
		{"503, HTTP date", http.StatusServiceUnavailable, "Fri, 02 Jan 2026 03:05:50 GMT", 45 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			api := twilioServer(t, func(w http.ResponseWriter) {
				if calls.Add(1) == 1 {
					// Read against the answer's own Date: 45s before the retry.
					w.Header().Set("Date", "Fri, 02 Jan 2026 03:05:05 GMT")
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
					io.WriteString(w, `{"code": 20429, "message": "Too Many Requests", "status": 429}`)
					return
				}
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"sid": "SM3", "status": "queued"}`)
			})
			w, b := setupFaults(t, map[sparekey.Channel]Transport{sparekey.ChannelSMS: newTestSMS(t, api.URL)})
			id := b.store.add(*smsMessage(), testkit.T0)

			runOnce(t, w, 1)
			if m := b.store.get(id); m.Status != sparekey.MessageFailed || !m.NextAttemptAt.Equal(testkit.T0.Add(tt.want)) {
				t.Fatalf("after the %d: next try at %v, want T0+%v", tt.status, m.NextAttemptAt.Sub(testkit.T0), tt.want)
			}
			b.clock.Advance(tt.want - time.Second)
			runOnce(t, w, 0)
			b.clock.Advance(time.Second)
			runOnce(t, w, 1)
			if m := b.store.get(id); m.Status != sparekey.MessageSent || calls.Load() != 2 {
				t.Errorf("after the retry: %+v, %d calls", m, calls.Load())
			}
		})
	}
}

// A backup link that expired while its messages waited is sent to nobody.
func TestExpiredLinkIsNotSent(t *testing.T) {
	t.Parallel()
	relay := startMailServer(t, false, false)
	var texts atomic.Int32
	api := twilioServer(t, func(w http.ResponseWriter) {
		texts.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid": "SM4", "status": "queued"}`)
	})
	w, b := setupFaults(t, map[sparekey.Channel]Transport{
		sparekey.ChannelEmail: newTestSMTP(t, "smtp://"+relay.Addr),
		sparekey.ChannelSMS:   newTestSMS(t, api.URL),
	})
	sms, email := *smsMessage(), *emailMessage()
	sms.ValidUntil, email.ValidUntil = testkit.T0.Add(30*time.Minute), testkit.T0.Add(30*time.Minute)
	smsID, emailID := b.store.add(sms, testkit.T0), b.store.add(email, testkit.T0)
	b.clock.Advance(30 * time.Minute) // the job or the providers were down all along

	runOnce(t, w, 2)
	for _, id := range []int64{smsID, emailID} {
		if m := b.store.get(id); m.Status != sparekey.MessageExpired || m.SentAt != nil {
			t.Errorf("message %d = %+v", id, m)
		}
	}
	if texts.Load() != 0 || len(relay.Mails()) != 0 {
		t.Errorf("sent %d texts and %d mails of a dead link", texts.Load(), len(relay.Mails()))
	}
}
