package console

import "github.com/omnigate/omnigate/internal/store"

// ledgerKinds are the ledger entry kinds the billing page names in the
// reader's language (the browser test showed "charge" in French pages).
var ledgerKinds = []string{store.LedgerCharge, store.LedgerTopUp, store.LedgerRefund, store.LedgerAdjustment}

func init() {
	addWords(map[string]map[string]string{
		"en": {"ledger.kind.charge": "charge", "ledger.kind.topup": "top-up", "ledger.kind.refund": "refund", "ledger.kind.adjustment": "adjustment"},
		"fr": {"ledger.kind.charge": "débit", "ledger.kind.topup": "rechargement", "ledger.kind.refund": "remboursement", "ledger.kind.adjustment": "ajustement"},
		"ar": {"ledger.kind.charge": "خصم", "ledger.kind.topup": "شحن الرصيد", "ledger.kind.refund": "استرداد", "ledger.kind.adjustment": "تسوية"},
	})
}
