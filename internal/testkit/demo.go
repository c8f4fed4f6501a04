package testkit

import "time"

// T0 is when every test starts: Monday 2 March 2026, 14:00 UTC, which is
// 9:00 in New York, the demo property's time zone, so messages and pages
// that print a time of day print a morning one. Whole seconds, so it is
// stored as it is. A test's clock stands still until the test moves it.
var T0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// The demo data (roster.Demo and roster.SeedDemo; docs/api.md), spelled
// out so a test checks against values and not against the code it tests.
const (
	Maple            = "Maple Court Apartments" // the demo's one property
	MapleMaintenance = "maintenance@example.com"
	MaplePhone       = "+12015550199" // the maintenance team's phone
	FrontDoor        = "Front door"   // the name of every demo lock

	AnaEmail = "ana@example.com" // Ana Ruiz, unit 101
	AnaPhone = "+12015550101"
	AnaCode  = "482916"
	AnaLock  = "unit-101-front"

	BenEmail = "ben@example.com" // Ben Okafor, unit 102
	BenPhone = "+12015550102"
	BenCode  = "731845"
	BenLock  = "unit-102-front"

	ChenEmail = "chen@example.com" // Chen Wei, unit 103
	ChenPhone = "+12015550103"
	ChenCode  = "590273"
	ChenLock  = "unit-103-front"

	// StrangerPhone is a valid US number that is nobody's.
	StrangerPhone = "+12015550177"
)
