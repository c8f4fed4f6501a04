package locale

import "time"

// english is the language the code is written in: the pages' texts are
// their own keys, so only the messages and the times are here.
var english = &Language{
	Tag:  English,
	Name: "English",
	Messages: map[string]string{
		// The backup link (lockout): fits one SMS segment (160 characters)
		// with a 24-character property name and a link of up to about 75.
		"backup_link.sms":     `{{.Short}}: your backup code link (30 min): {{.Link}} Not you? Ignore this.`,
		"backup_link.subject": `Your backup door code link`,
		"backup_link.text": `Hi {{.Name}},

You asked for a backup code for your door{{if .Unit}} (unit {{.Unit}}{{if .Property}}, {{.Property}}{{end}}){{end}}. Open this link and tap "Show my code":

{{.Link}}

The link works until {{clock .Expires}} {{zone .Expires}}, 30 minutes after you asked. After that, ask for a new one at {{.NewRequest}}

A backup code works once, for 24 hours at most.

If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will open it until the bolt is free: push or pull the door toward the frame while you enter the code.{{if .Phone}} Still stuck? Call maintenance at {{.Phone}}.{{end}}

Didn't ask for this? Ignore this email; nothing changes on your account.

Sparekey{{if .Property}} for {{.Property}}{{end}}
`,
		"backup_link.html": `<!doctype html>
<html lang="en"><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p>Hi {{.Name}},</p>
<p>You asked for a backup code for your door{{if .Unit}} (unit {{.Unit}}{{if .Property}}, {{.Property}}{{end}}){{end}}. Open the link and tap <strong>Show my code</strong>.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#fff;border-radius:8px;text-decoration:none">Open my backup code</a></p>
<p>Or copy this link: {{.Link}}</p>
<p>The link works until <strong>{{clock .Expires}} {{zone .Expires}}</strong>, 30 minutes after you asked. After that, <a href="{{.NewRequest}}">ask for a new one</a>.</p>
<p>A backup code works once, for 24 hours at most.</p>
<p>If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed and no code will open it until the bolt is free: push or pull the door toward the frame while you enter the code.{{if .Phone}} Still stuck? Call maintenance at {{.Phone}}.{{end}}</p>
<p style="color:#555">Didn't ask for this? Ignore this email; nothing changes on your account.</p>
<p>Sparekey{{if .Property}} for {{.Property}}{{end}}</p>
</body></html>
`,

		// A backup code was shown (lockout).
		"code_revealed.subject": `Your backup door code was viewed`,
		"code_revealed.text": `Hi {{.Name}},

Your backup door code was just shown on a device ({{when .When}} {{zone .When}}).

If that was you, there is nothing to do. If it was not, {{if .Phone}}call maintenance at {{.Phone}}{{else}}tell your property's office{{end}} right away: the code opens your door until it is used once, for 24 hours at most.

Sparekey{{if .Property}} for {{.Property}}{{end}}
`,

		// Signing in to the resident app (resident).
		"sign_in.sms":     `Sparekey sign-in code: {{.Code}} (valid {{.Minutes}} min). Or open {{.Link}} Didn't ask? Ignore this.`,
		"sign_in.subject": `Your Sparekey sign-in code: {{.Code}}`,
		"sign_in.text": `Hi {{.Name}},

Your Sparekey sign-in code is {{.Code}}. Type it on the sign-in page, or open this link on your phone:

{{.Link}}

Both work once, for {{.Minutes}} minutes.

Didn't ask to sign in? Ignore this email; nothing changes on your account.

Sparekey
`,

		// The access code was shown in the app (resident).
		"access_code_revealed.subject": `Your door code was viewed in the app`,
		"access_code_revealed.text": `Hi {{.Name}},

Your door code was just shown in the Sparekey app.

If that was you, there is nothing to do. If it was not, sign out of the app on your devices and tell the office of {{.Property}} right away.

Sparekey
`,

		// The welcome a resident gets when staff move them in (roster).
		"welcome.subject": `Welcome to {{.Property}}: your door code`,
		"welcome.text": `Hi {{.Name}},

Welcome to unit {{.Unit}} at {{.Property}}. Your own door code is being set on the keypad of your door ({{.Lock}}) now.

To see it, open {{.Base}}/app on your phone and sign in with this email or your phone number: no password, we send you a code. Your door code is under Access.

Locked out one day? Open {{.Base}}/support/locked-out (or in the app: More, then I'm Locked Out). It helps with a jammed lock, and can send a backup code to your phone and this email.

Sparekey for {{.Property}}
`,

		// A resident's updates on a work order they reported (upkeep): the
		// email is work_order.email around the update; the SMS, sent for
		// in_progress and resolved, is the update alone.
		"work_order.door":                     `{{.Lock}}, unit {{.Unit}}`,
		"work_order_received.subject":         `Maintenance has your report`,
		"work_order_received.update":          `We told the maintenance team at {{.Property}} that your door ({{template "work_order.door" .}}) is stuck. Work order #{{.ID}}. We will let you know when someone is on it and when it is fixed.`,
		"work_order_received_working.subject": `Maintenance has your report`,
		"work_order_received_working.update":  `We told the maintenance team at {{.Property}} that your door ({{template "work_order.door" .}}) is stuck. Someone is already working on it, work order #{{.ID}}. We will let you know when it is fixed.`,
		"work_order_in_progress.subject":      `Maintenance is on it`,
		"work_order_in_progress.update":       `Maintenance is working on your door ({{template "work_order.door" .}}), work order #{{.ID}}.`,
		"work_order_resolved.subject":         `Your door is fixed`,
		"work_order_resolved.update":          `Maintenance resolved work order #{{.ID}} for your door ({{template "work_order.door" .}}): {{.Resolution}}`,
		// Added to "resolved" while the lock still reports the jam.
		"work_order.still_jammed":     `The lock still reports a jam, though: if the keypad flashes 1 3 5 7 9 in an X, notify maintenance again.`,
		"work_order.still_jammed.sms": `The lock still reports a jam, though: if the keypad flashes 1 3 5 7 9 in an X, notify maintenance again.`,
		"work_order.email": `Hi {{.Name}},

{{.Update}}

If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed: push or pull the door toward the frame while you enter your code.

Sparekey for {{.Property}}
`,
	},
	Clock: func(t time.Time) string { return t.Format("3:04 PM") },
	At:    func(t time.Time) string { return "at " + t.Format("3:04 PM") },
	When:  func(t time.Time) string { return t.Format("Jan 2, 3:04 PM") },
}

func init() { Register(english) }
