package lockout

import (
	"time"

	"github.com/nyaruka/phonenumbers"

	"sparekey"
	"sparekey/locale"
)

// helpOf is a property's maintenance contact, as pages show it.
func helpOf(prop *sparekey.Property) Help {
	h := Help{Property: prop.Name, Email: prop.MaintenanceEmail}
	if n, err := phonenumbers.Parse(prop.MaintenancePhone, ""); err == nil && prop.MaintenancePhone != "" {
		h.Phone, h.Dial = phonenumbers.Format(n, phonenumbers.NATIONAL), prop.MaintenancePhone
	}
	return h
}

// messageData is what the lockout messages say of the resident and where
// they live.
func messageData(where *locale.Place, r *sparekey.Resident) map[string]any {
	return map[string]any{"Name": r.FirstName(), "Unit": where.Unit.Name, "Property": where.Property.Name,
		"Phone": helpOf(where.Property).Phone, "Short": locale.SMSName(where.Property.Name)}
}

// linkSMS is the backup link's SMS: one segment (160 characters) with a
// 24-character property name and a link of up to about 75 characters.
func linkSMS(lang string, where *locale.Place, link string) (string, error) {
	return locale.Message(lang, "backup_link.sms", map[string]any{"Short": locale.SMSName(where.Property.Name), "Link": link})
}

func linkEmail(lang string, where *locale.Place, r *sparekey.Resident, link, newRequest string, expires time.Time) (subject, text, html string, err error) {
	data := messageData(where, r)
	data["Link"], data["NewRequest"], data["Expires"] = link, newRequest, expires.In(where.Location)
	if subject, text, err = locale.Email(lang, "backup_link", data); err != nil {
		return "", "", "", err
	}
	if html, err = locale.Message(lang, "backup_link.html", data); err != nil {
		return "", "", "", err
	}
	return subject, text, html, nil
}

func revealEmail(lang string, where *locale.Place, r *sparekey.Resident, when time.Time) (subject, text string, err error) {
	data := messageData(where, r)
	data["When"] = when.In(where.Location)
	return locale.Email(lang, "code_revealed", data)
}
