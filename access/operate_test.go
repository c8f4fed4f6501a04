package access_test

import (
	"context"
	"strings"
	"testing"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/sim"
)

func TestOperate(t *testing.T) {
	t.Parallel()
	b := setup(t)

	if err := b.svc.Doors.Operate(b.ctx, testkit.AnaLock, true, "staff:admin"); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.fleet.Status(testkit.AnaLock); st.State != sparekey.LockStateUnlocked {
		t.Errorf("virtual lock = %s after a remote unlock", st.State)
	}
	if l := b.lock(t, testkit.AnaLock); l.State != sparekey.LockStateUnlocked {
		t.Errorf("stored state = %s after a remote unlock", l.State)
	}
	a := b.auditsOf(t, "lock.remote_unlock")
	if len(a) != 1 || a[0].Actor != "staff:admin" || a[0].Subject != "lock:"+testkit.AnaLock || a[0].Detail["result"] != "ok" {
		t.Errorf("unlock audit = %+v", a)
	}
	if err := b.svc.Doors.Operate(b.ctx, testkit.AnaLock, false, "resident:1"); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.fleet.Status(testkit.AnaLock); st.State != sparekey.LockStateLocked {
		t.Errorf("virtual lock = %s after a remote lock", st.State)
	}
	if a := b.auditsOf(t, "lock.remote_lock"); len(a) != 1 || a[0].Actor != "resident:1" || a[0].Detail["result"] != "ok" {
		t.Errorf("lock audit = %+v", a)
	}

	b.setState(t, testkit.BenLock, offline)
	err := b.svc.Doors.Operate(b.ctx, testkit.BenLock, true, "staff:admin")
	wantCode(t, err, sparekey.ELOCKOFFLINE)
	if msg := sparekey.ErrorMessage(err); !strings.Contains(msg, "Front door") || !strings.Contains(msg, "offline") {
		t.Errorf("offline message = %q", msg)
	}

	b.setState(t, testkit.ChenLock, jam)
	err = b.svc.Doors.Operate(b.ctx, testkit.ChenLock, true, "staff:admin")
	wantCode(t, err, sparekey.ELOCKJAMMED)
	if st, _ := b.fleet.Status(testkit.ChenLock); st.State != sparekey.LockStateJammed {
		t.Errorf("jammed lock = %s", st.State)
	}

	wantCode(t, b.svc.Doors.Operate(b.ctx, "unit-999-front", true, "staff:admin"), sparekey.ENOTFOUND)

	// Refused attempts are audited too: who tried which door, and why not.
	var refused []string
	for _, a := range b.auditsOf(t, "lock.remote_unlock") {
		if a.Detail["result"] != "ok" {
			refused = append(refused, a.Subject+" "+a.Actor+" "+a.Detail["result"])
		}
	}
	sameList(t, "refused unlocks audited", refused, []string{
		"lock:" + testkit.BenLock + " staff:admin " + sparekey.ELOCKOFFLINE,
		"lock:" + testkit.ChenLock + " staff:admin " + sparekey.ELOCKJAMMED,
	})
}

// unreachable fails every command to one lock as offline, as a hub does when
// a lock went away without the hub having noticed yet.
type unreachable struct {
	*sim.Fleet
	device string
}

func (d unreachable) Unlock(ctx context.Context, device string) error {
	if device == d.device {
		return sparekey.Errorf(sparekey.ELOCKOFFLINE, "lock %s did not answer", device)
	}
	return d.Fleet.Unlock(ctx, device)
}

func TestOperateDriverError(t *testing.T) {
	t.Parallel()
	b := setup(t, withDriver(func(f *sim.Fleet) sparekey.LockDriver { return unreachable{f, testkit.AnaLock} }))
	wantCode(t, b.svc.Doors.Operate(b.ctx, testkit.AnaLock, true, "staff:admin"), sparekey.ELOCKOFFLINE)
	a := b.auditsOf(t, "lock.remote_unlock")
	if len(a) != 1 || a[0].Detail["result"] != sparekey.ELOCKOFFLINE {
		t.Errorf("audit of a failed unlock = %+v", a)
	}
	if st, _ := b.fleet.Status(testkit.AnaLock); st.State != sparekey.LockStateLocked {
		t.Errorf("virtual lock = %s", st.State)
	}
}

func TestLockInfo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	info := b.lockInfo(t, testkit.BenLock)
	if info.Lock.Device != testkit.BenLock || info.Lock.Name != "Front door" || info.Unit != "102" ||
		info.SlotsPending != 4 || info.SlotsFailed != 0 || info.PoolReady != 0 {
		t.Errorf("before the reconciler: %+v", info)
	}
	b.runOnce(t)
	if info := b.lockInfo(t, testkit.BenLock); info.SlotsPending != 0 || info.PoolReady != 3 {
		t.Errorf("after the reconciler: %+v", info)
	}
	b.issue(t, testkit.BenEmail)
	if info := b.lockInfo(t, testkit.BenLock); info.PoolReady != 2 {
		t.Errorf("after issuing one code: %+v", info)
	}
	_, err := b.svc.Doors.LockInfo(b.ctx, "unit-999-front")
	wantCode(t, err, sparekey.ENOTFOUND)
}

// impatient is a driver whose caller gives up while the unlock is on its
// way: the lock moves, the caller sees its context end.
type impatient struct {
	*sim.Fleet
	cancel context.CancelFunc
}

func (d impatient) Unlock(ctx context.Context, device string) error {
	err := d.Fleet.Unlock(ctx, device)
	d.cancel()
	if err != nil {
		return err
	}
	return ctx.Err()
}

// TestOperateAuditedWhenTheCallerLeaves: a remote unlock whose caller hangs
// up is still in the audit trail, with the staff member who asked.
func TestOperateAuditedWhenTheCallerLeaves(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	b := setup(t, withDriver(func(f *sim.Fleet) sparekey.LockDriver { return impatient{f, cancel} }))
	if err := b.svc.Doors.Operate(ctx, testkit.AnaLock, true, "staff:admin"); err == nil {
		t.Fatal("Operate with the caller gone returned no error")
	}
	a := b.auditsOf(t, "lock.remote_unlock")
	if len(a) != 1 || a[0].Actor != "staff:admin" || a[0].Detail["result"] != "not_awaited" {
		t.Fatalf("unlock audit = %+v", a)
	}
}
