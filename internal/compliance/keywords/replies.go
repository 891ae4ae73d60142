package keywords

import (
	"strings"

	"golang.org/x/text/language"
)

// replySet holds the texts of one language. Each fits in one SMS: within
// 160 GSM 7-bit characters, or 70 UCS-2 units when the script needs UCS-2;
// the instructions of the Latin-script languages other than Polish and
// Turkish are GSM 7-bit, so appending one does not force a GSM message
// into UCS-2.
type replySet struct {
	optOut      string // sent after an opt-out; names startWord
	optIn       string // sent after an opt-in; names stopWord
	help        string // sent for help when the account has no help text; names stopWord and startWord
	instruction string // appended to marketing messages; names stopWord
	stopWord    string // the opt-out keyword the texts name
	startWord   string // the opt-in keyword the texts name
}

var replies = map[string]replySet{
	"en": {
		optOut:      "You are unsubscribed and will receive no more messages. Reply START to subscribe again.",
		optIn:       "You are subscribed. Reply HELP for help, STOP to opt out.",
		help:        "Reply STOP to opt out, START to opt back in.",
		instruction: "Reply STOP to opt out",
		stopWord:    "STOP", startWord: "START",
	},
	"es": {
		optOut:      "Te has dado de baja. Responde ALTA para volver a recibir mensajes.",
		optIn:       "Te has dado de alta. Responde BAJA para dejar de recibir mensajes.",
		help:        "Responde BAJA para darte de baja o ALTA para volver a suscribirte.",
		instruction: "Responde BAJA para darte de baja",
		stopWord:    "BAJA", startWord: "ALTA",
	},
	"pt": {
		optOut:      "Sua assinatura foi cancelada. Responda ASSINAR para voltar a receber mensagens.",
		optIn:       "Sua assinatura foi confirmada. Responda SAIR para deixar de receber mensagens.",
		help:        "Responda SAIR para deixar de receber mensagens ou ASSINAR para voltar a receber.",
		instruction: "Responda SAIR para deixar de receber mensagens",
		stopWord:    "SAIR", startWord: "ASSINAR",
	},
	"fr": {
		optOut:      "Votre désabonnement est confirmé, vous ne recevrez plus de messages. Répondez START pour vous réabonner.",
		optIn:       "Votre abonnement est confirmé. Répondez STOP pour vous désabonner.",
		help:        "Répondez STOP pour vous désabonner ou START pour vous réabonner.",
		instruction: "Répondez STOP pour vous désabonner",
		stopWord:    "STOP", startWord: "START",
	},
	"de": {
		optOut:      "Sie sind abgemeldet und erhalten keine Nachrichten mehr. Mit START melden Sie sich wieder an.",
		optIn:       "Sie sind angemeldet. Mit STOP melden Sie sich ab.",
		help:        "Mit STOP melden Sie sich ab, mit START wieder an.",
		instruction: "Zum Abmelden mit STOP antworten",
		stopWord:    "STOP", startWord: "START",
	},
	"it": {
		optOut:      "Iscrizione annullata, non riceverai più messaggi. Rispondi START per iscriverti di nuovo.",
		optIn:       "Iscrizione confermata. Rispondi STOP per non ricevere più messaggi.",
		help:        "Rispondi STOP per non ricevere più messaggi o START per iscriverti di nuovo.",
		instruction: "Rispondi STOP per non ricevere più messaggi",
		stopWord:    "STOP", startWord: "START",
	},
	"nl": {
		optOut:      "Je bent afgemeld en ontvangt geen berichten meer. Stuur START om je weer aan te melden.",
		optIn:       "Je bent aangemeld. Stuur STOP om je af te melden.",
		help:        "Stuur STOP om je af te melden of START om je weer aan te melden.",
		instruction: "Stuur STOP om je af te melden",
		stopWord:    "STOP", startWord: "START",
	},
	"pl": {
		optOut:      "Wypisano Cię z listy. Wyślij START, aby zapisać się ponownie.",
		optIn:       "Zapisano Cię na listę. Wyślij STOP, aby się wypisać.",
		help:        "Wyślij STOP, aby się wypisać, lub START, aby się zapisać.",
		instruction: "Wyślij STOP, aby się wypisać",
		stopWord:    "STOP", startWord: "START",
	},
	"tr": {
		optOut:      "Aboneliğiniz iptal edildi. Yeniden abone olmak için BAŞLA yazın.",
		optIn:       "Aboneliğiniz başlatıldı. Ayrılmak için RET yazın.",
		help:        "Ayrılmak için RET, yeniden abone olmak için BAŞLA yazın.",
		instruction: "Listeden çıkmak için RET yazın",
		stopWord:    "RET", startWord: "BAŞLA",
	},
	"id": {
		optOut:      "Anda telah berhenti berlangganan. Balas MULAI untuk berlangganan kembali.",
		optIn:       "Anda telah berlangganan. Balas STOP untuk berhenti berlangganan.",
		help:        "Balas STOP untuk berhenti berlangganan atau MULAI untuk berlangganan kembali.",
		instruction: "Balas STOP untuk berhenti berlangganan",
		stopWord:    "STOP", startWord: "MULAI",
	},
	"ms": {
		optOut:      "Anda telah berhenti melanggan. Balas MULA untuk melanggan semula.",
		optIn:       "Anda telah melanggan. Balas STOP untuk berhenti melanggan.",
		help:        "Balas STOP untuk berhenti melanggan atau MULA untuk melanggan semula.",
		instruction: "Balas STOP untuk berhenti melanggan",
		stopWord:    "STOP", startWord: "MULA",
	},
	"ru": {
		optOut:      "Вы отписаны от рассылки. Чтобы подписаться снова, отправьте СТАРТ",
		optIn:       "Вы подписаны на рассылку. Чтобы отписаться, отправьте СТОП",
		help:        "Чтобы отписаться, отправьте СТОП, чтобы подписаться — СТАРТ",
		instruction: "Чтобы отписаться, отправьте СТОП",
		stopWord:    "СТОП", startWord: "СТАРТ",
	},
	"uk": {
		optOut:      "Ви відписалися від розсилки. Щоб підписатися знову, надішліть СТАРТ",
		optIn:       "Ви підписалися на розсилку. Щоб відписатися, надішліть СТОП",
		help:        "Щоб відписатися, надішліть СТОП, щоб підписатися — СТАРТ",
		instruction: "Щоб відписатися, надішліть СТОП",
		stopWord:    "СТОП", startWord: "СТАРТ",
	},
	"ar": {
		optOut:      "تم إلغاء اشتراكك ولن تصلك رسائل أخرى. للعودة أرسل اشتراك",
		optIn:       "تم تفعيل اشتراكك. لإلغاء الاشتراك أرسل توقف",
		help:        "أرسل توقف لإلغاء الاشتراك أو اشتراك لإعادته",
		instruction: "أرسل توقف لإلغاء الاشتراك",
		stopWord:    "توقف", startWord: "اشتراك",
	},
	"ur": {
		optOut:      "آپ کی رکنیت ختم کر دی گئی ہے۔ دوبارہ شامل ہونے کے لیے START بھیجیں",
		optIn:       "آپ کی رکنیت شروع ہو گئی ہے۔ ختم کرنے کے لیے STOP بھیجیں",
		help:        "رکنیت ختم کرنے کے لیے STOP اور دوبارہ شروع کرنے کے لیے START بھیجیں",
		instruction: "پیغامات بند کرنے کے لیے STOP بھیجیں",
		stopWord:    "STOP", startWord: "START",
	},
	"fa": {
		optOut:      "عضویت شما لغو شد. برای عضویت دوباره «شروع» را بفرستید",
		optIn:       "عضویت شما فعال شد. برای لغو عضویت «لغو» را بفرستید",
		help:        "برای لغو عضویت «لغو» و برای عضویت دوباره «شروع» را بفرستید",
		instruction: "برای لغو عضویت «لغو» را بفرستید",
		stopWord:    "لغو", startWord: "شروع",
	},
	"hi": {
		optOut:      "आपकी सदस्यता रद्द कर दी गई है। फिर से जुड़ने के लिए START भेजें",
		optIn:       "आपकी सदस्यता शुरू हो गई है। रद्द करने के लिए STOP भेजें",
		help:        "सदस्यता रद्द करने के लिए STOP और फिर से शुरू करने के लिए START भेजें",
		instruction: "संदेश बंद करने के लिए STOP भेजें",
		stopWord:    "STOP", startWord: "START",
	},
	"zh": {
		optOut:      "您已退订，将不再收到短信。如需恢复，请回复“订阅”。",
		optIn:       "您已成功订阅。回复TD退订。",
		help:        "回复TD退订，回复“订阅”重新订阅。",
		instruction: "回复TD退订",
		stopWord:    "TD", startWord: "订阅",
	},
	"zh-Hant": {
		optOut:      "您已退訂，將不再收到簡訊。如需恢復，請回覆「訂閱」。",
		optIn:       "您已成功訂閱。回覆TD退訂。",
		help:        "回覆TD退訂，回覆「訂閱」重新訂閱。",
		instruction: "回覆TD退訂",
		stopWord:    "TD", startWord: "訂閱",
	},
	"ja": {
		optOut:      "配信を停止しました。再開するには「登録」と返信してください。",
		optIn:       "配信登録が完了しました。停止するには「停止」と返信してください。",
		help:        "配信停止は「停止」、再開は「登録」と返信してください。",
		instruction: "配信停止は「停止」と返信してください",
		stopWord:    "停止", startWord: "登録",
	},
	"ko": {
		optOut:      "수신거부가 완료되었습니다. 다시 받으시려면 '구독'이라고 답장하세요.",
		optIn:       "구독이 완료되었습니다. 수신을 원치 않으시면 '수신거부'라고 답장하세요.",
		help:        "수신거부는 '수신거부', 다시 받으시려면 '구독'이라고 답장하세요.",
		instruction: "수신을 원치 않으시면 '수신거부'라고 답장하세요",
		stopWord:    "수신거부", startWord: "구독",
	},
}

// Confirmation returns the text sent back, in the given language, after an
// opt-out (which names the opt-in keyword), an opt-in (which names the
// opt-out keyword) or a help request (a generic help text naming both; see
// HelpReply for one with the account's own help). It returns "" for None.
//
// lang is a BCP 47 tag: a Match's Language, or any tag whose base language
// is built in ("pt-BR" gives Portuguese, "zh-TW" and "zh-Hant-HK"
// Traditional Chinese, "zh-CN" Simplified). Other languages get English.
// Each text fits in a single SMS.
func Confirmation(k Kind, lang string) string {
	r := replies[replyLanguage(lang)]
	switch k {
	case OptOut:
		return r.optOut
	case OptIn:
		return r.optIn
	case Help:
		return r.help
	}
	return ""
}

// HelpReply returns the answer to a help keyword: the account's help text
// (its name and how to reach it, as carrier rules require) followed on a
// new line by the opt-out instruction in the language, or
// Confirmation(Help, lang) when the account has no help text.
func HelpReply(lang, accountHelp string) string {
	accountHelp = strings.TrimSpace(accountHelp)
	l := replyLanguage(lang)
	if accountHelp == "" {
		return replies[l].help
	}
	return accountHelp + "\n" + replies[l].instruction
}

// OptOutInstruction returns the short opt-out instruction appended to
// marketing messages sent to a recipient in a country (ISO 3166-1 alpha-2,
// any case), and its language, LanguageOfCountry(country): for example
// "Reply STOP to opt out" (en), "Stuur STOP om je af te melden" (nl),
// "أرسل توقف لإلغاء الاشتراك" (ar), "回复TD退订" (zh). The keyword it names
// is an opt-out keyword of that language, which ClassifyFor with the same
// country answers in that language. The text has no final punctuation.
func OptOutInstruction(country string) (text, lang string) {
	lang = LanguageOfCountry(country)
	return replies[lang].instruction, lang
}

// replyLanguage maps a BCP 47 tag to a key of replies, "en" if none fits.
func replyLanguage(lang string) string {
	if _, ok := replies[lang]; ok {
		return lang
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return "en"
	}
	base, _ := tag.Base()
	b := base.String()
	if b == "zh" {
		if script, _ := tag.Script(); script.String() == "Hant" {
			return "zh-Hant"
		}
		return "zh"
	}
	if _, ok := replies[b]; ok {
		return b
	}
	return "en"
}
