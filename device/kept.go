package device

import (
	"time"

	"sparekey"
)

// keptEvent is another owner's event and when it was kept.
type keptEvent struct {
	event sparekey.DeviceEvent
	at    time.Time
}

// maxKept bounds the events kept for one lock: a chatty lock of another
// owner must not grow without end.
const maxKept = 100

// keep holds events of a lock another instance owns, in case it dies
// before recording them.
func (d *Delivery) keep(device string, events []sparekey.DeviceEvent) {
	now := time.Now() // the wall clock: a demo's test clock may jump
	cutoff := now.Add(-d.cfg.KeepFor)
	d.keptMu.Lock()
	defer d.keptMu.Unlock()
	list := d.kept[device]
	for _, e := range events {
		list = append(list, keptEvent{event: e, at: now})
	}
	i := 0
	for i < len(list) && list[i].at.Before(cutoff) {
		i++
	}
	list = list[i:]
	if len(list) > maxKept {
		list = list[len(list)-maxKept:]
	}
	d.kept[device] = list
	for dev, l := range d.kept { // forget devices gone quiet
		if len(l) == 0 || l[len(l)-1].at.Before(cutoff) {
			delete(d.kept, dev)
		}
	}
}

// takeKept removes and returns the lock's kept events still fresh, marked
// Replayed. A state report is left out: it says where the lock stood, and
// the takeover reads the lock's state anew.
func (d *Delivery) takeKept(device string) []sparekey.DeviceEvent {
	d.keptMu.Lock()
	list, ok := d.kept[device]
	delete(d.kept, device)
	d.keptMu.Unlock()
	if !ok {
		return nil
	}
	cutoff := time.Now().Add(-d.cfg.KeepFor)
	var events []sparekey.DeviceEvent
	for _, k := range list {
		if k.event.Kind != sparekey.EventState && !k.at.Before(cutoff) {
			e := k.event
			e.Replayed = true
			events = append(events, e)
		}
	}
	if len(events) > 0 {
		d.log.Info("handing over reports kept while another instance owned the lock", "device", device, "events", len(events))
	}
	return events
}
