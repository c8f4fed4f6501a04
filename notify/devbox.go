package notify

import (
	"context"
	"fmt"

	"sparekey"
)

// DevBox is the dev outbox transport used by the demo: the message already
// sits in the database, where /dev/outbox shows it, so sending only marks it
// sent. Nothing leaves the machine.
type DevBox struct{}

// Send returns "devbox-<id>" as the provider id and never fails.
func (DevBox) Send(_ context.Context, m *sparekey.Message) (string, error) {
	return fmt.Sprintf("devbox-%d", m.ID), nil
}
