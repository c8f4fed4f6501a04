package roster_test

import (
	"strings"
	"testing"

	"sparekey"
	"sparekey/internal/testkit"
	"sparekey/roster"
)

// TestMoveIn: staff move a resident into an existing unit; the resident
// gets an access code on the unit's lock and, when asked, a welcome email.
// Bad input is refused with a clear message and writes nothing, and a
// premium-rate or shared-cost phone is never a resident's (docs/security.md
// rule 5), as in the CSV imports.
func TestMoveIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustAdd(t, birch)
	d := &roster.Directory{Store: b.db, Codes: b.codes, Clock: b.clock, Region: "US", BaseURL: "https://keys.example"}
	var birchID int64
	b.read(t, func(tx sparekey.Tx) error {
		p, err := tx.PropertyByName(b.ctx, "Birch Hall")
		birchID = p.ID
		return err
	})
	newcomer := roster.Newcomer{PropertyID: birchID, Unit: "1B", Name: "Eve Stone", Email: "Eve@Example.com", Phone: "(201) 555-0155"}

	before := b.dump(t)
	for _, tc := range []struct {
		name, want string
		change     func(*roster.Newcomer)
	}{
		{"US premium rate", "premium-rate", func(n *roster.Newcomer) { n.Phone = "+1 900 555 0101" }},
		{"UK premium rate", "premium-rate", func(n *roster.Newcomer) { n.Phone = "+44 909 879 0000" }},
		{"not a phone", "is not a valid phone number", func(n *roster.Newcomer) { n.Phone = "555" }},
		{"not an email", "is not an email address", func(n *roster.Newcomer) { n.Email = "eve.example.com" }},
		{"no name", "Give the resident's name", func(n *roster.Newcomer) { n.Name = "  " }},
		{"no such unit", `Birch Hall has no unit "9Z"`, func(n *roster.Newcomer) { n.Unit = "9Z" }},
		{"email on the roster", "already on the roster", func(n *roster.Newcomer) { n.Email = "ann@example.com" }},
		{"phone of another resident", "already another resident's phone", func(n *roster.Newcomer) { n.Phone = "(201) 555-0121" }},
	} {
		n := newcomer
		tc.change(&n)
		_, err := d.MoveIn(b.ctx, n, "staff:1")
		if sparekey.ErrorCode(err) != sparekey.EINVALID || !strings.Contains(sparekey.ErrorMessage(err), tc.want) {
			t.Errorf("%s: MoveIn = %v, want invalid mentioning %q", tc.name, err, tc.want)
		}
		sameDump(t, tc.name, before, b.dump(t))
	}

	newcomer.Welcome = true
	r, err := d.MoveIn(b.ctx, newcomer, "staff:1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Email != "eve@example.com" || r.Phone != "+12015550155" {
		t.Errorf("moved in %+v", r)
	}
	if got := b.residentSlots(t, r); len(got) != 1 || got["birch-1b-front"] == nil {
		t.Errorf("Eve's access codes: %v", got)
	}
	var welcomes []string
	for _, m := range b.db.Messages(t) {
		if m.Kind == "welcome" {
			welcomes = append(welcomes, m.To)
			if !strings.Contains(m.Body, "https://keys.example/app") {
				t.Errorf("welcome without the app's link:\n%s", m.Body)
			}
		}
	}
	testkit.SameList(t, "welcome emails", welcomes, []string{"eve@example.com"})
	if got := b.db.AuditOf(t, "resident.moved_in"); len(got) != 5 || got[4].Actor != "staff:1" {
		t.Errorf("moved-in audit lines: %d, last %+v", len(got), got[len(got)-1])
	}
}

// TestAddRefusesPremiumRatePhones: an entry that did not come through the
// CSV parser (which refuses such numbers first) is refused too.
func TestAddRefusesPremiumRatePhones(t *testing.T) {
	t.Parallel()
	b := setup(t)
	before := b.dump(t)
	err := roster.Add(b.ctx, b.db, b.codes, b.clock, []roster.Entry{{Property: "Birch Hall", Unit: "1A", Lock: "birch-1a-front",
		Name: "Ann Lee", Email: "ann@example.com", Phone: "+19005550101"}})
	if sparekey.ErrorCode(err) != sparekey.EINVALID || !strings.Contains(err.Error(), "premium-rate") {
		t.Errorf("Add with a premium-rate phone = %v", err)
	}
	sameDump(t, "refused entry", before, b.dump(t))
}
