package notify

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"sparekey"
)

// fakeStore is an in-memory outbox with the store's claim semantics: only
// what the worker uses. A Tx holds the store's lock and is rolled back when
// fn fails. The lease is kept apart from NextAttemptAt and ended by
// UpdateMessage, as a real store would do with a leased_until column.
type fakeStore struct {
	mu       sync.Mutex
	msgs     map[int64]sparekey.Message
	leased   map[int64]time.Time
	audit    []sparekey.AuditEvent
	nextID   int64
	claims   int  // ClaimMessages calls
	failSave bool // UpdateMessage fails, as if the process died before recording
}

func newFakeStore() *fakeStore {
	return &fakeStore{msgs: map[int64]sparekey.Message{}, leased: map[int64]time.Time{}}
}

func (s *fakeStore) Tx(ctx context.Context, fn func(sparekey.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs, leased, nAudit := maps.Clone(s.msgs), maps.Clone(s.leased), len(s.audit)
	if err := fn(&fakeTx{s: s}); err != nil {
		s.msgs, s.leased, s.audit = msgs, leased, s.audit[:nAudit]
		return err
	}
	return nil
}

func (s *fakeStore) Read(ctx context.Context, fn func(sparekey.Tx) error) error {
	return s.Tx(ctx, fn)
}

// add queues a message due at due and returns its id.
func (s *fakeStore) add(m sparekey.Message, due time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	m.ID, m.Status, m.NextAttemptAt, m.CreatedAt = s.nextID, sparekey.MessageQueued, due, due
	s.msgs[m.ID] = m
	return m.ID
}

func (s *fakeStore) get(id int64) sparekey.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs[id]
}

func (s *fakeStore) actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.audit {
		out = append(out, e.Action)
	}
	return out
}

func (s *fakeStore) claimCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims
}

// fakeTx embeds the interface so that any method the worker should not
// use panics (nil interface) instead of silently passing.
type fakeTx struct {
	sparekey.Tx
	s *fakeStore
}

func (tx *fakeTx) ClaimMessages(_ context.Context, channels []sparekey.Channel, now time.Time, lease time.Duration, limit int) ([]*sparekey.Message, error) {
	s := tx.s
	s.claims++
	var due []sparekey.Message
	for _, m := range s.msgs {
		if (m.Status == sparekey.MessageQueued || m.Status == sparekey.MessageFailed) &&
			slices.Contains(channels, m.Channel) && !m.NextAttemptAt.After(now) && !s.leased[m.ID].After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b sparekey.Message) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	var out []*sparekey.Message
	for _, m := range due[:min(limit, len(due))] {
		s.leased[m.ID] = now.Add(lease)
		out = append(out, &m)
	}
	return out, nil
}

func (tx *fakeTx) UpdateMessage(_ context.Context, m *sparekey.Message) error {
	if tx.s.failSave {
		return errors.New("fake store: unavailable")
	}
	tx.s.msgs[m.ID] = *m
	delete(tx.s.leased, m.ID)
	return nil
}

func (tx *fakeTx) RecordAudit(_ context.Context, e *sparekey.AuditEvent) error {
	tx.s.audit = append(tx.s.audit, *e)
	return nil
}
