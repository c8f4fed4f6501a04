package roster_test

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sparekey"
	"sparekey/roster"
)

const header = "property,unit,lock,name,email,phone\n"

func TestParseCSVGood(t *testing.T) {
	t.Parallel()
	file := "\ufeff Property , UNIT,lock,Name,EMAIL,phone \r\n" +
		"Birch Hall,1A,birch-1a-front,Ann Lee,Ann.Lee@Example.COM,(201) 555-0101\r\n" +
		"\r\n" +
		`Birch Hall,1A,birch-1a-front,"Okafor, Ben",  ben@example.com ,201.555.0102` + "\r\n" +
		"Birch Hall, 1B ,birch_1b_front,\"Chen \"\"CJ\"\" Wei\",CHEN@EXAMPLE.COM,+1 201 555 0103\r\n" +
		"Oak Court,7,oak-7-front,Dee,dee@example.com,201-555-0104\r\n" +
		"Oak Court,8,oak-8-front,Eve,eve@example.co.uk,+44 20 7946 0958\r\n" +
		"\r\n"
	got, err := roster.ParseCSV(strings.NewReader(file), "US")
	if err != nil {
		t.Fatal(err)
	}
	want := []roster.Entry{
		{Line: 2, Property: "Birch Hall", Unit: "1A", Lock: "birch-1a-front", Name: "Ann Lee", Email: "ann.lee@example.com", Phone: "+12015550101"},
		{Line: 4, Property: "Birch Hall", Unit: "1A", Lock: "birch-1a-front", Name: "Okafor, Ben", Email: "ben@example.com", Phone: "+12015550102"},
		{Line: 5, Property: "Birch Hall", Unit: "1B", Lock: "birch_1b_front", Name: `Chen "CJ" Wei`, Email: "chen@example.com", Phone: "+12015550103"},
		{Line: 6, Property: "Oak Court", Unit: "7", Lock: "oak-7-front", Name: "Dee", Email: "dee@example.com", Phone: "+12015550104"},
		{Line: 7, Property: "Oak Court", Unit: "8", Lock: "oak-8-front", Name: "Eve", Email: "eve@example.co.uk", Phone: "+442079460958"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCSV:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseCSVLineEndings(t *testing.T) {
	t.Parallel()
	rows := []string{
		"property,unit,lock,name,email,phone",
		"Birch,1A,b-1a,Ann,ann@example.com,2015550101",
		"Birch,1B,b-1b,Bob,bob@example.com,2015550102",
	}
	for _, eol := range []string{"\n", "\r\n"} {
		for _, last := range []string{"", eol, eol + eol} {
			file := strings.Join(rows, eol) + last
			got, err := roster.ParseCSV(strings.NewReader(file), "US")
			if err != nil || len(got) != 2 || got[1].Line != 3 || got[1].Phone != "+12015550102" {
				t.Errorf("%q: %+v, %v", file, got, err)
			}
		}
	}
}

// A phone without a country code is read in the default region.
func TestParseCSVDefaultRegion(t *testing.T) {
	t.Parallel()
	got, err := roster.ParseCSV(strings.NewReader(header+"Birch,1A,b-1a,Ann,ann@example.com,020 7946 0958\n"), "GB")
	if err != nil || got[0].Phone != "+442079460958" {
		t.Fatalf("GB number: %+v, %v", got, err)
	}
	if _, err := roster.ParseCSV(strings.NewReader(header+"Birch,1A,b-1a,Ann,ann@example.com,020 7946 0958\n"), "US"); err == nil {
		t.Fatal("a GB number without +44 was accepted in region US")
	}
}

func TestParseCSVBad(t *testing.T) {
	t.Parallel()
	good := "Birch,1A,b-1a,Ann,ann@example.com,2015550101\n"
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name  string
		file  string
		line  int
		field string // a word the message must hold: the field, or what is wrong
	}{
		{"empty file", "", 1, "property,unit,lock,name,email,phone"},
		{"only a BOM", "\ufeff", 1, "property,unit,lock,name,email,phone"},
		{"wrong header", "name,email,phone,property,unit,lock\n" + good, 1, "header"},
		{"header missing a column", "property,unit,lock,name,email\n" + good, 1, "header"},
		{"header with an extra column", "property,unit,lock,name,email,phone,code\n" + good, 1, "header"},
		{"no header", good + good, 1, "header"},
		{"no rows", header, 2, "no residents"},
		{"only blank rows", header + "\n   \n\n", 2, "no residents"},
		{"missing field", header + good + "Birch,1B,b-1b,Bob,bob@example.com\n", 3, "6 fields"},
		{"extra field", header + good + "Birch,1B,b-1b,Bob,bob@example.com,2015550102,482916\n", 3, "6 fields"},
		{"empty property", header + good + ",1B,b-1b,Bob,bob@example.com,2015550102\n", 3, "property"},
		{"empty unit", header + "Birch,,b-1a,Ann,ann@example.com,2015550101\n", 2, "unit"},
		{"blank lock", header + "Birch,1A,   ,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"empty name", header + `Birch,1A,b-1a,"",ann@example.com,2015550101` + "\n", 2, "name"},
		{"empty email", header + "Birch,1A,b-1a,Ann,,2015550101\n", 2, "email"},
		{"empty phone", header + "Birch,1A,b-1a,Ann,ann@example.com,\n", 2, "phone"},
		{"all empty", header + ",,,,,\n", 2, "property"},
		{"email without @", header + good + "Birch,1B,b-1b,Bob,bob.example.com,2015550102\n", 3, "email"},
		{"email without domain dot", header + "Birch,1A,b-1a,Ann,ann@localhost,2015550101\n", 2, "email"},
		{"email with display name", header + "Birch,1A,b-1a,Ann,Ann <ann@example.com>,2015550101\n", 2, "email"},
		{"email with space", header + "Birch,1A,b-1a,Ann,ann lee@example.com,2015550101\n", 2, "email"},
		{"phone number in email", header + "Birch,1A,b-1a,Ann,2015550101,2015550101\n", 2, "email"},
		{"short phone", header + good + "Birch,1B,b-1b,Bob,bob@example.com,555-0102\n", 3, "phone"},
		{"phone with letters", header + "Birch,1A,b-1a,Ann,ann@example.com,1-800-FLOWERS\n", 2, "phone"},
		{"email in phone", header + "Birch,1A,b-1a,Ann,ann@example.com,ann@example.com\n", 2, "phone"},
		{"invalid number", header + "Birch,1A,b-1a,Ann,ann@example.com,+1 000 000 0000\n", 2, "phone"},
		{"device with space", header + "Birch,1A,unit 101 front,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"device with slash", header + "Birch,1A,zigbee2mqtt/b-1a,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"device with MQTT wildcard", header + "Birch,1A,b-#,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"device with plus", header + "Birch,1A,b+1a,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"device too long", header + "Birch,1A," + strings.Repeat("a", 65) + ",Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"device not ASCII", header + "Birch,1A,b-1ä,Ann,ann@example.com,2015550101\n", 2, "lock"},
		{"field too long", header + "Birch,1A,b-1a," + long + ",ann@example.com,2015550101\n", 2, "name"},
		{"invalid UTF-8", header + "Birch,1A,b-1a,Ann\xff,ann@example.com,2015550101\n", 2, "name"},
		{"duplicate email", header + good + "Birch,1B,b-1b,Bob,bob@example.com,2015550102\nBirch,1C,b-1c,Ann B,ANN@example.com,2015550103\n", 4, "email"},
		{"duplicate phone", header + good + "Birch,1B,b-1b,Bob,bob@example.com,(201) 555-0101\n", 3, "phone"},
		{"premium-rate phone", header + "Birch,1A,b-1a,Ann,ann@example.com,+1 900 555 0101\n", 2, "phone"},
		{"CRLF line number", strings.ReplaceAll(header+good+"Birch,1B,b-1b,Bob,bob@example.com,2015550102\nBirch,1C,b-1c,Cy,cy@example.com,x\n", "\n", "\r\n"), 4, "phone"},
		{"quoted line break", header + "Birch,1A,b-1a,\"Ann\nLee\",ann@example.com,2015550101\nBirch,1B,b-1b,Bob,bob@,2015550102\n", 2, "name"},
		{"after blank lines", header + "\n\n" + good + "\nBirch,1B,,Bob,bob@example.com,2015550102\n", 6, "lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := roster.ParseCSV(strings.NewReader(tc.file), "US")
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if got != nil {
				t.Errorf("entries returned with the error: %+v", got)
			}
			msg := err.Error()
			if prefix := fmt.Sprintf("line %d: ", tc.line); !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tc.field) {
				t.Errorf("error %q does not name %q", msg, tc.field)
			}
		})
	}
}

// A quoting mistake names the line where the bad field starts and the
// field, like every other mistake.
func TestParseCSVBadQuotes(t *testing.T) {
	t.Parallel()
	good := "Birch,1A,b-1a,Ann,ann@example.com,2015550101\n"
	more := "Birch,1C,b-1c,Cy,cy@example.com,2015550103\nBirch,1D,b-1d,Di,di@example.com,2015550104\n"
	var wrong []string
	for _, tc := range []struct {
		name, file string
		line       int
		field      string
	}{
		{"quote inside a quoted name", header + good + `Birch,1B,b-1b,"Bob "B" Lee",bob@example.com,2015550102` + "\n" + more, 3, "name"},
		{"text after the closing quote", header + good + `Birch,1B,b-1b,"Bob" Lee,bob@example.com,2015550102` + "\n" + more, 3, "name"},
		{"bare quote in an email", header + good + `Birch,1B,b-1b,Bob,bob"@example.com,2015550102` + "\n" + more, 3, "email"},
		{"unclosed quote", header + good + `Birch,1B,b-1b,"Bob,bob@example.com,2015550102` + "\n" + more, 3, "name"},
	} {
		got, err := roster.ParseCSV(strings.NewReader(tc.file), "US")
		if err == nil {
			t.Errorf("%s: accepted %+v", tc.name, got)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, fmt.Sprintf("line %d: ", tc.line)) || !strings.Contains(msg, tc.field) {
			wrong = append(wrong, fmt.Sprintf("%s: got %q, want line %d and field %s", tc.name, msg, tc.line, tc.field))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("regression: quoting errors do not name the field, and a quote left open names the line where the file ended (csvError in roster/csv.go):\n%s",
			strings.Join(wrong, "\n"))
	}
}

// Control characters have no place in a roster field: a NUL is refused by
// PostgreSQL's text type (an internal error instead of a line and field)
// and line breaks end up in message headers and bodies.
func TestParseCSVControlCharacters(t *testing.T) {
	t.Parallel()
	var accepted []string
	for _, name := range []string{"\"Ann\nLee\"", "Ann\x00Lee", "Ann\x1bLee", "\"Ann\rLee\""} {
		file := header + "Birch,1A,b-1a," + name + ",ann@example.com,2015550101\n"
		got, err := roster.ParseCSV(strings.NewReader(file), "US")
		if err == nil {
			accepted = append(accepted, fmt.Sprintf("%q as %q", name, got[0].Name))
		} else if !strings.HasPrefix(err.Error(), "line 2: name: ") {
			t.Errorf("%q: error %q does not name line 2 and the name", name, err)
		}
	}
	if len(accepted) > 0 {
		t.Errorf("regression: names with control characters are accepted (parseRow in roster/csv.go should refuse them as \"line 2: name: …\"): %s",
			strings.Join(accepted, ", "))
	}
}

var (
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	lineError = regexp.MustCompile(`^line [1-9][0-9]*: `)
	device    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func FuzzParseCSV(f *testing.F) {
	f.Add(header+"Birch Hall,1A,birch-1a-front,Ann,Ann@Example.com,(201) 555-0101\n", "US")
	f.Add("\ufeff"+strings.ReplaceAll(header, "\n", "\r\n")+"B,1,b,\"Lee, Ann\",a@b.co,+44 20 7946 0958\r\n\r\n", "US")
	f.Add(header+"B,1,b,A,a@b.co,2015550101\nB,1,b,A,A@B.CO,2015550102\n", "US")
	f.Add(header+`B,1,b,"A "x",a@b.co,2015550101`, "GB")
	f.Add(header+"B,1,b,A,a@b.co\n", "")
	f.Add(header+",,,,,\n", "US")
	f.Add("", "US")
	f.Add(header, "ZZ")
	f.Fuzz(func(t *testing.T, file, region string) {
		entries, err := roster.ParseCSV(strings.NewReader(file), region)
		if err != nil {
			if entries != nil {
				t.Errorf("entries with an error: %+v", entries)
			}
			if !lineError.MatchString(err.Error()) {
				t.Errorf("error %q names no line", err)
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("no error and no entries")
		}
		emails := map[string]bool{}
		line := 1
		for _, e := range entries {
			for name, v := range map[string]string{"property": e.Property, "unit": e.Unit, "lock": e.Lock, "name": e.Name, "email": e.Email, "phone": e.Phone} {
				if strings.TrimSpace(v) == "" || strings.TrimSpace(v) != v {
					t.Errorf("line %d: %s %q is empty or not trimmed", e.Line, name, v)
				}
			}
			if e.Email != strings.ToLower(e.Email) || !strings.Contains(e.Email, "@") {
				t.Errorf("line %d: email %q", e.Line, e.Email)
			}
			if emails[e.Email] {
				t.Errorf("line %d: email %q twice", e.Line, e.Email)
			}
			emails[e.Email] = true
			if !e164.MatchString(e.Phone) {
				t.Errorf("line %d: phone %q is not E.164", e.Line, e.Phone)
			}
			if !device.MatchString(e.Lock) {
				t.Errorf("line %d: lock %q is not a device name", e.Line, e.Lock)
			}
			if e.Line <= line || e.AccessCode != "" || e.LockName != "" {
				t.Errorf("entry %+v after line %d", e, line)
			}
			line = e.Line
		}
	})
}

// Problems with the file are invalid_request errors, not internal ones: a
// staff page importing a roster shows them as they are.
func TestParseCSVErrorsAreInvalid(t *testing.T) {
	t.Parallel()
	_, err := roster.ParseCSV(strings.NewReader(header+"Birch,1A,b-1a,Ann,ann@,2015550101\n"), "US")
	if sparekey.ErrorCode(err) != sparekey.EINVALID || sparekey.ErrorMessage(err) != `line 2: email: "ann@" is not an email address` {
		t.Fatalf("error %v (%s)", err, sparekey.ErrorCode(err))
	}
}

// A lock is a Zigbee2MQTT name or another driver's scheme://HUB/ID
// address, each part as safe in URLs and topics as a plain name.
func TestValidDevice(t *testing.T) {
	for s, want := range map[string]bool{
		"unit-101-front":      true,
		"zwave://bldg-a/12":   true,
		"zwave://hub.local/3": true,
		"seam://dev_1":        true,
		"unit 101":            false,
		"unit.101":            false,
		"zwave://":            false,
		"zwave://bldg-a/":     false,
		"zwave:///12":         false,
		"zwave://bldg-a/1/2":  false,
		"Zwave://bldg-a/12":   false,
		"z-wave://bldg-a/12":  false,
		"zwave://bldg a/12":   false,
		"://bldg-a/12":        false,
		"zwave://bldg-a/1+2":  false,
		"":                    false,
	} {
		if got := roster.ValidDevice(s); got != want {
			t.Errorf("ValidDevice(%q) = %v, want %v", s, got, want)
		}
	}
}
