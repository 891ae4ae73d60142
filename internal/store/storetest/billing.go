package storetest

// billingBehaviours cover the ledger, prices, charging and usage limits.
var billingBehaviours = []behaviour{}
