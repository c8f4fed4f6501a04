package store_test

import (
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/store"
)

func newMessage(ch sparekey.Channel, to string, created time.Time) *sparekey.Message {
	return &sparekey.Message{Channel: ch, To: to, Subject: "Hello", Body: "Body for " + to, Kind: "backup_link",
		Status: sparekey.MessageQueued, NextAttemptAt: created, CreatedAt: created}
}

func TestMessages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		m1 := newMessage(sparekey.ChannelSMS, "+15555550101", testkit.T0.Add(-3*time.Minute))
		m2 := newMessage(sparekey.ChannelEmail, "ada@example.com", testkit.T0.Add(-2*time.Minute))
		m2.HTML = "<p>Body</p>"
		m3 := newMessage(sparekey.ChannelSMS, "+15555550101", testkit.T0.Add(-time.Minute))
		m4 := newMessage(sparekey.ChannelSMS, "+15555550102", testkit.T0.Add(-time.Minute)) // ties with m3
		// As a backup link's message has.
		m3.ValidUntil = testkit.T0.Add(29 * time.Minute)
		inTx(t, db, func(tx sparekey.Tx) {
			for _, m := range []*sparekey.Message{m1, m2, m3, m4} {
				must(t, tx.CreateMessage(t.Context(), m))
			}
			got, err := tx.Messages(t.Context(), "", 0)
			must(t, err)
			same(t, "Messages, newest first", got, []*sparekey.Message{m4, m3, m2, m1})
			got, err = tx.Messages(t.Context(), "+15555550101", 10)
			must(t, err)
			same(t, "Messages to one recipient", got, []*sparekey.Message{m3, m1})
			got, err = tx.Messages(t.Context(), "", 2)
			must(t, err)
			same(t, "Messages, limit 2", got, []*sparekey.Message{m4, m3})

			m1.Status, m1.Attempts, m1.ProviderID, m1.SentAt = sparekey.MessageSent, 2, "SM123", ptr(testkit.T0)
			m1.LastError, m1.NextAttemptAt = "timeout", testkit.T0.Add(-time.Minute)
			must(t, tx.UpdateMessage(t.Context(), m1))
			got, err = tx.Messages(t.Context(), "+15555550101", 10)
			must(t, err)
			same(t, "updated message", got, []*sparekey.Message{m3, m1})
			wantCode(t, tx.UpdateMessage(t.Context(), &sparekey.Message{ID: 999}), sparekey.ENOTFOUND)
		})
	})
}

func TestClaimMessages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		msg := func(ch sparekey.Channel, status sparekey.MessageStatus, age, next time.Duration) *sparekey.Message {
			m := newMessage(ch, "someone", testkit.T0.Add(-age))
			m.Status, m.NextAttemptAt = status, testkit.T0.Add(next)
			return m
		}
		sms := []sparekey.Channel{sparekey.ChannelSMS}
		queued := msg(sparekey.ChannelSMS, sparekey.MessageQueued, 5*time.Minute, -5*time.Minute)
		email := msg(sparekey.ChannelEmail, sparekey.MessageQueued, 4*time.Minute, -4*time.Minute)
		failed := msg(sparekey.ChannelSMS, sparekey.MessageFailed, 3*time.Minute, -time.Minute)
		later := msg(sparekey.ChannelSMS, sparekey.MessageFailed, 2*time.Minute, time.Minute)
		dueNow := msg(sparekey.ChannelSMS, sparekey.MessageQueued, time.Minute, 0)
		sent := msg(sparekey.ChannelSMS, sparekey.MessageSent, 6*time.Minute, -6*time.Minute)
		abandoned := msg(sparekey.ChannelSMS, sparekey.MessageAbandoned, 6*time.Minute, -6*time.Minute)
		inTx(t, db, func(tx sparekey.Tx) {
			for _, m := range []*sparekey.Message{queued, email, failed, later, dueNow, sent, abandoned} {
				must(t, tx.CreateMessage(t.Context(), m))
			}
		})
		claim := func(channels []sparekey.Channel, now time.Time, limit int) []*sparekey.Message {
			t.Helper()
			var got []*sparekey.Message
			inTx(t, db, func(tx sparekey.Tx) {
				var err error
				got, err = tx.ClaimMessages(t.Context(), channels, now, time.Minute, limit)
				must(t, err)
			})
			return got
		}
		want := func(ms ...*sparekey.Message) []int64 { return ids(ms) }

		same(t, "first claim, earliest due first", claim(sms, testkit.T0, 10), []*sparekey.Message{queued, failed, dueNow})
		same(t, "during the lease", ids(claim(sms, testkit.T0.Add(30*time.Second), 10)), want())
		same(t, "another channel", ids(claim([]sparekey.Channel{sparekey.ChannelSMS, sparekey.ChannelEmail}, testkit.T0.Add(30*time.Second), 10)), want(email))
		same(t, "no channel", ids(claim(nil, testkit.T0.Add(time.Hour), 10)), want())

		// A recorded attempt ends the lease at once.
		inTx(t, db, func(tx sparekey.Tx) {
			failed.Attempts, failed.NextAttemptAt, failed.LastError = 1, testkit.T0.Add(10*time.Second), "provider down"
			must(t, tx.UpdateMessage(t.Context(), failed))
			queued.Status, queued.Attempts, queued.SentAt = sparekey.MessageSent, 1, ptr(testkit.T0)
			must(t, tx.UpdateMessage(t.Context(), queued))
		})
		same(t, "retry after UpdateMessage", ids(claim(sms, testkit.T0.Add(20*time.Second), 10)), want(failed))
		// The earliest due first, not the oldest: later was queued before
		// dueNow but retries after it.
		same(t, "after the lease, limit 1", ids(claim(sms, testkit.T0.Add(time.Minute), 1)), want(dueNow))
		same(t, "after the lease", ids(claim(sms, testkit.T0.Add(time.Minute), 10)), want(later))
	})
}

func TestCountMessagesSince(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		const a, b = "+15555550101", "+15555550102"
		inTx(t, db, func(tx sparekey.Tx) {
			for _, m := range []*sparekey.Message{
				newMessage(sparekey.ChannelSMS, a, testkit.T0.Add(-2*time.Hour)),
				newMessage(sparekey.ChannelSMS, a, testkit.T0.Add(-10*time.Minute)),
				newMessage(sparekey.ChannelSMS, b, testkit.T0.Add(-5*time.Minute)),
				newMessage(sparekey.ChannelEmail, a, testkit.T0.Add(-time.Minute)),
			} {
				must(t, tx.CreateMessage(t.Context(), m))
			}
			for _, c := range []struct {
				ch    sparekey.Channel
				to    string
				since time.Duration
				want  int
			}{
				{sparekey.ChannelSMS, "", -time.Hour, 2},
				{sparekey.ChannelSMS, a, -time.Hour, 1},
				{sparekey.ChannelSMS, a, -10 * time.Minute, 0}, // since is exclusive
				{sparekey.ChannelSMS, a, -11 * time.Minute, 1},
				{sparekey.ChannelSMS, a, -9 * time.Minute, 0},
				{sparekey.ChannelSMS, a, -3 * time.Hour, 2},
				{sparekey.ChannelEmail, "", -time.Hour, 1},
				{sparekey.ChannelEmail, b, -time.Hour, 0},
			} {
				n, err := tx.CountMessagesSince(t.Context(), c.ch, c.to, testkit.T0.Add(c.since))
				must(t, err)
				if n != c.want {
					t.Errorf("CountMessagesSince(%s, %q, now%v) = %d, want %d", c.ch, c.to, c.since, n, c.want)
				}
			}
		})
	})
}
