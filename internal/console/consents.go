package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// UseImports gives the console the import runner, for consent and
// suppression files; without it the import form is not offered.
func (c *Console) UseImports(rn *imports.Runner) { c.imports = rn }

func (c *Console) registerConsents(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/consents", c.signed(users.ViewConsents, c.consents))
	mux.HandleFunc("POST /console/consents", c.signed(users.ManageConsents, c.addConsent))
	mux.HandleFunc("GET /console/consents/proof.csv", c.signed(users.ViewConsents, c.proofCSV))
	mux.HandleFunc("POST /console/suppressions", c.signed(users.ManageConsents, c.addSuppression))
	mux.HandleFunc("POST /console/suppressions/remove", c.signed(users.ManageConsents, c.removeSuppression))
	mux.HandleFunc("POST /console/imports", c.upload(users.ManageConsents, c.startImport))
	mux.HandleFunc("GET /console/imports/{id}", c.signed(users.ViewConsents, c.importPage))
}

// maxUpload bounds a file posted to the console (an import); larger
// files go through the API (POST /consents/imports, up to 2 GiB).
const maxUpload = 10 << 20

// sourceConsole is the consent ledger's source of entries made in the
// console by a user of the account.
const sourceConsole = "console"

// consentsData is the Consents and suppressions page.
type consentsData struct {
	Q            map[string]string
	Recipient    string // the normalised recipient searched
	History      []store.Consent
	Suppressed   string // why the recipient is suppressed on its channel; "" if not
	Suppressions []store.Suppression
	Imports      []store.Import
	CanManage    bool
	CanImport    bool
	Purposes     []string
	Actions      []string
	Reasons      []string
	Channels     []string
	ImportKinds  []string
	MaxUploadMiB int
}

// maxSuppressionsShown bounds the page's list (the filter narrows it).
const maxSuppressionsShown = 100

func (c *Console) consents(q *req) { c.showConsents(q, http.StatusOK, "", "") }

func (c *Console) showConsents(q *req, status int, errMsg, notice string) {
	v := q.r.URL.Query()
	get := func(k string, n int) string {
		s := strings.TrimSpace(v.Get(k))
		if len(s) > n || !utf8.ValidString(s) {
			s = ""
		}
		return s
	}
	d := &consentsData{Q: map[string]string{"recipient": get("recipient", 320), "contains": get("contains", 320), "channel": get("channel", 20)},
		CanManage: users.Can(q.user.Role, users.ManageConsents), Purposes: []string{compliance.Marketing, compliance.Transactional},
		Actions: []string{store.OptIn, store.OptOut}, Reasons: compliance.AddableReasons, Channels: suppressionChannels(),
		ImportKinds: []string{store.ImportConsents, store.ImportSuppressions}, MaxUploadMiB: maxUpload >> 20}
	d.CanImport = d.CanManage && c.imports != nil
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	if r := d.Q["recipient"]; r != "" {
		cn, err := compliance.ParseConsent(r, compliance.Marketing, store.OptIn, "", nil, "", time.Now())
		if err != nil {
			if errMsg == "" {
				errMsg = q.loc.T("consents.error_recipient")
			}
			status = http.StatusBadRequest
		} else {
			d.Recipient = cn.Recipient
			if d.History, err = c.st.Consents(ctx, q.user.AccountID, cn.Recipient); c.storeFailed(q, err) {
				return
			}
			why, err := c.st.Suppressed(ctx, q.user.AccountID, store.AddressChannel(cn.Recipient), []string{cn.Recipient})
			if c.storeFailed(q, err) {
				return
			}
			d.Suppressed = why[cn.Recipient]
		}
	}
	f := store.SuppressionFilter{Contains: d.Q["contains"], Limit: maxSuppressionsShown}
	if ch := d.Q["channel"]; ch != "" {
		if _, ok := compliance.SuppressionChannels[ch]; !ok {
			d.Q["channel"] = ""
		} else {
			f.Channel = ch
		}
	}
	var err error
	if d.Suppressions, err = c.st.Suppressions(ctx, q.user.AccountID, f); c.storeFailed(q, err) {
		return
	}
	all, err := c.st.ListImports(ctx, q.user.AccountID, false, 20)
	if c.storeFailed(q, err) {
		return
	}
	for _, im := range all {
		if im.Kind == store.ImportConsents || im.Kind == store.ImportSuppressions {
			d.Imports = append(d.Imports, im)
		}
	}
	p := q.page("title.consents", d)
	p.Error, p.Notice = errMsg, notice
	c.render(q.w, status, "consents", p)
}

func suppressionChannels() []string {
	return []string{"sms", "email", compliance.PushChannel}
}

// plainText refuses markup in a free-text field: the console keeps what
// people type as text, and a field with < or > is most likely a paste of
// something else (or an attempt at script).
func plainText(s string) bool { return !strings.ContainsAny(s, "<>") && utf8.ValidString(s) }

// addConsent records one consent given in the console.
func (c *Console) addConsent(q *req) {
	f := q.r.PostFormValue
	legal := ""
	if f("legal_age") == "yes" {
		legal = "true"
	}
	evidence := strings.TrimSpace(f("evidence"))
	if !plainText(evidence) || !plainText(f("recipient")) || len(evidence) > 1000 {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_plain_text"), "")
		return
	}
	cn, err := compliance.ParseConsent(strings.TrimSpace(f("recipient")), f("purpose"), f("action"), legal, nil, "", time.Now().UTC())
	if err == nil {
		cn.AccountID, cn.Source, cn.Actor = q.user.AccountID, sourceConsole, "console user "+q.user.ID
		if evidence != "" {
			cn.Evidence = map[string]string{"text": evidence}
		}
		err = compliance.CheckEvidence(cn)
	}
	if err != nil {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error(), "")
		return
	}
	if err := c.st.AddConsents(q.r.Context(), []*store.Consent{cn}); c.storeFailed(q, err) {
		return
	}
	// The log keeps what changed, not whose address.
	c.audit("consent.added", q, slog.String("purpose", cn.Purpose), slog.String("action", cn.Action))
	http.Redirect(q.w, q.r, "/console/consents?recipient="+url.QueryEscape(cn.Recipient), http.StatusSeeOther)
}

// proofCSV is the consent proof of a recipient as CSV, as the API's GET
// /consents/proof?format=csv gives it.
func (c *Console) proofCSV(q *req) {
	cn, err := compliance.ParseConsent(strings.TrimSpace(q.r.URL.Query().Get("recipient")), compliance.Marketing, store.OptIn, "", nil, "", time.Now())
	if err != nil {
		c.fail(q, http.StatusBadRequest, q.loc.T("consents.error_recipient"))
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	history, err := c.st.Consents(ctx, q.user.AccountID, cn.Recipient)
	if c.storeFailed(q, err) {
		return
	}
	var buf bytes.Buffer
	if err := compliance.WriteProofCSV(&buf, history); err != nil {
		c.storeFailed(q, err)
		return
	}
	c.audit("consent.proof_exported", q, slog.Int("entries", len(history)))
	headers(q.w)
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="consent-proof.csv"`)
	q.w.Write(buf.Bytes())
}

func (c *Console) addSuppression(q *req) {
	f := q.r.PostFormValue
	if !plainText(f("recipient")) {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_plain_text"), "")
		return
	}
	sp, err := compliance.ParseSuppression(f("channel"), f("recipient"), f("reason"))
	if err != nil {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error(), "")
		return
	}
	sp.Actor, sp.CreatedAt = "console user "+q.user.ID, time.Now().UTC()
	if err := c.st.AddSuppression(q.r.Context(), q.user.AccountID, sp); c.storeFailed(q, err) {
		return
	}
	c.audit("suppression.added", q, slog.String("channel", sp.Channel), slog.String("reason", sp.Reason))
	http.Redirect(q.w, q.r, "/console/consents", http.StatusSeeOther)
}

func (c *Console) removeSuppression(q *req) {
	f := q.r.PostFormValue
	reason := strings.TrimSpace(f("reason"))
	if !plainText(reason) || !plainText(f("recipient")) {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_plain_text"), "")
		return
	}
	if reason == "" || len(reason) > compliance.MaxRemovalReason {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_removal_reason"), "")
		return
	}
	channel := f("channel")
	addr, err := compliance.ParseSuppressionAddress(channel, strings.TrimSpace(f("recipient")))
	if err != nil {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error(), "")
		return
	}
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	why, err := c.st.Suppressed(ctx, q.user.AccountID, channel, []string{addr})
	if c.storeFailed(q, err) {
		return
	}
	switch was, ok := why[addr]; {
	case !ok:
		c.fail(q, http.StatusNotFound, q.loc.T("error.not_found"))
		return
	case was == store.SuppressOptOut:
		c.showConsents(q, http.StatusConflict, q.loc.T("consents.error_opt_out_removal"), "")
		return
	}
	_, err = c.st.RemoveSuppression(ctx, q.user.AccountID, store.SuppressionRemoval{Suppression: store.Suppression{Channel: channel, Recipient: addr},
		RemovedBy: "console user " + q.user.ID, RemovalReason: reason, RemovedAt: time.Now().UTC()})
	if c.storeFailed(q, err) {
		return
	}
	c.audit("suppression.removed", q, slog.String("channel", channel))
	http.Redirect(q.w, q.r, "/console/consents", http.StatusSeeOther)
}

// upload wraps the handler of a form with a file: a signed-in session is
// checked before the body is read, the body may be up to maxUpload
// (larger: 413), and the parts spooled to disk are removed after.
func (c *Console) upload(perm users.Permission, h func(*req)) http.HandlerFunc {
	inner := c.signed(perm, h)
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		if _, ss, err := c.users.Authenticate(r.Context(), ck.Value); err != nil || !ss.Verified {
			inner(w, r) // it answers: sign in again, or the second factor
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				c.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
				return
			}
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		inner(w, r)
	}
}

// startImport starts an import of the account's consents or suppressions
// from an uploaded CSV file, as the API's POST /consents/imports does, and
// sends to its progress page.
func (c *Console) startImport(q *req) {
	if c.imports == nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	kind := q.r.PostFormValue("kind")
	if kind != store.ImportConsents && kind != store.ImportSuppressions {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_import_kind"), "")
		return
	}
	file, _, err := q.r.FormFile("file")
	if err != nil {
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_no_file"), "")
		return
	}
	defer file.Close()
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	recent, err := c.st.ListImports(ctx, q.user.AccountID, false, 20)
	if c.storeFailed(q, err) {
		return
	}
	for _, im := range recent {
		if im.State == store.ImportRunning && im.Kind == kind {
			c.showConsents(q, http.StatusConflict, q.loc.T("consents.error_import_running"), "")
			return
		}
	}
	f, size, err := imports.Spool(file, maxUpload)
	if err != nil {
		c.fail(q, http.StatusRequestEntityTooLarge, q.loc.T("error.too_large"))
		return
	}
	if size == 0 {
		f.Close()
		os.Remove(f.Name())
		c.showConsents(q, http.StatusBadRequest, q.loc.T("consents.error_no_file"), "")
		return
	}
	actor := "console user " + q.user.ID
	im, err := c.imports.Job(ctx, kind, q.user.AccountID, false, struct{}{}, actor, size)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		c.storeFailed(q, err)
		return
	}
	c.imports.Go(f, func(ctx context.Context, body io.Reader) error {
		return c.imports.RunAccount(ctx, im, body, actor, nil)
	})
	c.audit("import.started", q, slog.String("import", im.ID), slog.String("kind", kind), slog.Int64("bytes", size))
	http.Redirect(q.w, q.r, "/console/imports/"+im.ID, http.StatusSeeOther)
}

// importData is an import's progress page.
type importData struct {
	Im      *store.Import
	Running bool
	Percent int
	Errors  []string
}

// maxImportErrorsShown bounds the bad rows the page lists (the count is
// shown too).
const maxImportErrorsShown = 100

// importPage shows an import's progress; while it runs, the page reloads
// itself every two seconds (a meta refresh: no script needed).
func (c *Console) importPage(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	im, err := c.st.GetImport(ctx, q.user.AccountID, false, q.r.PathValue("id"))
	if err == nil && im.Kind != store.ImportConsents && im.Kind != store.ImportSuppressions {
		err = store.ErrNotFound
	}
	if c.storeFailed(q, err) {
		return
	}
	d := &importData{Im: im, Running: im.State == store.ImportRunning, Errors: im.Errors}
	if im.Size > 0 {
		d.Percent = int(min(100, im.BytesRead*100/im.Size))
	}
	if !d.Running && im.State == store.ImportDone {
		d.Percent = 100
	}
	if len(d.Errors) > maxImportErrorsShown {
		d.Errors = d.Errors[:maxImportErrorsShown]
	}
	c.render(q.w, http.StatusOK, "import", q.page("title.import", d))
}

func init() {
	pageNames = append(pageNames, "consents", "import")
	addWords(map[string]map[string]string{
		"en": {
			"nav.consents": "Consents and suppressions", "title.consents": "Consents and suppressions", "title.import": "Import",
			"consents.search": "A recipient's consents", "consents.suppressed": "suppressed:", "consents.not_suppressed": "not suppressed",
			"consents.history": "Consent history, oldest first", "consents.purpose": "Purpose", "consents.action": "Choice",
			"consents.legal_age": "Of legal age", "consents.source": "Source", "consents.evidence": "Evidence",
			"consents.none": "No consent is recorded for this recipient.", "consents.proof_csv": "Download the proof of consent (CSV)",
			"consents.add": "Record a consent", "consents.legal_age_help": "The recipient stated they are of legal age",
			"consents.evidence_help": "How the person gave this choice: a form, a reference, a date. An email opt-in needs it.",
			"consents.add_button":    "Record the consent", "consents.suppressions": "Suppressions",
			"consents.contains": "Address contains", "consents.removal_reason": "Why it is removed",
			"consents.no_suppressions": "No suppression matches.", "consents.add_suppression": "Add the suppression",
			"consents.imports": "Imports", "consents.import_kind": "What the file holds", "consents.file": "CSV file",
			"consents.file_help":     "Consents: columns recipient, purpose, action (and legal_age, categories, date, evidence). Suppressions: channel, recipient (and reason). Every row is imported, or none. At most %d MiB here; larger files go through the API.",
			"consents.import_button": "Start the import", "consents.no_imports": "No import yet.",
			"consents.purpose_marketing": "marketing", "consents.purpose_transactional": "transactional",
			"consents.action_opt_in": "opted in", "consents.action_opt_out": "opted out",
			"consents.channel_sms": "SMS", "consents.channel_email": "Email", "consents.channel_push": "Push notifications",
			"consents.reason_opt_out": "opted out", "consents.reason_manual": "added by hand", "consents.reason_bounce": "hard bounce",
			"consents.reason_complaint": "spam complaint", "consents.reason_unsubscribe": "unsubscribed",
			"consents.error_recipient":       "Write the recipient as a phone number in international format or an email address.",
			"consents.error_plain_text":      "Text fields take plain text: < and > are not accepted.",
			"consents.error_removal_reason":  "Say why the suppression is removed (at most 500 characters).",
			"consents.error_opt_out_removal": "This recipient opted out: only a new opt-in lifts the suppression.",
			"consents.error_import_kind":     "Choose what the file holds: consents or suppressions.",
			"consents.error_no_file":         "Choose a CSV file that is not empty.",
			"consents.error_import_running":  "An import of this kind is running. Start the next one when it has ended.",
			"import.kind_consents":           "Consents", "import.kind_suppressions": "Suppressions",
			"import.state_running": "running", "import.state_done": "done", "import.state_failed": "failed, nothing imported",
			"import.imported": "Rows imported", "import.finished": "Ended", "import.rows_read": "Rows read", "import.bad_rows": "Bad rows",
			"import.progress": "Progress", "import.running_help": "This page refreshes itself every two seconds while the import runs.",
			"import.refresh": "Refresh now", "import.errors": "Why it failed", "import.back": "Back to consents and suppressions",
		},
		"fr": {
			"nav.consents": "Consentements et exclusions", "title.consents": "Consentements et exclusions", "title.import": "Importation",
			"consents.search": "Les consentements d’un destinataire", "consents.suppressed": "exclu :", "consents.not_suppressed": "non exclu",
			"consents.history": "Historique des consentements, du plus ancien au plus récent", "consents.purpose": "Finalité", "consents.action": "Choix",
			"consents.legal_age": "Majeur", "consents.source": "Source", "consents.evidence": "Preuve",
			"consents.none": "Aucun consentement n’est enregistré pour ce destinataire.", "consents.proof_csv": "Télécharger la preuve de consentement (CSV)",
			"consents.add": "Enregistrer un consentement", "consents.legal_age_help": "Le destinataire a déclaré être majeur",
			"consents.evidence_help": "Comment la personne a fait ce choix : un formulaire, une référence, une date. Obligatoire pour un consentement par e-mail.",
			"consents.add_button":    "Enregistrer le consentement", "consents.suppressions": "Exclusions",
			"consents.contains": "L’adresse contient", "consents.removal_reason": "Motif du retrait",
			"consents.no_suppressions": "Aucune exclusion ne correspond.", "consents.add_suppression": "Ajouter l’exclusion",
			"consents.imports": "Importations", "consents.import_kind": "Contenu du fichier", "consents.file": "Fichier CSV",
			"consents.file_help":     "Consentements : colonnes recipient, purpose, action (et legal_age, categories, date, evidence). Exclusions : channel, recipient (et reason). Toutes les lignes sont importées, ou aucune. Au plus %d Mio ici ; les fichiers plus gros passent par l’API.",
			"consents.import_button": "Lancer l’importation", "consents.no_imports": "Aucune importation pour l’instant.",
			"consents.purpose_marketing": "marketing", "consents.purpose_transactional": "transactionnel",
			"consents.action_opt_in": "a consenti", "consents.action_opt_out": "s’est désinscrit",
			"consents.channel_sms": "SMS", "consents.channel_email": "E-mail", "consents.channel_push": "Notifications push",
			"consents.reason_opt_out": "désinscrit", "consents.reason_manual": "ajouté à la main", "consents.reason_bounce": "rejet définitif",
			"consents.reason_complaint": "plainte pour spam", "consents.reason_unsubscribe": "désabonné",
			"consents.error_recipient":       "Écrivez le destinataire sous forme de numéro international ou d’adresse e-mail.",
			"consents.error_plain_text":      "Les champs de texte prennent du texte brut : < et > ne sont pas acceptés.",
			"consents.error_removal_reason":  "Indiquez pourquoi l’exclusion est retirée (500 caractères au plus).",
			"consents.error_opt_out_removal": "Ce destinataire s’est désinscrit : seul un nouveau consentement lève l’exclusion.",
			"consents.error_import_kind":     "Choisissez le contenu du fichier : consentements ou exclusions.",
			"consents.error_no_file":         "Choisissez un fichier CSV non vide.",
			"consents.error_import_running":  "Une importation de ce type est en cours. Lancez la suivante quand elle sera terminée.",
			"import.kind_consents":           "Consentements", "import.kind_suppressions": "Exclusions",
			"import.state_running": "en cours", "import.state_done": "terminée", "import.state_failed": "échouée, rien n’a été importé",
			"import.imported": "Lignes importées", "import.finished": "Terminée le", "import.rows_read": "Lignes lues", "import.bad_rows": "Lignes erronées",
			"import.progress": "Avancement", "import.running_help": "Cette page se recharge toutes les deux secondes pendant l’importation.",
			"import.refresh": "Actualiser maintenant", "import.errors": "Pourquoi elle a échoué", "import.back": "Retour aux consentements et exclusions",
		},
		"ar": {
			"nav.consents": "الموافقات والحظر", "title.consents": "الموافقات والحظر", "title.import": "الاستيراد",
			"consents.search": "موافقات مستلم", "consents.suppressed": "محظور:", "consents.not_suppressed": "غير محظور",
			"consents.history": "سجل الموافقات، الأقدم أولًا", "consents.purpose": "الغرض", "consents.action": "الاختيار",
			"consents.legal_age": "بالغ السن القانونية", "consents.source": "المصدر", "consents.evidence": "الدليل",
			"consents.none": "لا توجد موافقة مسجلة لهذا المستلم.", "consents.proof_csv": "تنزيل إثبات الموافقة (CSV)",
			"consents.add": "تسجيل موافقة", "consents.legal_age_help": "صرّح المستلم بأنه بالغ السن القانونية",
			"consents.evidence_help": "كيف أبدى الشخص هذا الاختيار: نموذج أو مرجع أو تاريخ. مطلوب لموافقة البريد الإلكتروني.",
			"consents.add_button":    "سجّل الموافقة", "consents.suppressions": "قائمة الحظر",
			"consents.contains": "العنوان يحتوي على", "consents.removal_reason": "سبب الإزالة",
			"consents.no_suppressions": "لا يوجد حظر مطابق.", "consents.add_suppression": "أضف الحظر",
			"consents.imports": "عمليات الاستيراد", "consents.import_kind": "محتوى الملف", "consents.file": "ملف CSV",
			"consents.file_help":     "الموافقات: الأعمدة recipient وpurpose وaction (وlegal_age وcategories وdate وevidence). الحظر: channel وrecipient (وreason). تُستورد كل الصفوف أو لا شيء. الحد هنا %d ميغابايت؛ الملفات الأكبر تمر عبر واجهة البرمجة.",
			"consents.import_button": "ابدأ الاستيراد", "consents.no_imports": "لا يوجد استيراد بعد.",
			"consents.purpose_marketing": "تسويقي", "consents.purpose_transactional": "معاملاتي",
			"consents.action_opt_in": "وافق", "consents.action_opt_out": "ألغى الاشتراك",
			"consents.channel_sms": "رسائل نصية", "consents.channel_email": "بريد إلكتروني", "consents.channel_push": "إشعارات فورية",
			"consents.reason_opt_out": "ألغى الاشتراك", "consents.reason_manual": "أُضيف يدويًا", "consents.reason_bounce": "ارتداد دائم",
			"consents.reason_complaint": "شكوى بريد مزعج", "consents.reason_unsubscribe": "ألغى الاشتراك من القائمة",
			"consents.error_recipient":       "اكتب المستلم رقم هاتف بالصيغة الدولية أو عنوان بريد إلكتروني.",
			"consents.error_plain_text":      "حقول النص تقبل نصًا عاديًا فقط: لا يُقبل < ولا >.",
			"consents.error_removal_reason":  "اذكر سبب إزالة الحظر (٥٠٠ حرف على الأكثر).",
			"consents.error_opt_out_removal": "ألغى هذا المستلم اشتراكه: لا يرفع الحظر إلا موافقة جديدة.",
			"consents.error_import_kind":     "اختر محتوى الملف: موافقات أو حظر.",
			"consents.error_no_file":         "اختر ملف CSV غير فارغ.",
			"consents.error_import_running":  "يجري استيراد من هذا النوع. ابدأ التالي حين ينتهي.",
			"import.kind_consents":           "الموافقات", "import.kind_suppressions": "الحظر",
			"import.state_running": "قيد التنفيذ", "import.state_done": "اكتمل", "import.state_failed": "فشل، لم يُستورد شيء",
			"import.imported": "الصفوف المستوردة", "import.finished": "انتهى في", "import.rows_read": "الصفوف المقروءة", "import.bad_rows": "الصفوف الخاطئة",
			"import.progress": "التقدم", "import.running_help": "تُحدَّث هذه الصفحة تلقائيًا كل ثانيتين ما دام الاستيراد جاريًا.",
			"import.refresh": "حدّث الآن", "import.errors": "سبب الفشل", "import.back": "العودة إلى الموافقات والحظر",
		},
	})
}
