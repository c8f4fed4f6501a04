package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"sparekey"
	"sparekey/contact"
)

// Header is the roster CSV header, in this order.
var Header = []string{"property", "unit", "lock", "name", "email", "phone"}

// MaxRows and MaxFileSize bound one import file.
const (
	MaxRows     = 100000
	MaxFileSize = 64 << 20
)

// ParseCSV reads a roster file. It reads every row before anything is
// written and returns the first problem as "line N: field: what is wrong".
// Emails are lower-cased and phones turned into E.164 with defaultRegion.
func ParseCSV(r io.Reader, defaultRegion string) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, invalidf("the file is larger than %d MiB", MaxFileSize>>20)
	}
	lines := strings.Split(string(data), "\n")
	csvError := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return invalidf("line %d: %s: %v", pe.StartLine, fieldAt(lines, pe), pe.Err)
		}
		return err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line 1: the file is empty; the first line must be %s", strings.Join(Header, ","))
	} else if err != nil {
		return nil, csvError(err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	for i := range head {
		head[i] = strings.ToLower(strings.TrimSpace(head[i]))
	}
	if strings.Join(head, ",") != strings.Join(Header, ",") {
		return nil, invalidf("line 1: header must be %s, got %s", strings.Join(Header, ","), strings.Join(head, ","))
	}
	var entries []Entry
	seenEmail, seenPhone := map[string]int{}, map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(Header) {
			return nil, invalidf("line %d: expected %d fields (%s), got %d", line, len(Header), strings.Join(Header, ","), len(rec))
		}
		if len(entries) >= MaxRows {
			return nil, invalidf("line %d: a roster file holds at most %d residents", line, MaxRows)
		}
		e, err := parseRow(rec, line, defaultRegion)
		if err != nil {
			return nil, err
		}
		if first, dup := seenEmail[e.Email]; dup {
			return nil, invalidf("line %d: email: %s is also on line %d", line, e.Email, first)
		}
		if first, dup := seenPhone[e.Phone]; dup {
			return nil, invalidf("line %d: phone: %s is also on line %d; each resident needs their own phone to get codes by text", line, e.Phone, first)
		}
		seenEmail[e.Email], seenPhone[e.Phone] = line, line
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, invalidf("line 2: the file has a header but no residents")
	}
	return entries, nil
}

func parseRow(rec []string, line int, region string) (Entry, error) {
	f := map[string]string{}
	for i, name := range Header {
		v := strings.TrimSpace(rec[i])
		if !utf8.ValidString(v) {
			return Entry{}, invalidf("line %d: %s: not valid UTF-8 text", line, name)
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return Entry{}, invalidf("line %d: %s: contains a control character or line break", line, name)
		}
		if v == "" {
			return Entry{}, invalidf("line %d: %s: must not be empty", line, name)
		}
		if len(v) > 200 {
			return Entry{}, invalidf("line %d: %s: longer than 200 characters", line, name)
		}
		f[name] = v
	}
	if !ValidDevice(f["lock"]) {
		return Entry{}, invalidf("line %d: lock: %q is not a device name (letters, digits, - and _ only, or a driver's address such as zwave://bldg-a/12)", line, f["lock"])
	}
	email := strings.ToLower(f["email"])
	if kind, norm, err := contact.Parse(email, region); err != nil || kind != "email" {
		return Entry{}, invalidf("line %d: email: %q is not an email address", line, f["email"])
	} else {
		email = norm
	}
	phone, ok := contact.NormalizePhone(f["phone"], region)
	if !ok {
		return Entry{}, invalidf("line %d: phone: %q is not a valid phone number", line, f["phone"])
	}
	if contact.Costly(phone) {
		return Entry{}, invalidf("line %d: phone: %q is a premium-rate or shared-cost number, never a resident's phone", line, f["phone"])
	}
	return Entry{Line: line, Property: f["property"], Unit: f["unit"], Lock: f["lock"], Name: f["name"], Email: email, Phone: phone}, nil
}

// ValidDevice reports whether s is a device name Sparekey accepts: a
// Zigbee2MQTT name, safe in MQTT topics and URLs, or another driver's
// address, scheme://HUB/ID (zwave://bldg-a/12), whose parts are as safe.
func ValidDevice(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return validName(s, false)
	}
	hub, id, _ := strings.Cut(rest, "/")
	return len(s) <= 100 && scheme != "" && strings.ToLower(scheme) == scheme && validName(scheme, false) &&
		!strings.ContainsAny(scheme, "-_") && validName(hub, true) && (id == "" && !strings.HasSuffix(rest, "/") || validName(id, true))
}

// validName: 1-64 letters, digits, "-" and "_", and "." where dots may
// stand (a hub's host-like name).
func validName(s string, dots bool) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || dots && c == '.') {
			return false
		}
	}
	return true
}

// invalidf is a problem with the file, for the person who wrote it.
func invalidf(format string, args ...any) error {
	return sparekey.Errorf(sparekey.EINVALID, format, args...)
}

// fieldAt names the field a CSV syntax error is in, by walking the raw
// record from its first line to the error's position, counting the commas
// outside quotes.
func fieldAt(lines []string, pe *csv.ParseError) string {
	field, quoted := 0, false
walk:
	for ln := pe.StartLine; ln <= pe.Line && ln <= len(lines); ln++ {
		for i := 0; i < len(lines[ln-1]); i++ {
			if ln == pe.Line && i+1 >= pe.Column {
				break walk
			}
			switch lines[ln-1][i] {
			case '"':
				quoted = !quoted
			case ',':
				if !quoted {
					field++
				}
			}
		}
	}
	if field < len(Header) {
		return Header[field]
	}
	return fmt.Sprintf("field %d", field+1)
}
