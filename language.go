package sparekey

// The languages residents are written to in: the resident pages and the
// messages of the lockout flow. The staff console is English only.
const (
	English = "en"
	Spanish = "es"
)

// LanguageOf returns lang when residents are written to in it, else
// English.
func LanguageOf(lang string) string {
	if lang == Spanish {
		return Spanish
	}
	return English
}
