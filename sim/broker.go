package sim

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is an MQTT broker inside the process, for the demo's virtual
// locks and for tests: the simulator and the Zigbee2MQTT adapter talk
// through it exactly as they would through Mosquitto. It allows every
// client, so it listens on loopback unless told otherwise.
type Broker struct {
	srv  *mqtt.Server
	addr string
}

// StartBroker starts a broker on addr ("127.0.0.1:0" picks a free port).
func StartBroker(addr string, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded MQTT broker: %w", err)
	}
	quiet := slog.New(warnOnly{log.Handler()}).With("component", "mqtt-broker")
	srv := mqtt.New(&mqtt.Options{Logger: quiet, InlineClient: false})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		ln.Close()
		return nil, err
	}
	if err := srv.AddListener(listeners.NewNet("sparekey", ln)); err != nil {
		ln.Close()
		return nil, err
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, err
	}
	return &Broker{srv: srv, addr: ln.Addr().String()}, nil
}

// Addr is the host:port the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's address as an MQTT URL.
func (b *Broker) URL() string { return "mqtt://" + b.addr }

// Close disconnects every client and stops listening. It gives up after
// 3 s: mochi-mqtt v2.7.9 can deadlock closing while clients come and go
// (mochi-mqtt/server#488), and a demo must still stop.
func (b *Broker) Close() error {
	done := make(chan error, 1)
	go func() { done <- b.srv.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		return fmt.Errorf("embedded MQTT broker did not close within 3s")
	}
}

// warnOnly passes on the broker's warnings and errors; its info lines
// (every client connecting) would drown the server's own.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

// Handle drops the line the broker logs, without a message, for each
// listener it closes on the way down, and names any other line it gives
// no message.
func (h warnOnly) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "" {
		closing := false
		r.Attrs(func(a slog.Attr) bool {
			closing = closing || strings.Contains(a.Value.String(), "use of closed network connection")
			return !closing
		})
		if closing {
			return nil
		}
		r.Message = "embedded MQTT broker"
	}
	return h.Handler.Handle(ctx, r)
}

func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
