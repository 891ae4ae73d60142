package console

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

func (c *Console) registerCases(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/cases", c.signed(users.ViewCases, c.cases))
	mux.HandleFunc("POST /console/cases/{id}/proof", c.upload(users.ManageConsents, c.answerCase))
}

// maxProofFile bounds the proof a case is answered with (the desk's own
// bound).
const maxProofFile = 1 << 20

// caseRow is a proof case with its countdown.
type caseRow struct {
	store.ProofCase
	Left Countdown // zero when the case is not open
}

type casesData struct {
	Cases     []caseRow
	CanAnswer bool
	Answered  bool
}

func (c *Console) cases(q *req) { c.showCases(q, http.StatusOK, "") }

func (c *Console) showCases(q *req, status int, errMsg string) {
	if q.user.AccountID == "" { // the store lists every account's for ""
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	list, err := c.st.ProofCases(ctx, q.user.AccountID)
	if c.storeFailed(q, err) {
		return
	}
	now := time.Now()
	d := &casesData{CanAnswer: users.Can(q.user.Role, users.ManageConsents) && c.desk != nil, Answered: q.r.URL.Query().Get("answered") == "1"}
	for _, pc := range list {
		row := caseRow{ProofCase: pc}
		if pc.Status == store.CaseOpen {
			row.Left = q.loc.Countdown(pc.DueAt.Sub(now))
		}
		d.Cases = append(d.Cases, row)
	}
	p := q.page("title.cases", d)
	p.Error = errMsg
	c.render(q.w, status, "cases", p)
}

// answerCase answers an open proof case with the proof typed in or a
// file (the proof export of a recipient, say), through the compliance
// desk as the API's POST /compliance/cases/{id}/proof does.
func (c *Console) answerCase(q *req) {
	if c.desk == nil || q.user.AccountID == "" {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	proof := q.r.PostFormValue("proof")
	if file, _, err := q.r.FormFile("file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(file, maxProofFile+1))
		file.Close()
		if rerr != nil || len(b) > maxProofFile {
			c.fail(q, http.StatusRequestEntityTooLarge, q.loc.T("error.too_large"))
			return
		}
		if len(b) > 0 {
			proof = string(b)
		}
	}
	if !plainText(proof) {
		c.showCases(q, http.StatusBadRequest, q.loc.T("cases.error_plain_text"))
		return
	}
	if strings.TrimSpace(proof) == "" {
		c.showCases(q, http.StatusBadRequest, q.loc.T("cases.error_empty"))
		return
	}
	pc, err := c.desk.AnswerProof(q.r.Context(), q.user.AccountID, q.r.PathValue("id"), proof)
	var input *compliance.InputError
	switch {
	case errors.Is(err, store.ErrConflict):
		c.showCases(q, http.StatusConflict, q.loc.T("cases.error_not_open"))
		return
	case errors.As(err, &input):
		c.showCases(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+input.Error())
		return
	case c.storeFailed(q, err):
		return
	}
	c.audit("case.answered", q, slog.String("case", pc.ID), slog.Int("bytes", len(proof)))
	http.Redirect(q.w, q.r, "/console/cases?answered=1", http.StatusSeeOther)
}

func init() {
	pageNames = append(pageNames, "cases")
	addWords(map[string]map[string]string{
		"en": {
			"nav.cases": "Compliance cases", "title.cases": "Compliance cases",
			"cases.help": "When an operator asks for proof of consent, the account has until the deadline to answer; past it, sending is suspended.",
			"cases.none": "No proof has been asked for.",
			"cases.case": "Case", "cases.reason": "Why it was asked", "cases.due": "Deadline", "cases.left": "Time left",
			"cases.status_open": "open", "cases.status_answered": "answered", "cases.status_expired": "expired: sending suspended", "cases.status_closed": "closed",
			"cases.answered_at": "Answered",
			"cases.proof":       "Proof (text)", "cases.proof_file": "or a file (CSV or text, at most 1 MiB)",
			"cases.answer":           "Send the proof",
			"cases.sent":             "The proof is sent; the case is answered.",
			"cases.error_empty":      "Give the proof: type it or choose a file.",
			"cases.error_not_open":   "This case is not open any more (answered, expired or closed).",
			"cases.error_plain_text": "The proof is plain text: < and > are not accepted.",
		},
		"fr": {
			"nav.cases": "Dossiers de conformité", "title.cases": "Dossiers de conformité",
			"cases.help": "Quand un opérateur demande une preuve de consentement, le compte a jusqu’à l’échéance pour répondre ; passé ce délai, l’envoi est suspendu.",
			"cases.none": "Aucune preuve n’a été demandée.",
			"cases.case": "Dossier", "cases.reason": "Motif de la demande", "cases.due": "Échéance", "cases.left": "Temps restant",
			"cases.status_open": "ouvert", "cases.status_answered": "répondu", "cases.status_expired": "expiré : envoi suspendu", "cases.status_closed": "clos",
			"cases.answered_at": "Répondu le",
			"cases.proof":       "Preuve (texte)", "cases.proof_file": "ou un fichier (CSV ou texte, 1 Mio au plus)",
			"cases.answer":           "Envoyer la preuve",
			"cases.sent":             "La preuve est envoyée ; le dossier est répondu.",
			"cases.error_empty":      "Fournissez la preuve : saisissez-la ou choisissez un fichier.",
			"cases.error_not_open":   "Ce dossier n’est plus ouvert (répondu, expiré ou clos).",
			"cases.error_plain_text": "La preuve est du texte brut : < et > ne sont pas acceptés.",
		},
		"ar": {
			"nav.cases": "قضايا الامتثال", "title.cases": "قضايا الامتثال",
			"cases.help": "حين يطلب مشغّل إثبات الموافقة، يكون أمام الحساب حتى الموعد النهائي للرد؛ وبعده يُوقف الإرسال.",
			"cases.none": "لم يُطلب أي إثبات.",
			"cases.case": "القضية", "cases.reason": "سبب الطلب", "cases.due": "الموعد النهائي", "cases.left": "الوقت المتبقي",
			"cases.status_open": "مفتوحة", "cases.status_answered": "تم الرد", "cases.status_expired": "منتهية: الإرسال موقوف", "cases.status_closed": "مغلقة",
			"cases.answered_at": "تاريخ الرد",
			"cases.proof":       "الإثبات (نص)", "cases.proof_file": "أو ملف (CSV أو نص، ١ ميغابايت على الأكثر)",
			"cases.answer":           "أرسل الإثبات",
			"cases.sent":             "أُرسل الإثبات وتم الرد على القضية.",
			"cases.error_empty":      "قدّم الإثبات: اكتبه أو اختر ملفًا.",
			"cases.error_not_open":   "لم تعد هذه القضية مفتوحة (تم الرد عليها أو انتهت أو أُغلقت).",
			"cases.error_plain_text": "الإثبات نص عادي: لا يُقبل < ولا >.",
		},
	})
}
