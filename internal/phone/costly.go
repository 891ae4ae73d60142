package phone

import "github.com/nyaruka/phonenumbers"

// Costly reports whether libphonenumber places an international number
// (digits without "+") in a premium-rate or shared-cost range — numbers
// that cost their caller more, and earn their holder from the texts and
// calls they get, which is what SMS pumping exploits — and which kind.
func Costly(msisdn string) (kind string, costly bool) {
	n, err := phonenumbers.Parse("+"+msisdn, "ZZ")
	if err != nil {
		return "", false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.PREMIUM_RATE:
		return "premium_rate", true
	case phonenumbers.SHARED_COST:
		return "shared_cost", true
	}
	return "", false
}
