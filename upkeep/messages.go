package upkeep

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sparekey"
	"sparekey/locale"
)

// notifyTeam queues an SMS and an email to the property's maintenance
// contacts about a new work order, in the transaction that opened it.
func (s *Service) notifyTeam(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder) error {
	if p.Property.MaintenancePhone == "" && p.Property.MaintenanceEmail == "" {
		s.log.Warn("work order opened but the property has no maintenance contacts to tell", "property", p.Property.Name, "work_order", wo.ID)
		return nil
	}
	facts, err := s.facts(ctx, tx, p)
	if err != nil {
		return err
	}
	link := s.orderLink(wo)
	return s.toTeam(ctx, tx, p, wo, "work_order_opened",
		fmt.Sprintf("%s: work order #%d, %s. %s %s", locale.SMSName(p.Property.Name), wo.ID, p.door(), firstLine(wo.Summary), link),
		fmt.Sprintf("Work order #%d: %s jammed", wo.ID, p.door()),
		fmt.Sprintf("Work order #%d is open for %s at %s.\n\n%s\n\n%s\n\nOpen it in the console: %s\n\nSparekey for %s\n",
			wo.ID, p.door(), p.Property.Name, wo.Summary, facts, link, p.Property.Name))
}

// tellTeamOfReport queues an SMS and an email to the maintenance team: a
// resident reported a door that already has an open order (which the team
// heard of when it opened).
func (s *Service) tellTeamOfReport(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder, text string) error {
	link := s.orderLink(wo)
	return s.toTeam(ctx, tx, p, wo, "work_order_reported",
		fmt.Sprintf("%s: work order #%d, %s. %s %s", locale.SMSName(p.Property.Name), wo.ID, p.door(), text, link),
		fmt.Sprintf("Work order #%d: a resident reported %s", wo.ID, p.door()),
		fmt.Sprintf("A resident reported %s at %s, which has work order #%d open (%s).\n\n%s\n\nOpen it in the console: %s\n\nSparekey for %s\n",
			p.door(), p.Property.Name, wo.ID, strings.ReplaceAll(string(wo.Status), "_", " "), text, link, p.Property.Name))
}

// toTeam queues an SMS and an email about a work order to the property's
// maintenance contacts, whichever it has.
func (s *Service) toTeam(ctx context.Context, tx sparekey.Tx, p *place, wo *sparekey.WorkOrder, kind, sms, subj, email string) error {
	if to := p.Property.MaintenancePhone; to != "" {
		if err := s.queue(ctx, tx, subject(wo), &sparekey.Message{Channel: sparekey.ChannelSMS, To: to, Body: sms, Kind: kind}); err != nil {
			return err
		}
	}
	if to := p.Property.MaintenanceEmail; to != "" {
		return s.queue(ctx, tx, subject(wo), &sparekey.Message{Channel: sparekey.ChannelEmail, To: to, Subject: subj, Body: email, Kind: kind})
	}
	return nil
}

// orderLink is the work order's page in the console.
func (s *Service) orderLink(wo *sparekey.WorkOrder) string {
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + fmt.Sprintf("/console/work-orders/%d", wo.ID)
}

// tellResident queues a resident's update about a work order they
// reported, in lang: received (email only), in_progress and resolved (SMS
// and email). The texts are the locale catalog's work_order messages.
func (s *Service) tellResident(ctx context.Context, tx sparekey.Tx, r *sparekey.Resident, lang string, p *place, wo *sparekey.WorkOrder, what string) error {
	if !r.Active() {
		return nil
	}
	key := what
	if what == "received" && wo.Status == sparekey.WorkOrderInProgress {
		key = "received_working" // no "in progress" update will come
	}
	data := map[string]any{"Name": r.FirstName(), "Property": p.Property.Name, "Lock": p.lock.Name, "Unit": p.Unit.Name,
		"ID": wo.ID, "Resolution": wo.Resolution}
	subj, err := locale.Message(lang, "work_order_"+key+".subject", data)
	if err != nil {
		return err
	}
	text, err := locale.Message(lang, "work_order_"+key+".update", data)
	if err != nil {
		return err
	}
	smsText := text
	if what == "resolved" && p.lock.State == sparekey.LockStateJammed {
		still, err := locale.Message(lang, "work_order.still_jammed", data)
		if err != nil {
			return err
		}
		stillSMS, err := locale.Message(lang, "work_order.still_jammed.sms", data)
		if err != nil {
			return err
		}
		text, smsText = text+" "+still, smsText+" "+stillSMS
	}
	who := fmt.Sprintf("resident:%d", r.ID)
	if r.Email != "" {
		data["Update"] = text
		body, err := locale.Message(lang, "work_order.email", data)
		if err != nil {
			return err
		}
		if err := s.queue(ctx, tx, who, &sparekey.Message{Channel: sparekey.ChannelEmail, To: r.Email,
			Subject: subj, Body: body, Kind: "work_order_" + what}); err != nil {
			return err
		}
	}
	if what != "received" && r.Phone != "" {
		if err := s.queue(ctx, tx, who, &sparekey.Message{Channel: sparekey.ChannelSMS, To: r.Phone,
			Body: locale.SMSName(p.Property.Name) + ": " + smsText, Kind: "work_order_" + what}); err != nil {
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
	p, err := placeOfLock(ctx, tx, locks[i])
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

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
