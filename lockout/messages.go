package lockout

import (
	"bytes"
	"context"
	"fmt"
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
		name = strings.TrimSpace(string(r[:21])) + "..." // not "…": outside the GSM alphabet
	}
	return name
}

// linkSMS fits one SMS segment (160 characters) with a 24-character
// property name and a link of up to about 75 characters.
// The Spanish one is written without accents: letters outside the GSM 7-bit
// alphabet would make the whole text UCS-2, 70 characters a segment.
func linkSMS(lang string, p place, link string) string {
	if lang == sparekey.Spanish {
		return p.short() + ": tu codigo de respaldo (30 min): " + link + " ¿No lo pediste? Ignoralo."
	}
	return p.short() + ": your backup code link (30 min): " + link + " Not you? Ignore this."
}

type linkData struct {
	Name, Link, Expires, NewRequest string
	Place                           place
}

// The link email and the reveal notice, by language.
var (
	linkSubject = map[string]string{
		sparekey.English: "Your backup door code link",
		sparekey.Spanish: "El enlace a tu código de respaldo",
	}
	linkEmailText = map[string]*template.Template{
		sparekey.English: template.Must(template.New("text").Parse(`Hi {{.Name}},

You asked for a backup code for your door{{if .Place.Unit}} (unit {{.Place.Unit}}{{if .Place.Property}}, {{.Place.Property}}{{end}}){{end}}. Open this link and tap "Show my code":

{{.Link}}

The link works until {{.Expires}}, 30 minutes after you asked. After that, ask for a new one at {{.NewRequest}}

A backup code works once, for 24 hours at most.

If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will open it until the bolt is free: push or pull the door toward the frame while you enter the code.{{if .Place.Phone}} Still stuck? Call maintenance at {{.Place.Phone}}.{{end}}

Didn't ask for this? Ignore this email; nothing changes on your account.

Sparekey{{if .Place.Property}} for {{.Place.Property}}{{end}}
`)),
		sparekey.Spanish: template.Must(template.New("text").Parse(`Hola, {{.Name}}:

Pediste un código de respaldo para tu puerta{{if .Place.Unit}} (unidad {{.Place.Unit}}{{if .Place.Property}}, {{.Place.Property}}{{end}}){{end}}. Abre este enlace y toca "Mostrar mi código":

{{.Link}}

El enlace funciona hasta {{.Expires}}, 30 minutos después de tu solicitud. Después, pide uno nuevo en {{.NewRequest}}

Un código de respaldo funciona una sola vez, durante 24 horas como máximo.

Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada y ningún código la abrirá hasta que el cerrojo quede libre: empuja o jala la puerta hacia el marco mientras ingresas el código.{{if .Place.Phone}} ¿Sigues sin poder entrar? Llama a mantenimiento al {{.Place.Phone}}.{{end}}

¿No lo pediste? Ignora este correo; nada cambia en tu cuenta.

Sparekey{{if .Place.Property}} para {{.Place.Property}}{{end}}
`)),
	}
	linkEmailHTML = map[string]*htmltemplate.Template{
		sparekey.English: htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html lang="en"><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
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
`)),
		sparekey.Spanish: htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html lang="es"><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p>Hola, {{.Name}}:</p>
<p>Pediste un código de respaldo para tu puerta{{if .Place.Unit}} (unidad {{.Place.Unit}}{{if .Place.Property}}, {{.Place.Property}}{{end}}){{end}}. Abre el enlace y toca <strong>Mostrar mi código</strong>.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#fff;border-radius:8px;text-decoration:none">Abrir mi código de respaldo</a></p>
<p>O copia este enlace: {{.Link}}</p>
<p>El enlace funciona hasta <strong>{{.Expires}}</strong>, 30 minutos después de tu solicitud. Después, <a href="{{.NewRequest}}">pide uno nuevo</a>.</p>
<p>Un código de respaldo funciona una sola vez, durante 24 horas como máximo.</p>
<p>Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada y ningún código la abrirá hasta que el cerrojo quede libre: empuja o jala la puerta hacia el marco mientras ingresas el código.{{if .Place.Phone}} ¿Sigues sin poder entrar? Llama a mantenimiento al {{.Place.Phone}}.{{end}}</p>
<p style="color:#555">¿No lo pediste? Ignora este correo; nada cambia en tu cuenta.</p>
<p>Sparekey{{if .Place.Property}} para {{.Place.Property}}{{end}}</p>
</body></html>
`)),
	}
	revealSubject = map[string]string{
		sparekey.English: "Your backup door code was viewed",
		sparekey.Spanish: "Se mostró tu código de respaldo",
	}
	revealEmailText = map[string]*template.Template{
		sparekey.English: template.Must(template.New("reveal").Parse(`Hi {{.Name}},

Your backup door code was just shown on a device ({{.When}}).

If that was you, there is nothing to do. If it was not, {{if .Place.Phone}}call maintenance at {{.Place.Phone}}{{else}}tell your property's office{{end}} right away: the code opens your door until it is used once, for 24 hours at most.

Sparekey{{if .Place.Property}} for {{.Place.Property}}{{end}}
`)),
		sparekey.Spanish: template.Must(template.New("reveal").Parse(`Hola, {{.Name}}:

Tu código de respaldo se acaba de mostrar en un dispositivo ({{.When}}).

Si fuiste tú, no tienes que hacer nada. Si no, {{if .Place.Phone}}llama a mantenimiento al {{.Place.Phone}}{{else}}avísale a la oficina de tu edificio{{end}} de inmediato: el código abre tu puerta hasta que se use una vez, durante 24 horas como máximo.

Sparekey{{if .Place.Property}} para {{.Place.Property}}{{end}}
`)),
	}
)

func linkEmail(lang string, p place, r *sparekey.Resident, link, newRequest string, expires time.Time) (subject, text, html string) {
	lang = sparekey.LanguageOf(lang)
	data := linkData{Name: r.FirstName(), Link: link, NewRequest: newRequest,
		Expires: expires.In(p.loc).Format("3:04 PM MST"), Place: p}
	if lang == sparekey.Spanish {
		data.Expires = untilES(expires.In(p.loc))
	}
	var t, h bytes.Buffer
	linkEmailText[lang].Execute(&t, data)
	linkEmailHTML[lang].Execute(&h, data)
	return linkSubject[lang], t.String(), h.String()
}

func revealEmail(lang string, p place, r *sparekey.Resident, when time.Time) (subject, text string) {
	lang = sparekey.LanguageOf(lang)
	w := when.In(p.loc)
	at := w.Format("Jan 2, 3:04 PM MST")
	if lang == sparekey.Spanish {
		at = fmt.Sprintf("%d de %s, %s", w.Day(), mesesES[w.Month()-1], clockES(w))
	}
	var t bytes.Buffer
	revealEmailText[lang].Execute(&t, struct {
		Name, When string
		Place      place
	}{r.FirstName(), at, p})
	return revealSubject[lang], t.String()
}

var mesesES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// clockES is a time of day in Spanish: "9:30 a. m. EST".
func clockES(t time.Time) string {
	half := "a. m."
	if t.Hour() >= 12 {
		half = "p. m."
	}
	return t.Format("3:04") + " " + half + " " + t.Format("MST")
}

// untilES is a time of day as Spanish says it after "hasta": "la 1:04
// p. m. EST", "las 9:30 a. m. EST".
func untilES(t time.Time) string {
	if t.Hour()%12 == 1 {
		return "la " + clockES(t)
	}
	return "las " + clockES(t)
}
