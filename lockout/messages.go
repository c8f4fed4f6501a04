package lockout

import (
	"bytes"
	"context"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"sparekey"
)

// linkSMS is short: one segment where possible, the link, and what it is.
func linkSMS(link string) string {
	return "Sparekey: your backup door code link (expires in 30 min): " + link + " Didn't ask? Ignore this."
}

var linkEmailText = template.Must(template.New("text").Parse(`Hi {{.Name}},

You asked for a backup code for your door. Open this link and tap "Show my code":

{{.Link}}

The link expires at {{.Expires}} (30 minutes after you asked). After that, ask for a new one from the app: More > Support > I'm Locked Out.

A backup code works once. If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will work: push or pull the door into line while you enter the code.

If you did not ask for this, you can ignore this email; nothing changes on your account.

Sparekey
`))

var linkEmailHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p>Hi {{.Name}},</p>
<p>You asked for a backup code for your door. Open the link and tap <strong>Show my code</strong>.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#fff;border-radius:8px;text-decoration:none">Open my backup code</a></p>
<p>Or copy this link: {{.Link}}</p>
<p>The link expires at <strong>{{.Expires}}</strong> (30 minutes after you asked). After that, ask for a new one: More &rsaquo; Support &rsaquo; I'm Locked Out.</p>
<p>If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will work: push or pull the door into line while you enter the code.</p>
<p style="color:#555">If you did not ask for this, ignore this email; nothing changes on your account.</p>
</body></html>
`))

func linkEmail(r *sparekey.Resident, link string, expires time.Time) (subject, text, html string) {
	data := struct{ Name, Link, Expires string }{firstName(r.Name), link, expires.Format("3:04 PM MST")}
	var t, h bytes.Buffer
	linkEmailText.Execute(&t, data)
	linkEmailHTML.Execute(&h, data)
	return "Your backup door code link", t.String(), h.String()
}

var revealEmailText = template.Must(template.New("reveal").Parse(`Hi {{.Name}},

Your backup door code was just shown on a device ({{.When}}).

If that was you, there is nothing to do. If it was not, tell your property's office right away: the code opens your door until it is used once or for 24 hours.

Sparekey
`))

func revealEmail(r *sparekey.Resident, when time.Time) (subject, text string) {
	var t bytes.Buffer
	revealEmailText.Execute(&t, struct{ Name, When string }{firstName(r.Name), when.Format("Jan 2, 3:04 PM MST")})
	return "Your backup door code was viewed", t.String()
}

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

// localTime shows t in the resident's property's time zone.
func localTime(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, t time.Time) time.Time {
	unit, err := tx.Unit(ctx, r.UnitID)
	if err != nil {
		return t.UTC()
	}
	p, err := tx.Property(ctx, unit.PropertyID)
	if err != nil {
		return t.UTC()
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return t.UTC()
	}
	return t.In(loc)
}
