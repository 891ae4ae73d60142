// Command omnigate is the whole platform in one binary:
//
//	omnigate serve [--demo]                      run the API, dispatcher and webhooks
//	omnigate account create --name N [--balance] create a tenant; prints its keys as JSON
//	omnigate account list                        list tenants as JSON
//	omnigate account update --id ID --report-url set an account's default status-report URL
//	omnigate account shred --account ID --yes    delete the account's data keys: its stored message bodies read as [erased]
//	omnigate key create --account ID [--test]    add an access key; prints it as JSON
//	omnigate key list --account ID               an account's keys (never the keys themselves)
//	omnigate key revoke --account ID --id KEYID  revoke a key (or --key KEY); every node refuses it within 250 ms
//	omnigate connector add|list|remove           SMPP carrier connectors
//	omnigate route add|list|remove               the route table
//	omnigate number add|list|remove              inbound numbers
//	omnigate numbers import|list|assign|release  the numbers inventory
//	omnigate smsc                                the SMSC simulator
//	omnigate mailsink                            the receiving mail server simulator
//	omnigate chatsim                             the WhatsApp Cloud API simulator
//	omnigate balance|topup|prices|limit|billing|statement  billing (docs/billing.md)
//	omnigate sender|compliance|consent|dnd|review          compliance (docs/compliance.md)
//	omnigate suppression list|add|remove|removals|import|export  the suppression list, every channel
//	omnigate template list|show|put|delete|preview          message templates (docs/templates.md)
//	omnigate secrets status|rotate|retire-master|generate     secrets at rest (docs/operations.md)
//	omnigate email domain add|list|show|verify|remove|suspend|resume|cap   sending domains and DKIM (docs/email.md)
//	omnigate terms publish|list|acceptances; subprocessors set|list   ACCT-7, PRIV-7 (docs/operations.md)
//	omnigate smpp credentials --account ID                 SMPP server credentials (docs/smpp-server.md)
//	omnigate twilio credentials --account ID [--rotate] [--api-key]   the Twilio door's credentials (docs/twilio.md)
//	omnigate channel add|list --account ID --kind sms|whatsapp|email --sender S   Conversations channels (docs/conversations.md)
//	omnigate audit list|verify|export                      the audit log of changes (docs/audit.md)
//	omnigate backup [--out DIR] | restore --from FILE       backups (docs/operations.md)
//	omnigate privacy open|list|show|export|extend|close        data-subject requests (docs/privacy.md)
//	omnigate retention show|set|reset|run|runs              the retention schedule (docs/privacy.md)
//	omnigate version
//
// Every command takes --data, --database and --master-key-file (or
// OMNIGATE_DATA, OMNIGATE_DATABASE and OMNIGATE_MASTER_KEY_FILE or
// OMNIGATE_MASTER_KEY), so administrative commands work on the same
// database as a running server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `omnigate — a self-hostable communications platform

Usage:
  omnigate serve [flags]                 run the platform (--demo for a ready-to-try setup)
  omnigate account create --name NAME    create an account; prints id, key, test_key as JSON
  omnigate account list                  list accounts as JSON
  omnigate account update --id ID        change an account (--report-url for status reports)
  omnigate account shred --account ID --yes   delete the account's data keys: its stored message bodies become unreadable, backups included
  omnigate account export|archive --account ID --out F.zip   the account's data (offered before deletion), a deleted account's archive
  omnigate key create --account ID       add an access key (--test for a test key)
  omnigate key list --account ID         an account's keys: id, test, hint, created, last used, revoked
  omnigate key revoke --account ID --id KEYID   revoke a key (or --key KEY, "-" from stdin)
  omnigate user create|list|invite|reset-2fa|reset-password|seats   console users (docs/console.md)
  omnigate connector add|list|remove     SMPP carrier connectors (add --name N --host H --system-id S …)
  omnigate route add|list|remove         routes: destination prefix or country → connectors
  omnigate number add|list|remove        inbound numbers and the accounts that receive them
  omnigate numbers import|list|assign|release|history  the numbers inventory (docs/numbers.md)
  omnigate smsc                          run the SMSC simulator (SMPP 3.4 server for testing)
  omnigate mailsink                      run the mail sink (SMTP server into maildirs, for testing)
  omnigate chatsim                       run the WhatsApp Cloud API simulator (HTTP, for testing)
  omnigate balance show|topup|refund|adjust  an account's money (the ledger)
  omnigate topup list|confirm|cancel     top-up requests (automatic or invoiced)
  omnigate prices import FILE|list       price lists (CSV: channel,country,prefix,currency,price)
  omnigate limit set|list|remove         usage limits with 80 %/100 % alerts
  omnigate billing set --account ID      payment, credit limit, alert addresses, automatic top-up
  omnigate statement --account ID        monthly usage (--month YYYY-MM, --csv)
  omnigate sender register|approve|reject|list   sender identities (--account ID --originator NAME)
  omnigate compliance policy|request-proof|cases|suspend|lift|complaint   an account's compliance
  omnigate consent import FILE|list|proof   the consent ledger (--account ID)
  omnigate suppression list|add|remove|removals|import|export   the suppression list (--account ID; sms and email)
  omnigate template list|show|put FILE|delete|preview   message templates (--account ID)
  omnigate dnd import FILE --registry NAME   a national do-not-disturb registry
  omnigate review list|release|reject   messages held for review
  omnigate app create|list|update|rotate|errors|delete   realtime (Pusher) apps (create --account ID)
  omnigate beams create|quota|credentials                push notification (Beams) instances (docs/push.md)
  omnigate secrets status|rotate|retire-master|generate   the keys that encrypt secrets at rest
  omnigate email domain add|list|show|verify|remove|suspend|resume|cap   sending domains and DKIM keys
  omnigate smpp credentials --account ID   credentials for the SMPP server (--smpp-listen)
  omnigate twilio credentials --account ID [--rotate] [--api-key]   the Twilio door's account SID, auth token, API keys
  omnigate channel add|list              Conversations channels (add --account ID --kind sms|whatsapp|email --sender S [--name N])
  omnigate verify settings|set|blocks|unblock   fraud protection of one-time codes (--account ID)
  omnigate terms publish|list|acceptances      terms of service versions, announced to every account
  omnigate subprocessors set|list              the sub-processor list (--file list.json), announced on change
  omnigate plan set|list                       subscription plans: monthly fee, included seats, add-ons (docs/subscriptions.md)
  omnigate subscription trial|start|cancel|show|run   an account's trial or subscription (--account ID --plan P); run: a lifecycle pass now
  omnigate invoice list|show|pay|dispute|undispute|void   invoices and their dunning (--account ID --id INVOICE)
  omnigate audit list|verify|export      the audit log of changes (docs/audit.md)
  omnigate backup [--out DIR]            a consistent online backup (docs/operations.md#backups)
  omnigate restore --from FILE --data DIR   restore a backup into a new data directory (or --database URL)
  omnigate privacy open|list|show|export|extend|close   data-subject requests (--identifier +31… --kind access|erasure|restriction|rectification)
  omnigate retention show|set KIND=DAYS|reset KIND|run|runs   the retention schedule (docs/privacy.md)
  omnigate version                       print the version

Run "omnigate COMMAND -h" for a command's flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "account":
		err = accountCmd(ctx, args[1:], stdout, stderr)
	case "key":
		err = keyCmd(ctx, args[1:], stdout, stderr)
	case "user":
		err = userCmd(ctx, args[1:], stdout, stderr)
	case "connector":
		err = connectorCmd(ctx, args[1:], stdout, stderr)
	case "route":
		err = routeCmd(ctx, args[1:], stdout, stderr)
	case "number":
		err = numberCmd(ctx, args[1:], stdout, stderr)
	case "numbers":
		err = numbersCmd(ctx, args[1:], stdout, stderr)
	case "smpp":
		err = smppCmd(ctx, args[1:], stdout, stderr)
	case "smsc":
		err = smscCmd(ctx, args[1:], stdout, stderr)
	case "mailsink":
		err = mailsinkCmd(ctx, args[1:], stdout, stderr)
	case "chatsim":
		err = chatsimCmd(ctx, args[1:], stdout, stderr)
	case "balance":
		err = balanceCmd(ctx, args[1:], stdout, stderr)
	case "topup":
		err = topupCmd(ctx, args[1:], stdout, stderr)
	case "prices":
		err = pricesCmd(ctx, args[1:], stdout, stderr)
	case "limit":
		err = limitCmd(ctx, args[1:], stdout, stderr)
	case "billing":
		err = billingCmd(ctx, args[1:], stdout, stderr)
	case "statement":
		err = statementCmd(ctx, args[1:], stdout, stderr)
	case "sender":
		err = senderCmd(ctx, args[1:], stdout, stderr)
	case "compliance":
		err = complianceCmd(ctx, args[1:], stdout, stderr)
	case "dnd":
		err = dndCmd(ctx, args[1:], stdout, stderr)
	case "review":
		err = reviewCmd(ctx, args[1:], stdout, stderr)
	case "consent":
		err = consentCmd(ctx, args[1:], stdout, stderr)
	case "suppression":
		err = suppressionCmd(ctx, args[1:], stdout, stderr)
	case "template":
		err = templateCmd(ctx, args[1:], stdout, stderr)
	case "app":
		err = appCmd(ctx, args[1:], stdout, stderr)
	case "beams":
		err = beamsCmd(ctx, args[1:], stdout, stderr)
	case "secrets":
		err = secretsCmd(ctx, args[1:], stdout, stderr)
	case "email":
		err = emailCmd(ctx, args[1:], stdout, stderr)
	case "twilio":
		err = twilioCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr)
	case "terms":
		err = termsCmd(ctx, args[1:], stdout, stderr)
	case "subprocessors":
		err = subprocessorsCmd(ctx, args[1:], stdout, stderr)
	case "plan":
		err = planCmd(ctx, args[1:], stdout, stderr)
	case "subscription":
		err = subscriptionCmd(ctx, args[1:], stdout, stderr)
	case "invoice":
		err = invoiceCmd(ctx, args[1:], stdout, stderr)
	case "channel":
		err = channelCmd(ctx, args[1:], stdout, stderr)
	case "audit":
		err = auditCmd(ctx, args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args[1:], stdout, stderr)
	case "restore":
		err = restoreCmd(ctx, args[1:], stdout, stderr)
	case "privacy":
		err = privacyCmd(ctx, args[1:], stdout, stderr)
	case "retention":
		err = retentionCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "omnigate", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "omnigate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		recordCLI(ctx, args, stderr)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "omnigate: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "omnigate: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
