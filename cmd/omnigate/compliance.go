package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// withStore opens the store for one command.
func withStore(ctx context.Context, cfg app.Config, f func(st *sqlstore.Store) error) error {
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

// senderCmd: sender register | approve | reject | list.
func senderCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("sender: say register, approve, reject or list")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("sender "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	originator := fs.String("originator", "", "the sender: alphanumeric (≤ 11) or a number")
	note := fs.String("note", "", "why (kept with the decision)")
	operator := fs.String("operator", "", "who decides (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		if args[0] == "list" {
			list, err := st.Senders(ctx, *account)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		}
		o := strings.TrimPrefix(strings.TrimSpace(*originator), "+")
		if o == "" || len(o) > 16 {
			return usagef("sender %s: --originator is required (at most 11 characters, or a number)", args[0])
		}
		now := time.Now().UTC()
		s := &store.Sender{AccountID: *account, Originator: o, CreatedAt: now}
		switch args[0] {
		case "register":
			s.Status, s.RequestedBy = store.SenderPending, operatorName(*operator)
		case "approve":
			s.Status, s.DecidedBy, s.DecidedAt, s.Note = store.SenderApproved, operatorName(*operator), now, *note
		case "reject":
			s.Status, s.DecidedBy, s.DecidedAt, s.Note = store.SenderRejected, operatorName(*operator), now, *note
		default:
			return usagef("sender: unknown subcommand %q (register, approve, reject, list)", args[0])
		}
		if err := st.SaveSender(ctx, s); err != nil {
			return err
		}
		return printJSON(stdout, s)
	})
}

// complianceCmd: compliance policy | request-proof | cases | suspend | lift.
func complianceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("compliance: say policy, request-proof, cases, suspend or lift")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("compliance "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id")
	operator := fs.String("operator", "", "who acts (default $USER)")
	reason := fs.String("reason", "", "why")
	switch args[0] {
	case "policy":
		purpose := fs.String("purpose", "", "default purpose: transactional or marketing")
		toOptedOut := fs.String("transactional-to-opted-out", "", "true: transactional messages still reach recipients who opted out")
		help := fs.String("help-text", "", "the answer to HELP")
		instruction := fs.String("optout-instruction", "", "true: append the opt-out instruction to marketing messages")
		window := fs.String("window", "", "when marketing may arrive, recipient local time, e.g. 08:00-21:00")
		relax := fs.String("relax-senders", "", "let the account send from any originator; give the reason (recorded)")
		strict := fs.Bool("strict-senders", false, "undo --relax-senders")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			p, err := st.GetPolicy(ctx, *account)
			if err != nil {
				return accountErr(err, *account)
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if set["purpose"] {
				if *purpose != compliance.Transactional && *purpose != compliance.Marketing {
					return usagef("compliance policy: --purpose transactional or marketing")
				}
				p.DefaultPurpose = *purpose
			}
			if set["transactional-to-opted-out"] {
				if p.TransactionalToOptedOut, err = strconv.ParseBool(*toOptedOut); err != nil {
					return usagef("compliance policy: --transactional-to-opted-out true or false")
				}
			}
			if set["help-text"] {
				p.HelpText = *help
			}
			if set["optout-instruction"] {
				if p.OptOutInstruction, err = strconv.ParseBool(*instruction); err != nil {
					return usagef("compliance policy: --optout-instruction true or false")
				}
			}
			if set["window"] {
				w, err := compliance.ParseWindow(*window)
				if err != nil {
					return usageError{err}
				}
				p.WindowStart, p.WindowEnd = w.Start, w.End
			}
			if set["relax-senders"] {
				if strings.TrimSpace(*relax) == "" {
					return usagef("compliance policy: --relax-senders needs a reason")
				}
				p.SenderRelaxed = fmt.Sprintf("%s at %s: %s", operatorName(*operator), time.Now().UTC().Format(time.RFC3339), *relax)
			}
			if *strict {
				p.SenderRelaxed = ""
			}
			if err := st.SetPolicy(ctx, *account, p); err != nil {
				return err
			}
			return printJSON(stdout, p)
		})
	case "request-proof":
		recipient := fs.String("recipient", "", "the recipient the proof is about (optional)")
		due := fs.Duration("due", 24*time.Hour, "how long the account has to answer")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if strings.TrimSpace(*reason) == "" {
			return usagef("compliance request-proof: --reason is required")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			if _, err := st.GetAccount(ctx, *account); err != nil {
				return accountErr(err, *account)
			}
			now := time.Now().UTC()
			c := &store.ProofCase{ID: ids.New(), AccountID: *account, Recipient: *recipient, Reason: *reason, OpenedBy: operatorName(*operator),
				Status: store.CaseOpen, DueAt: now.Add(*due), CreatedAt: now}
			if err := st.OpenProofCase(ctx, c); err != nil {
				return err
			}
			if err := st.EnqueueJob(ctx, &store.Job{Kind: store.JobAlert, AccountID: *account, RunAt: now, CreatedAt: now,
				Payload: []byte(fmt.Sprintf(`{"type":"proof_request","case":%q,"reason":%q,"due":%q}`, c.ID, c.Reason, c.DueAt.Format(time.RFC3339)))}); err != nil {
				return err
			}
			return printJSON(stdout, c)
		})
	case "cases":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.ProofCase, error) { return st.ProofCases(ctx, *account) },
			func(c store.ProofCase) store.ProofCase { return c })
	case "suspend", "lift":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			p, err := st.GetPolicy(ctx, *account)
			if err != nil {
				return accountErr(err, *account)
			}
			if args[0] == "suspend" {
				if strings.TrimSpace(*reason) == "" {
					return usagef("compliance suspend: --reason is required")
				}
				p.Suspended = fmt.Sprintf("%s (%s, %s)", *reason, operatorName(*operator), time.Now().UTC().Format(time.RFC3339))
			} else {
				p.Suspended = ""
			}
			if err := st.SetPolicy(ctx, *account, p); err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"account": *account, "suspended": p.Suspended})
		})
	}
	return usagef("compliance: unknown subcommand %q (policy, request-proof, cases, suspend, lift)", args[0])
}

// dndCmd: dnd import FILE --registry NAME.
func dndCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "import" || strings.HasPrefix(args[1], "-") {
		return usagef("dnd: dnd import FILE --registry NAME")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("dnd import", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	registry := fs.String("registry", "", "the registry's name, e.g. IN-NCPR (required)")
	if err := parse(fs, args[2:], stderr); err != nil {
		return err
	}
	if *registry == "" {
		return usagef("dnd import: --registry is required")
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := compliance.ParseDNDCSV(f, *registry, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("dnd import %s: %w", args[1], err)
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if err := st.ImportDND(ctx, entries); err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"registry": *registry, "imported": len(entries)})
	})
}

// reviewCmd: review list | release | reject.
func reviewCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("review: say list, release or reject")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("review "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	msg := fs.String("message", "", "the held message's id")
	operator := fs.String("operator", "", "who decides (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "list":
			list, err := st.Reviews(ctx, store.ReviewPending, 200)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "release", "reject":
			status := map[string]string{"release": store.ReviewReleased, "reject": store.ReviewRejected}[args[0]]
			r, err := st.DecideReview(ctx, *msg, status, operatorName(*operator))
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("review %s: no held message %q", args[0], *msg)
			case errors.Is(err, store.ErrConflict):
				return fmt.Errorf("review %s: %q was decided already", args[0], *msg)
			case err != nil:
				return err
			}
			return printJSON(stdout, r)
		}
		return usagef("review: unknown subcommand %q (list, release, reject)", args[0])
	})
}

// consentCmd: consent import FILE | list | proof.
func consentCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("consent: say import, list or proof")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("consent "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	recipient := fs.String("recipient", "", "the recipient (list, proof)")
	asCSV := fs.Bool("csv", false, "proof as CSV")
	rest := args[1:]
	var file string
	if args[0] == "import" {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usagef("consent import FILE --account ID")
		}
		file, rest = args[1], args[2:]
	}
	if err := parse(fs, rest, stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		switch args[0] {
		case "import":
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			cs, err := compliance.ParseConsentsCSV(f, *account, operatorName(""), time.Now().UTC())
			if err != nil {
				return fmt.Errorf("consent import %s: %w", file, err)
			}
			if err := st.AddConsents(ctx, cs); err != nil {
				return err
			}
			return printJSON(stdout, map[string]int{"imported": len(cs)})
		case "list", "proof":
			c, err := compliance.ParseConsent(*recipient, compliance.Marketing, store.OptIn, "", nil, "", time.Now())
			if err != nil {
				return usageError{err}
			}
			history, err := st.Consents(ctx, *account, c.Recipient)
			if err != nil {
				return err
			}
			if args[0] == "proof" && *asCSV {
				return compliance.WriteProofCSV(stdout, history)
			}
			return printJSON(stdout, compliance.Proof(*account, c.Recipient, history, time.Now().UTC()))
		}
		return usagef("consent: unknown subcommand %q (import, list, proof)", args[0])
	})
}
