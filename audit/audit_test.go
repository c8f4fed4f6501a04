package audit_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"sparekey"
	"sparekey/internal/testkit"
)

// A staff member's audit search shows only what concerns their
// properties; the admin (nil) sees everything.
func TestSearchScopedToProperties(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mia := b.account(t, "mia@example.com", sparekey.RoleMaintenance, b.maple.ID)
	olaf := b.account(t, "olaf@example.com", sparekey.RoleManager, b.birch.ID)
	var ana, dee *sparekey.Resident
	var wo *sparekey.WorkOrder
	b.db.MustWrite(t, func(tx sparekey.Tx) (err error) {
		if ana, err = tx.ResidentByEmail(b.ctx, "ana@example.com"); err != nil {
			return err
		}
		if dee, err = tx.ResidentByEmail(b.ctx, "dee@example.com"); err != nil {
			return err
		}
		lock, err := tx.LockByDevice(b.ctx, dee1a)
		if err != nil {
			return err
		}
		wo = &sparekey.WorkOrder{PropertyID: b.birch.ID, UnitID: lock.UnitID, LockID: lock.ID, Kind: sparekey.WorkOrderLockJam,
			Status: sparekey.WorkOrderOpen, Source: sparekey.SourceStaff, Summary: "Stuck.", CreatedAt: testkit.T0, UpdatedAt: testkit.T0}
		return tx.CreateWorkOrder(b.ctx, wo)
	})

	// One line per kind of subject, each the property's it names.
	type line struct {
		subject string
		detail  map[string]string
		prop    int64 // 0: nobody's
	}
	lines := []line{
		{"lock:" + testkit.AnaLock, nil, b.maple.ID},
		{"lock:" + dee1a, nil, b.birch.ID},
		{fmt.Sprintf("resident:%d", ana.ID), nil, b.maple.ID},
		{fmt.Sprintf("resident:%d", dee.ID), nil, b.birch.ID},
		{"link:7", map[string]string{"resident": fmt.Sprint(dee.ID)}, b.birch.ID},
		{"link:8", nil, 0},
		{fmt.Sprintf("work_order:%d", wo.ID), nil, b.birch.ID},
		{fmt.Sprintf("property:%d", b.maple.ID), nil, b.maple.ID},
		{fmt.Sprintf("property:%d", b.birch.ID), nil, b.birch.ID},
		{fmt.Sprintf("staff:%d", mia.ID), nil, b.maple.ID},
		{fmt.Sprintf("staff:%d", olaf.ID), nil, b.birch.ID},
		{fmt.Sprintf("staff:%d", mia.ID), map[string]string{"lock": dee1a}, b.birch.ID},
		{"staff:unknown", nil, 0},
		{"lock:no-such-lock", nil, 0},
		{"resident:9999", nil, 0},
		{"roster", nil, 0},
	}
	b.db.MustWrite(t, func(tx sparekey.Tx) error {
		for i, l := range lines {
			e := &sparekey.AuditEvent{At: testkit.T0.Add(time.Duration(i) * time.Second), Actor: "system", Action: "test.event",
				Subject: l.subject, Detail: map[string]string{"n": fmt.Sprint(i)}}
			for k, v := range l.detail {
				e.Detail[k] = v
			}
			if err := tx.RecordAudit(b.ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	seen := func(allowed func(int64) bool) []string {
		t.Helper()
		evs, err := b.log.Search(b.ctx, sparekey.AuditFilter{ActionPrefix: "test."}, allowed)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range evs {
			out = append(out, e.Detail["n"])
		}
		slices.Sort(out)
		return out
	}
	want := func(props ...int64) []string {
		out := []string{}
		for i, l := range lines {
			if props == nil || (l.prop != 0 && slices.Contains(props, l.prop)) {
				out = append(out, fmt.Sprint(i))
			}
		}
		slices.Sort(out)
		return out
	}
	for name, c := range map[string]struct {
		allowed func(int64) bool
		want    []string
	}{
		"Maple Court's staff": {allow(b.maple.ID), want(b.maple.ID)},
		"Birch Hall's staff":  {allow(b.birch.ID), want(b.birch.ID)},
		"staff of both":       {allow(b.maple.ID, b.birch.ID), want(b.maple.ID, b.birch.ID)},
		"staff of neither":    {allow(), want(-1)},
		"the admin":           {nil, want()},
	} {
		if got := seen(c.allowed); !slices.Equal(got, c.want) {
			t.Errorf("%s see lines %q, want %q", name, got, c.want)
		}
	}

	// Sign-ins are seen by the team of the one who signed in.
	b.signIn(t, "mia@example.com", password)
	in := func(allowed func(int64) bool) int {
		evs, err := b.log.Search(b.ctx, sparekey.AuditFilter{ActionPrefix: "staff.signed_in"}, allowed)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	if m, bh, all := in(allow(b.maple.ID)), in(allow(b.birch.ID)), in(nil); m != 1 || bh != 0 || all != 1 {
		t.Errorf("Mia's sign-in seen by Maple Court %d, Birch Hall %d, the admin %d; want 1, 0, 1", m, bh, all)
	}

	// The limit holds, scoped or not.
	for _, allowed := range []func(int64) bool{nil, allow(b.maple.ID, b.birch.ID)} {
		evs, err := b.log.Search(b.ctx, sparekey.AuditFilter{ActionPrefix: "test.", Limit: 2}, allowed)
		if err != nil || len(evs) != 2 {
			t.Errorf("Search with limit 2 = %d lines, %v", len(evs), err)
		}
	}
}
