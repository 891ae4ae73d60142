package console

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/store"
)

// ledgerKinds are the ledger entry kinds the billing page names in the
// reader's language (the browser test showed "charge" in French pages).
var ledgerKinds = []string{store.LedgerCharge, store.LedgerTopUp, store.LedgerRefund, store.LedgerAdjustment}

// Ledger reasons are stored as the code wrote them, in English (the API
// and the CSV give them so). The billing page shows the ones omnigate
// writes in the reader's language; anything else (an operator's free
// text, "wire transfer 42") is shown as it was typed.

// ledgerReasons are the fixed reasons omnigate writes, by their word key.
var ledgerReasons = map[string]string{
	"message":                     "ledger.reason.message",
	"scheduled message cancelled": "ledger.reason.scheduled_cancelled",
	"scheduled message replaced with fewer parts":     "ledger.reason.scheduled_replaced",
	"message cancelled: sent on its fallback channel": "ledger.reason.fallback",
	"message rejected in compliance review":           "ledger.reason.review_rejected",
	"HLR query":                                       "ledger.reason.hlr",
	"HLR query failed":                                "ledger.reason.hlr_failed",
	"trial credit":                                    "ledger.reason.trial",
	"top-up confirmed":                                "ledger.reason.topup",
	"opening balance":                                 "ledger.reason.opening",
}

// ledgerPatterns are the reasons with values in them; the values (a
// number, an invoice, a date) fill the word's verbs.
var ledgerPatterns = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^invoice (\S+)$`), "ledger.reason.invoice"},
	{regexp.MustCompile(`^number (\S+), (\d+) month\(s\)$`), "ledger.reason.number"},
	{regexp.MustCompile(`^number (\S+) renewed, (\d+) month\(s\)$`), "ledger.reason.number_renewed"},
	{regexp.MustCompile(`^(\d+) seat\(s\) added, prorated to (\d{4}-\d{2}-\d{2})$`), "ledger.reason.seats"},
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// openedConversation is one conversation a message's charge opened
// ("message; opened whatsapp conversation ID (marketing NL)").
var openedConversation = regexp.MustCompile(`^opened (\S+) conversation (\S+) \((\S*) (\S*)\)$`)

// LedgerReason shows a stored ledger reason in the locale's language.
func (l *Locale) LedgerReason(reason string) string {
	if k, ok := ledgerReasons[reason]; ok {
		return l.T(k)
	}
	for _, p := range ledgerPatterns {
		m := p.re.FindStringSubmatch(reason)
		if m == nil {
			continue
		}
		args := make([]any, 0, len(m)-1)
		for _, v := range m[1:] {
			switch n, err := strconv.Atoi(v); {
			case err == nil && len(v) < 6:
				args = append(args, n) // a count, in the locale's digits
			case isoDate.MatchString(v):
				args = append(args, l.digits(v))
			default:
				args = append(args, v) // an identifier, as it is
			}
		}
		return l.T(p.key, args...)
	}
	if rest, ok := strings.CutPrefix(reason, "message; "); ok {
		parts := []string{l.T("ledger.reason.message")}
		for _, c := range strings.Split(rest, "; ") {
			m := openedConversation.FindStringSubmatch(c)
			if m == nil {
				return reason
			}
			parts = append(parts, l.T("ledger.reason.conversation", m[1], m[2], m[3], m[4]))
		}
		return strings.Join(parts, l.T("ledger.reason.and"))
	}
	return reason
}

func init() {
	addWords(map[string]map[string]string{
		"en": {"ledger.kind.charge": "charge", "ledger.kind.topup": "top-up", "ledger.kind.refund": "refund", "ledger.kind.adjustment": "adjustment",
			"ledger.reason.message": "message", "ledger.reason.scheduled_cancelled": "scheduled message cancelled",
			"ledger.reason.scheduled_replaced": "scheduled message replaced with fewer parts",
			"ledger.reason.fallback":           "message cancelled: sent on its fallback channel",
			"ledger.reason.review_rejected":    "message rejected in compliance review",
			"ledger.reason.hlr":                "number lookup (HLR)", "ledger.reason.hlr_failed": "number lookup (HLR) failed",
			"ledger.reason.trial": "trial credit", "ledger.reason.topup": "top-up confirmed", "ledger.reason.opening": "opening balance",
			"ledger.reason.invoice": "invoice %s", "ledger.reason.number": "number %s, %d month(s)", "ledger.reason.number_renewed": "number %s renewed, %d month(s)",
			"ledger.reason.seats":        "%d seat(s) added, prorated to %s",
			"ledger.reason.conversation": "opened %s conversation %s (%s %s)", "ledger.reason.and": "; "},
		"fr": {"ledger.kind.charge": "débit", "ledger.kind.topup": "rechargement", "ledger.kind.refund": "remboursement", "ledger.kind.adjustment": "ajustement",
			"ledger.reason.message": "message", "ledger.reason.scheduled_cancelled": "message programmé annulé",
			"ledger.reason.scheduled_replaced": "message programmé remplacé par un message de moins de parties",
			"ledger.reason.fallback":           "message annulé : envoyé sur son canal de repli",
			"ledger.reason.review_rejected":    "message refusé à la revue de conformité",
			"ledger.reason.hlr":                "vérification de numéro (HLR)", "ledger.reason.hlr_failed": "échec de la vérification de numéro (HLR)",
			"ledger.reason.trial": "crédit d’essai", "ledger.reason.topup": "rechargement confirmé", "ledger.reason.opening": "solde d’ouverture",
			"ledger.reason.invoice": "facture %s", "ledger.reason.number": "numéro %s, %d mois", "ledger.reason.number_renewed": "numéro %s renouvelé, %d mois",
			"ledger.reason.seats":        "%d siège(s) ajouté(s), au prorata jusqu’au %s",
			"ledger.reason.conversation": "ouverture de la conversation %s %s (%s %s)", "ledger.reason.and": " ; "},
		"ar": {"ledger.kind.charge": "خصم", "ledger.kind.topup": "شحن الرصيد", "ledger.kind.refund": "استرداد", "ledger.kind.adjustment": "تسوية",
			"ledger.reason.message": "رسالة", "ledger.reason.scheduled_cancelled": "أُلغيت رسالة مجدولة",
			"ledger.reason.scheduled_replaced": "استُبدلت رسالة مجدولة بأخرى أقل أجزاءً",
			"ledger.reason.fallback":           "أُلغيت الرسالة: أُرسلت عبر قناتها البديلة",
			"ledger.reason.review_rejected":    "رُفضت الرسالة في مراجعة الامتثال",
			"ledger.reason.hlr":                "استعلام عن رقم (HLR)", "ledger.reason.hlr_failed": "فشل الاستعلام عن رقم (HLR)",
			"ledger.reason.trial": "رصيد تجريبي", "ledger.reason.topup": "تأكيد شحن الرصيد", "ledger.reason.opening": "الرصيد الافتتاحي",
			"ledger.reason.invoice": "الفاتورة %s", "ledger.reason.number": "الرقم %s، %d شهر", "ledger.reason.number_renewed": "تجديد الرقم %s، %d شهر",
			"ledger.reason.seats":        "أُضيف %d مقعد، بالتناسب حتى %s",
			"ledger.reason.conversation": "فُتحت محادثة %s رقم %s (%s %s)", "ledger.reason.and": "؛ "},
	})
}
