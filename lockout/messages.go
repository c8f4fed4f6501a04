package lockout

import (
	"bytes"
	"context"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"github.com/nyaruka/phonenumbers"

	"sparekey"
)

// place is where a resident lives, as messages name it: a text from an
// unknown sender with a link looks like phishing, one naming your building
// and unit less so.
type place struct {
	Property string
	Unit     string
	Phone    string // maintenance, national format; "" when unknown
	Dial     string // maintenance, E.164
	Email    string // maintenance
	loc      *time.Location
}

func (p place) help() Help {
	return Help{Property: p.Property, Phone: p.Phone, Dial: p.Dial, Email: p.Email}
}

func placeOf(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident) place {
	p := place{loc: time.UTC}
	unit, err := tx.Unit(ctx, r.UnitID)
	if err != nil {
		return p
	}
	p.Unit = unit.Name
	prop, err := tx.Property(ctx, unit.PropertyID)
	if err != nil {
		return p
	}
	p = placeOfProperty(prop)
	p.Unit = unit.Name
	return p
}

func placeOfProperty(prop *sparekey.Property) place {
	p := place{Property: prop.Name, Email: prop.MaintenanceEmail, loc: time.UTC}
	if n, err := phonenumbers.Parse(prop.MaintenancePhone, ""); err == nil && prop.MaintenancePhone != "" {
		p.Phone, p.Dial = phonenumbers.Format(n, phonenumbers.NATIONAL), prop.MaintenancePhone
	}
	if loc, err := time.LoadLocation(prop.Timezone); err == nil {
		p.loc = loc
	}
	return p
}

// short is the property's name cut to fit an SMS.
func (p place) short() string {
	name := p.Property
	if name == "" {
		return "Sparekey"
	}
	if r := []rune(name); len(r) > 24 {
		name = strings.TrimSpace(string(r[:23])) + "…"
	}
	return name
}

// linkSMS fits one SMS segment with a link of up to about 80 characters.
func linkSMS(p place, link string) string {
	return p.short() + ": your backup door code link, valid 30 min: " + link + " Not you? Ignore this."
}

type linkData struct {
	Name, Link, Expires, NewRequest string
	Place                           place
}

var linkEmailText = template.Must(template.New("text").Parse(`Hi {{.Name}},

You asked for a backup code for your door{{if .Place.Unit}} (unit {{.Place.Unit}}{{if .Place.Property}}, {{.Place.Property}}{{end}}){{end}}. Open this link and tap "Show my code":

{{.Link}}

The link works until {{.Expires}}, 30 minutes after you asked. After that, ask for a new one at {{.NewRequest}}

A backup code works once, for 24 hours at most.

If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will open it until the bolt is free: push or pull the door toward the frame while you enter the code.{{if .Place.Phone}} Still stuck? Call maintenance at {{.Place.Phone}}.{{end}}

Didn't ask for this? Ignore this email; nothing changes on your account.

Sparekey{{if .Place.Property}} for {{.Place.Property}}{{end}}
`))

var linkEmailHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p>Hi {{.Name}},</p>
<p>You asked for a backup code for your door{{if .Place.Unit}} (unit {{.Place.Unit}}{{if .Place.Property}}, {{.Place.Property}}{{end}}){{end}}. Open the link and tap <strong>Show my code</strong>.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#fff;border-radius:8px;text-decoration:none">Open my backup code</a></p>
<p>Or copy this link: {{.Link}}</p>
<p>The link works until <strong>{{.Expires}}</strong>, 30 minutes after you asked. After that, <a href="{{.NewRequest}}">ask for a new one</a>.</p>
<p>A backup code works once, for 24 hours at most.</p>
<p>If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will open it until the bolt is free: push or pull the door toward the frame while you enter the code.{{if .Place.Phone}} Still stuck? Call maintenance at {{.Place.Phone}}.{{end}}</p>
<p style="color:#555">Didn't ask for this? Ignore this email; nothing changes on your account.</p>
<p>Sparekey{{if .Place.Property}} for {{.Place.Property}}{{end}}</p>
</body></html>
`))

func linkEmail(p place, r *sparekey.Resident, link, newRequest string, expires time.Time) (subject, text, html string) {
	data := linkData{Name: r.FirstName(), Link: link, NewRequest: newRequest,
		Expires: expires.In(p.loc).Format("3:04 PM MST"), Place: p}
	var t, h bytes.Buffer
	linkEmailText.Execute(&t, data)
	linkEmailHTML.Execute(&h, data)
	return "Your backup door code link", t.String(), h.String()
}

var revealEmailText = template.Must(template.New("reveal").Parse(`Hi {{.Name}},

Your backup door code was just shown on a device ({{.When}}).

If that was you, there is nothing to do. If it was not, {{if .Place.Phone}}call maintenance at {{.Place.Phone}}{{else}}tell your property's office{{end}} right away: the code opens your door until it is used once, for 24 hours at most.

Sparekey{{if .Place.Property}} for {{.Place.Property}}{{end}}
`))

func revealEmail(p place, r *sparekey.Resident, when time.Time) (subject, text string) {
	var t bytes.Buffer
	revealEmailText.Execute(&t, struct {
		Name, When string
		Place      place
	}{r.FirstName(), when.In(p.loc).Format("Jan 2, 3:04 PM MST"), p})
	return "Your backup door code was viewed", t.String()
}
