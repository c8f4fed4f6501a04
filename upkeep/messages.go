package upkeep

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sparekey"
)

// notifyTeam queues an SMS and an email to the property's maintenance
// contacts about a new work order, in the transaction that opened it.
func (s *Service) notifyTeam(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder) error {
	if p.property.MaintenancePhone == "" && p.property.MaintenanceEmail == "" {
		s.log.Warn("work order opened but the property has no maintenance contacts to tell", "property", p.property.Name, "work_order", wo.ID)
		return nil
	}
	facts, err := s.facts(ctx, tx, p)
	if err != nil {
		return err
	}
	link := s.orderLink(wo)
	return s.toTeam(ctx, tx, p, wo, "work_order_opened",
		fmt.Sprintf("%s: work order #%d, %s. %s %s", short(p.property.Name), wo.ID, p.door(), firstLine(wo.Summary), link),
		fmt.Sprintf("Work order #%d: %s jammed", wo.ID, p.door()),
		fmt.Sprintf("Work order #%d is open for %s at %s.\n\n%s\n\n%s\n\nOpen it in the console: %s\n\nSparekey for %s\n",
			wo.ID, p.door(), p.property.Name, wo.Summary, facts, link, p.property.Name))
}

// tellTeamOfReport queues an SMS and an email to the maintenance team: a
// resident reported a door that already has an open order (which the team
// heard of when it opened).
func (s *Service) tellTeamOfReport(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder, text string) error {
	link := s.orderLink(wo)
	return s.toTeam(ctx, tx, p, wo, "work_order_reported",
		fmt.Sprintf("%s: work order #%d, %s. %s %s", short(p.property.Name), wo.ID, p.door(), text, link),
		fmt.Sprintf("Work order #%d: a resident reported %s", wo.ID, p.door()),
		fmt.Sprintf("A resident reported %s at %s, which has work order #%d open (%s).\n\n%s\n\nOpen it in the console: %s\n\nSparekey for %s\n",
			p.door(), p.property.Name, wo.ID, strings.ReplaceAll(string(wo.Status), "_", " "), text, link, p.property.Name))
}

// toTeam queues an SMS and an email about a work order to the property's
// maintenance contacts, whichever it has.
func (s *Service) toTeam(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder, kind, sms, subj, email string) error {
	if to := p.property.MaintenancePhone; to != "" {
		if err := s.queue(ctx, tx, subject(wo), &sparekey.Message{Channel: sparekey.ChannelSMS, To: to, Body: sms, Kind: kind}); err != nil {
			return err
		}
	}
	if to := p.property.MaintenanceEmail; to != "" {
		return s.queue(ctx, tx, subject(wo), &sparekey.Message{Channel: sparekey.ChannelEmail, To: to, Subject: subj, Body: email, Kind: kind})
	}
	return nil
}

// orderLink is the work order's page in the console.
func (s *Service) orderLink(wo *sparekey.WorkOrder) string {
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + fmt.Sprintf("/console/work-orders/%d", wo.ID)
}

// residentTexts are a resident's work order updates, by language: the
// subject and text of each update, with the email's closing advice. The
// SMS texts (in_progress, resolved) keep to the GSM alphabet in Spanish,
// no accents, to stay one segment.
var residentTexts = map[string]struct {
	subject map[string]string
	text    map[string]string // format: the property, door, work order id, resolution as each needs
	hi      string            // format: first name
	advice  string
	// stillJammed is added to "resolved" while the lock still reports the
	// jam, for email and for SMS (GSM alphabet).
	stillJammed, stillJammedSMS string
	by                          string // format: property
}{
	sparekey.English: {
		subject: map[string]string{"received": "Maintenance has your report", "received_working": "Maintenance has your report",
			"in_progress": "Maintenance is on it", "resolved": "Your door is fixed"},
		text: map[string]string{
			"received":         "We told the maintenance team at %[1]s that your door (%[2]s) is stuck. Work order #%[3]d. We will let you know when someone is on it and when it is fixed.",
			"received_working": "We told the maintenance team at %[1]s that your door (%[2]s) is stuck. Someone is already working on it, work order #%[3]d. We will let you know when it is fixed.",
			"in_progress":      "Maintenance is working on your door (%[2]s), work order #%[3]d.",
			"resolved":         "Maintenance resolved work order #%[3]d for your door (%[2]s): %[4]s",
		},
		hi:             "Hi %s,",
		stillJammed:    "The lock still reports a jam, though: if the keypad flashes 1 3 5 7 9 in an X, notify maintenance again.",
		stillJammedSMS: "The lock still reports a jam, though: if the keypad flashes 1 3 5 7 9 in an X, notify maintenance again.",
		advice:         "If the keypad flashes 1 3 5 7 9 in an X, the lock is jammed: push or pull the door toward the frame while you enter your code.",
		by:             "Sparekey for %s",
	},
	sparekey.Spanish: {
		subject: map[string]string{"received": "Mantenimiento recibió tu reporte", "received_working": "Mantenimiento recibió tu reporte",
			"in_progress": "Mantenimiento ya trabaja en tu puerta", "resolved": "Tu puerta quedó arreglada"},
		text: map[string]string{
			"received":         "Le avisamos al equipo de mantenimiento de %[1]s que tu puerta (%[2]s) está atascada. Orden de trabajo #%[3]d. Te avisaremos cuando alguien esté trabajando en ella y cuando quede arreglada.",
			"received_working": "Le avisamos al equipo de mantenimiento de %[1]s que tu puerta (%[2]s) está atascada. Alguien ya está trabajando en ella, orden de trabajo #%[3]d. Te avisaremos cuando quede arreglada.",
			"in_progress":      "Mantenimiento ya trabaja en tu puerta (%[2]s), orden de trabajo #%[3]d.",
			"resolved":         "Orden de trabajo #%[3]d resuelta para tu puerta (%[2]s): %[4]s",
		},
		hi:             "Hola, %s:",
		stillJammed:    "Pero la cerradura aún reporta un atasco: si el teclado parpadea 1 3 5 7 9 en forma de X, vuelve a avisarle a mantenimiento.",
		stillJammedSMS: "Pero la cerradura aun reporta un atasco: si el teclado parpadea 1 3 5 7 9 en X, vuelve a avisarle a mantenimiento.",
		advice:         "Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada: empuja o jala la puerta hacia el marco mientras ingresas tu código.",
		by:             "Sparekey para %s",
	},
}

// tellResident queues a resident's update about a work order they
// reported, in lang: received (email only), in_progress and resolved (SMS
// and email).
func (s *Service) tellResident(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, lang string, p *place, wo *sparekey.WorkOrder, what string) error {
	if !r.Active() {
		return nil
	}
	lang = sparekey.LanguageOf(lang)
	texts := residentTexts[lang]
	door := p.door()
	if lang == sparekey.Spanish {
		door = fmt.Sprintf("%s, unidad %s", p.lock.Name, p.unit.Name)
	}
	key := what
	if what == "received" && wo.Status == sparekey.WorkOrderInProgress {
		key = "received_working" // no "in progress" update will come
	}
	subj, text := texts.subject[key], fmt.Sprintf(texts.text[key], p.property.Name, door, wo.ID, wo.Resolution)
	smsText := text
	if what == "resolved" && p.lock.State == sparekey.LockStateJammed {
		text, smsText = text+" "+texts.stillJammed, smsText+" "+texts.stillJammedSMS
	}
	who := fmt.Sprintf("resident:%d", r.ID)
	if r.Email != "" {
		body := fmt.Sprintf(texts.hi, r.FirstName()) + "\n\n" + text + "\n\n" + texts.advice + "\n\n" + fmt.Sprintf(texts.by, p.property.Name) + "\n"
		if err := s.queue(ctx, tx, who, &sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email,
			Subject: subj, Body: body, Kind: "work_order_" + what}); err != nil {
			return err
		}
	}
	if what != "received" && r.Phone != "" {
		if err := s.queue(ctx, tx, who, &sparekey.Message{Channel: sparekey.ChannelSMS, To: r.Phone,
			Body: short(p.property.Name) + ": " + smsText, Kind: "work_order_" + what}); err != nil {
			return err
		}
	}
	return nil
}

// tellWatchers updates every resident who reported the work order.
func (s *Service) tellWatchers(ctx context.Context, tx sparekey.Tx, wo *sparekey.WorkOrder, what string) error {
	ids, err := tx.WorkOrderWatchers(ctx, wo.ID)
	if err != nil || len(ids) == 0 {
		return err
	}
	// Not tx.Lock: it takes the lock's row on PostgreSQL, and lock reports
	// take that row before the order's, which Update holds: a deadlock.
	locks, err := tx.LocksByUnit(ctx, wo.UnitID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(locks, func(l *sparekey.Lock) bool { return l.ID == wo.LockID })
	if i < 0 {
		return sparekey.Errorf(sparekey.ENOTFOUND, "lock %d not found", wo.LockID)
	}
	p, err := placeOf(ctx, tx, locks[i])
	if err != nil {
		return err
	}
	for _, w := range ids {
		r, err := tx.Resident(ctx, w.ResidentID)
		if err != nil {
			return err
		}
		if err := s.tellResident(ctx, tx, r, w.Language, p, wo, what); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) queue(ctx context.Context, tx sparekey.Tx, about string, m *sparekey.Message) error {
	return sparekey.QueueMessage(ctx, tx, s.now(), about, m)
}

// short is the property's name cut to fit an SMS.
func short(name string) string {
	if r := []rune(name); len(r) > 24 {
		return strings.TrimSpace(string(r[:21])) + "..." // not "…": outside the GSM alphabet
	}
	return name
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
