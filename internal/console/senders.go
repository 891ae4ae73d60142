package console

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// The Senders and numbers page: the account's sender identities with
// their approval state (registered with POST /senders, decided by an
// operator), and the numbers it rents (internal/numbers) with their next
// renewal.

func init() {
	pageNames = append(pageNames, "senders")
}

func (c *Console) registerSenders(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/senders", c.signed(users.ViewSenders, c.senders))
}

type sendersData struct {
	Senders  []store.Sender
	Numbers  []store.OwnedNumber
	Currency string
}

func (c *Console) senders(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	a, err := c.st.GetAccount(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	d := &sendersData{Currency: a.Currency}
	if d.Senders, err = c.st.Senders(ctx, q.user.AccountID); c.storeFailed(q, err) {
		return
	}
	if d.Numbers, err = c.st.OwnedNumbers(ctx, q.user.AccountID); c.storeFailed(q, err) {
		return
	}
	c.render(q.w, http.StatusOK, "senders", q.page("title.senders", d))
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"nav.senders": "Senders and numbers", "title.senders": "Senders and numbers",
			"senders.senders": "Sender identities", "senders.numbers": "Rented numbers",
			"senders.help": "A sender identity is registered with the API (POST /senders) and approved by the platform's operators before messages may use it.",
			"senders.none": "No sender identity is registered.", "numbers.none": "The account rents no number.",
			"col.sender": "Sender", "col.decided": "Decided", "col.note": "Note", "col.number": "Number", "col.type": "Type",
			"col.renewal": "Next renewal", "col.monthly": "Monthly price", "col.features": "Features", "numbers.unpaid": "renewal unpaid",
			"sender.pending": "waiting for approval", "sender.approved": "approved", "sender.rejected": "rejected",
			"numbers.not_billed": "assigned by an operator",
		},
		"fr": {
			"nav.senders": "Expéditeurs et numéros", "title.senders": "Expéditeurs et numéros",
			"senders.senders": "Identités d’expéditeur", "senders.numbers": "Numéros loués",
			"senders.help": "Une identité d’expéditeur s’enregistre par l’API (POST /senders) et doit être approuvée par les opérateurs de la plateforme avant de servir aux messages.",
			"senders.none": "Aucune identité d’expéditeur n’est enregistrée.", "numbers.none": "Le compte ne loue aucun numéro.",
			"col.sender": "Expéditeur", "col.decided": "Décidé le", "col.note": "Note", "col.number": "Numéro", "col.type": "Type",
			"col.renewal": "Prochain renouvellement", "col.monthly": "Prix mensuel", "col.features": "Fonctions", "numbers.unpaid": "renouvellement impayé",
			"sender.pending": "en attente d’approbation", "sender.approved": "approuvé", "sender.rejected": "refusé",
			"numbers.not_billed": "attribué par un opérateur",
		},
		"ar": {
			"nav.senders": "المرسلون والأرقام", "title.senders": "المرسلون والأرقام",
			"senders.senders": "هويات المرسل", "senders.numbers": "الأرقام المستأجرة",
			"senders.help": "تُسجَّل هوية المرسل عبر واجهة API (POST /senders) ويوافق عليها مشغّلو المنصة قبل استخدامها في الرسائل.",
			"senders.none": "لا توجد هوية مرسل مسجلة.", "numbers.none": "لا يستأجر الحساب أي رقم.",
			"col.sender": "المرسل", "col.decided": "تاريخ القرار", "col.note": "ملاحظة", "col.number": "الرقم", "col.type": "النوع",
			"col.renewal": "التجديد القادم", "col.monthly": "السعر الشهري", "col.features": "الميزات", "numbers.unpaid": "تجديد غير مدفوع",
			"sender.pending": "بانتظار الموافقة", "sender.approved": "مقبول", "sender.rejected": "مرفوض",
			"numbers.not_billed": "خصصه مشغّل",
		},
	})
}
