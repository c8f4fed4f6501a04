package store

import (
	"context"
	"fmt"

	"sparekey"
)

// Stats counts messages, locks, slots and unanswered requests with a few
// grouped queries, cheap enough for every metrics scrape.
func (t *tx) Stats(ctx context.Context) (*sparekey.Stats, error) {
	st := &sparekey.Stats{
		Messages: map[sparekey.Channel]map[sparekey.MessageStatus]int{},
		Locks:    map[sparekey.LockState]int{},
		Slots:    map[sparekey.SyncStatus]int{},
	}
	err := t.grouped(ctx, `SELECT channel, status, COUNT(*) FROM messages GROUP BY channel, status`, func(a, b string, n int) {
		ch := sparekey.Channel(a)
		if st.Messages[ch] == nil {
			st.Messages[ch] = map[sparekey.MessageStatus]int{}
		}
		st.Messages[ch][sparekey.MessageStatus(b)] = n
	})
	if err != nil {
		return nil, err
	}
	err = t.grouped(ctx, `
		SELECT state, CASE WHEN online = 1 THEN 'online' ELSE 'offline' END, COUNT(*)
		FROM locks GROUP BY state, online`, func(a, b string, n int) {
		state := sparekey.LockState(a)
		if state == "" {
			state = sparekey.LockStateUnknown
		}
		st.Locks[state] += n
		if b == "online" {
			st.LocksOnline += n
		}
	})
	if err != nil {
		return nil, err
	}
	err = t.grouped(ctx, `SELECT sync, '', COUNT(*) FROM slots GROUP BY sync`, func(a, _ string, n int) {
		st.Slots[sparekey.SyncStatus(a)] = n
	})
	if err != nil {
		return nil, err
	}
	if st.LocksLowBattery, err = t.count(ctx, "low-battery locks", `SELECT COUNT(*) FROM locks WHERE battery >= 0 AND battery < 20`); err != nil {
		return nil, err
	}
	if st.RequestsPending, err = t.count(ctx, "pending requests", `SELECT COUNT(*) FROM backup_requests WHERE outcome = 'pending'`); err != nil {
		return nil, err
	}
	return st, nil
}

// grouped runs a query of (text, text, count) rows.
func (t *tx) grouped(ctx context.Context, query string, row func(a, b string, n int)) error {
	rows, err := t.query(ctx, query)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		var n int
		if err := rows.Scan(&a, &b, &n); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		row(a, b, n)
	}
	return rows.Err()
}
