// Package locale is how Sparekey speaks to residents in their language:
// one catalog for the pages' texts and for the emails and SMS, one way to
// write a time of day, and one place that knows a property's time zone.
// The staff console and maintenance's messages are in English only.
//
// Each language is one file (es.go): its translations of the pages' English
// texts, its messages and how it writes times. English, the language the
// code is written in, is en.go. Adding a language is adding such a file:
// Register makes it known everywhere, pages and messages alike.
package locale

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"text/template"
	"time"
)

// English is the language the code is written in and the default.
const English = "en"

// A Language is everything Sparekey needs to speak one language.
type Language struct {
	// Tag is the language's code, as ?lang= and Accept-Language give it.
	Tag string
	// Name is the language's name in itself, for the language switcher.
	Name string
	// Texts maps the pages' English texts (a fmt format when they have
	// arguments) to this language's, with the same fmt verbs in the same
	// order. A text without an entry stays English. English has none.
	Texts map[string]string
	// Messages are the emails and SMS, by name: text/template sources,
	// html/template for a name ending in ".html". Every language has the
	// messages English has, using the same fields.
	Messages map[string]string
	// Clock writes a time of day: "3:04 PM".
	Clock func(time.Time) string
	// At writes a time of day as the end of a sentence says it: "at 3:04 PM".
	At func(time.Time) string
	// When writes a day and a time of day: "Jan 2, 3:04 PM".
	When func(time.Time) string
	// Funcs are more template functions the language's messages use (say
	// an article that depends on the hour).
	Funcs template.FuncMap

	text *template.Template
	html *htmltemplate.Template
}

// languages are the known languages, English first, then by tag.
var languages []*Language

// Register makes a language known to the pages and the messages. Each
// language's file calls it from init; it panics on a message that does
// not parse, so a broken catalog fails at start, never in a message.
func Register(l *Language) {
	funcs := template.FuncMap{
		"clock": l.Clock,
		"at":    l.At,
		"when":  l.When,
		// zone is the time zone's abbreviation, as emails add it: "EST".
		"zone": func(t time.Time) string { return t.Format("MST") },
	}
	for k, v := range l.Funcs {
		funcs[k] = v
	}
	l.text = template.New(l.Tag).Funcs(funcs).Option("missingkey=error")
	l.html = htmltemplate.New(l.Tag).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error")
	for name, src := range l.Messages {
		var err error
		if strings.HasSuffix(name, ".html") {
			_, err = l.html.New(name).Parse(src)
		} else {
			_, err = l.text.New(name).Parse(src)
		}
		if err != nil {
			panic(fmt.Sprintf("locale %s: message %s: %v", l.Tag, name, err))
		}
	}
	languages = append(languages, l)
	slices.SortStableFunc(languages, func(a, b *Language) int {
		switch {
		case a.Tag == b.Tag:
			return 0
		case a.Tag == English:
			return -1
		case b.Tag == English:
			return 1
		}
		return strings.Compare(a.Tag, b.Tag)
	})
}

// Tags lists the languages' tags, English first.
func Tags() []string {
	tags := make([]string, len(languages))
	for i, l := range languages {
		tags[i] = l.Tag
	}
	return tags
}

// get returns the language of tag, English when there is none.
func get(tag string) *Language {
	for _, l := range languages {
		if l.Tag == tag {
			return l
		}
	}
	return languages[0]
}

// Supported reports whether residents can be written to in tag.
func Supported(tag string) bool {
	return slices.Contains(Tags(), tag)
}

// Of returns tag when residents can be written to in it, else English.
func Of(tag string) string { return get(tag).Tag }

// Name is the language's name in itself: "Español".
func Name(tag string) string { return get(tag).Name }

// Text returns an English text of the pages in the language of tag (the
// English when the catalog has none), formatted with args when there are
// any.
func Text(tag, english string, args ...any) string {
	if tr, ok := get(tag).Texts[english]; ok {
		english = tr
	}
	if len(args) > 0 {
		return fmt.Sprintf(english, args...)
	}
	return english
}

// Message renders the message name in the language of tag with data
// (a map of the fields the message uses).
func Message(tag, name string, data map[string]any) (string, error) {
	l := get(tag)
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(name, ".html") {
		t := l.html.Lookup(name)
		if t == nil {
			return "", fmt.Errorf("locale %s: no message %s", l.Tag, name)
		}
		err = t.Execute(&b, data)
	} else {
		t := l.text.Lookup(name)
		if t == nil {
			return "", fmt.Errorf("locale %s: no message %s", l.Tag, name)
		}
		err = t.Execute(&b, data)
	}
	if err != nil {
		return "", fmt.Errorf("locale %s: message %s: %w", l.Tag, name, err)
	}
	return b.String(), nil
}

// Email renders the email name in the language of tag: its messages
// name.subject and name.text.
func Email(tag, name string, data map[string]any) (subject, text string, err error) {
	if subject, err = Message(tag, name+".subject", data); err != nil {
		return "", "", err
	}
	if text, err = Message(tag, name+".text", data); err != nil {
		return "", "", err
	}
	return subject, text, nil
}

// Clock writes a time of day in the language of tag: "3:04 PM", "3:04 p. m.".
func Clock(tag string, t time.Time) string { return get(tag).Clock(t) }

// At writes a time of day as the end of a sentence says it: "at 3:04
// PM", "a las 3:04 p. m.".
func At(tag string, t time.Time) string { return get(tag).At(t) }

// When writes a day and a time of day: "Jan 2, 3:04 PM", "26 nov, 3:04 p. m.".
func When(tag string, t time.Time) string { return get(tag).When(t) }

// SMSName is a property's name as an SMS starts with it: cut to fit one
// segment, with dots ("…" is outside the GSM alphabet and would send the
// whole text as UCS-2), and "Sparekey" for a property with no name.
func SMSName(property string) string {
	if property == "" {
		return "Sparekey"
	}
	if r := []rune(property); len(r) > 24 {
		return strings.TrimSpace(string(r[:21])) + "..."
	}
	return property
}

// Location is a property's time zone, as its Timezone names it; UTC when
// it names none that loads. Times residents and staff read are written in
// it.
func Location(timezone string) *time.Location {
	if loc, err := time.LoadLocation(timezone); err == nil {
		return loc
	}
	return time.UTC
}

// Translation returns the translation of a page's English text in the
// language of tag, and whether the catalog has one.
func Translation(tag, english string) (string, bool) {
	tr, ok := get(tag).Texts[english]
	return tr, ok
}
