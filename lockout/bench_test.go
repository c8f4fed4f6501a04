package lockout_test

import (
	"testing"

	"sparekey/internal/testkit"
	"sparekey/lockout"
)

// BenchmarkRequestCode measures the Get Code answer path on a real SQLite
// store: parse, per-IP count, one insert. A known and an unknown contact
// must cost the same (docs/security.md rule 2): compare them with benchstat.
func BenchmarkRequestCode(b *testing.B) {
	for _, tc := range []struct{ name, contact string }{{"known", testkit.AnaEmail}, {"unknown", "nobody@example.org"}} {
		b.Run(tc.name, func(b *testing.B) {
			bundle := setup(b, func(c *lockout.Config) { c.IPLimit = 1 << 30 })
			req := lockout.CodeRequest{Contact: tc.contact, IP: testIP, UserAgent: testUA}
			b.ReportAllocs()
			for b.Loop() {
				if err := bundle.svc.RequestCode(bundle.ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
