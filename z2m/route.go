package z2m

import (
	"maps"
	"strings"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"sparekey"
)

// received runs on the MQTT client's goroutine: parse, update the device,
// wake waiters, and hand the events over without waiting for them to be
// recorded; the message is acknowledged once they are.
func (a *Adapter) received(pr paho.PublishReceived) (bool, error) {
	ack := func() {
		if err := pr.Client.Ack(pr.Packet); err != nil {
			a.log.Debug("MQTT ack not sent; the broker will deliver the message again", "topic", pr.Packet.Topic, "err", err)
		}
	}
	handedOver := false
	defer func() {
		if r := recover(); r != nil {
			// Acks go out in arrival order: one never sent would hold
			// back every later one, and the broker would stop delivering.
			a.log.Error("panic handling an MQTT message; dropped", "topic", pr.Packet.Topic, "panic", r)
			if !handedOver {
				ack()
			}
		}
	}()
	name, events := a.handle(pr.Packet.Topic, pr.Packet.Payload)
	handedOver = true
	a.emit(name, events, ack)
	return true, nil
}

// handle processes one message from the broker and returns the events it
// means for the named device.
func (a *Adapter) handle(topic string, payload []byte) (string, []sparekey.DeviceEvent) {
	rest, ok := strings.CutPrefix(topic, a.base+"/")
	if !ok || rest == "" {
		return "", nil
	}
	now := a.cfg.Clock.Now()
	switch {
	case rest == "bridge/logging":
		if name := failedDevice(payload); name != "" {
			a.waiters.Fail(name, sparekey.Errorf(sparekey.ELOCKFAILED, "Zigbee2MQTT could not send the command to lock %s", name))
		}
		return "", nil
	case rest == "bridge/state":
		if online, err := ParseAvailability(payload); err == nil {
			a.bridgeState(online, now)
		} else {
			a.log.Warn("bad bridge state message dropped", "err", err)
		}
		return "", nil
	case strings.HasPrefix(rest, "bridge/"):
		return "", nil
	case strings.HasSuffix(rest, "/set") || strings.HasSuffix(rest, "/get"):
		return "", nil // commands, ours or another client's
	case strings.HasSuffix(rest, "/availability"):
		name := strings.TrimSuffix(rest, "/availability")
		online, err := ParseAvailability(payload)
		if err != nil {
			a.log.Warn("bad availability message dropped", "device", name, "err", err)
			return "", nil
		}
		a.mu.Lock()
		d := a.track(name)
		d.byBridge = false // the lock's own availability overrules the bridge's
		events := d.availability(name, online, now)
		if !online {
			a.waiters.Fail(name, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s went offline", name))
		}
		a.mu.Unlock()
		return name, events
	}
	name := rest
	r, err := ParseReport(payload)
	if err != nil {
		a.log.Warn("bad lock message dropped", "device", name, "err", err, "bytes", len(payload))
		return "", nil
	}
	if r.LastSeen != nil && r.LastSeen.Before(now) && now.Sub(*r.LastSeen) < 24*time.Hour {
		now = *r.LastSeen // when Zigbee2MQTT heard it, e.g. a message queued while we were away
	}
	a.mu.Lock()
	d := a.track(name)
	var before map[int]User // Zigbee2MQTT's users cache before this message
	if a.waiters.Waiting(name) {
		before = maps.Clone(d.users)
	}
	events := d.report(name, r, now)
	a.waiters.Report(name, seen{report: r, before: before})
	a.mu.Unlock()
	return name, events
}

// bridgeState follows Zigbee2MQTT itself going away and coming back. While
// it is gone no lock can be reached, though each lock's retained
// availability still says online: every known lock is reported offline and
// commands fail at once. When it is back, those locks count as online
// again (Zigbee2MQTT then republishes the true availability of each), and
// OnConnect runs so their state is read and pending codes retried.
func (a *Adapter) bridgeState(online bool, now time.Time) {
	type batch struct {
		name   string
		events []sparekey.DeviceEvent
	}
	var out []batch
	a.mu.Lock()
	if online == a.bridgeOnline {
		a.mu.Unlock()
		return
	}
	a.bridgeOnline = online
	for name, d := range a.devices {
		switch {
		case !online && (!d.availKnown || d.online):
			d.byBridge = true
			out = append(out, batch{name, d.availability(name, false, now)})
			a.waiters.Fail(name, sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s cannot be reached: Zigbee2MQTT is offline", name))
		case online && d.byBridge:
			d.byBridge = false
			out = append(out, batch{name, d.availability(name, true, now)})
		}
	}
	a.mu.Unlock()
	if online {
		a.log.Info("Zigbee2MQTT is back online")
	} else {
		a.log.Warn("Zigbee2MQTT is offline: every lock is unreachable until it is back", "locks", len(out))
	}
	for _, b := range out {
		a.emit(b.name, b.events, nil)
	}
	if online && a.cfg.OnConnect != nil {
		go a.cfg.OnConnect()
	}
}

// emit hands the events one message meant for the lock to the device
// layer, which acknowledges the message (ack, may be nil) once they are
// recorded, or at once when there is nothing to record here.
func (a *Adapter) emit(name string, events []sparekey.DeviceEvent, ack func()) {
	if a.cfg.Events == nil {
		if ack != nil {
			ack()
		}
		return
	}
	a.cfg.Events.Deliver(name, events, ack)
}

// track returns what the adapter remembers of the lock, creating it. a.mu
// must be held.
func (a *Adapter) track(name string) *tracked {
	d, ok := a.devices[name]
	if !ok {
		d = newTracked()
		a.devices[name] = d
	}
	return d
}
