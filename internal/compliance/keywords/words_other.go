package keywords

// Keywords of the languages written in the Cyrillic, Arabic, Devanagari
// and CJK scripts. Each also lists the Latin STOP, START and HELP (see
// builtin).

var russian = langWords{
	lang:   "ru",
	optOut: []string{"STOP", "СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА", "ОТПИШИТЕ", "ОТМЕНА", "ХВАТИТ"},
	optIn:  []string{"START", "СТАРТ", "ПОДПИСАТЬСЯ", "ПОДПИСКА"},
	help:   []string{"HELP", "ПОМОЩЬ", "СПРАВКА", "ИНФО"},
}

var ukrainian = langWords{
	lang:   "uk",
	optOut: []string{"STOP", "СТОП", "ВІДПИСАТИСЯ", "ВІДПИСКА", "СКАСУВАТИ", "ДОСИТЬ"},
	optIn:  []string{"START", "СТАРТ", "ПІДПИСАТИСЯ", "ПІДПИСКА"},
	help:   []string{"HELP", "ДОПОМОГА", "ДОВІДКА", "ІНФО"},
}

// Arabic. ابدأ (start) is left out: it normalizes like أبداً (never), the
// opposite of an opt-in.
var arabic = langWords{
	lang: "ar",
	optOut: []string{
		"STOP", "توقف", "إيقاف", "أوقف", "قف", "إلغاء", "إلغاء الاشتراك",
		"إلغاء اشتراك", "خروج",
	},
	optIn: []string{"START", "اشتراك", "اشترك", "تفعيل"},
	help:  []string{"HELP", "مساعدة", "معلومات"},
}

// Urdu. The Urdu instruction and replies name the Latin STOP and START,
// which is how commercial SMS in Pakistan word them.
var urdu = langWords{
	lang:   "ur",
	optOut: []string{"STOP", "بند", "بند کریں", "روکیں", "ختم کریں", "منسوخ کریں"},
	optIn:  []string{"START", "شروع", "شروع کریں"},
	help:   []string{"HELP", "مدد"},
}

// Persian. انصراف (withdrawal) and لغو (cancel) are the usual opt-out words
// of Iranian SMS services.
var persian = langWords{
	lang:   "fa",
	optOut: []string{"STOP", "لغو", "لغو عضویت", "لغو اشتراک", "انصراف", "توقف", "خروج"},
	optIn:  []string{"START", "شروع", "عضویت", "اشتراک"},
	help:   []string{"HELP", "کمک", "راهنما", "راهنمایی"},
}

// Hindi. बंद and शुरू are also listed in their other common spellings बन्द
// and शुरु, which Normalize does not merge.
var hindi = langWords{
	lang: "hi",
	optOut: []string{
		"STOP", "रोकें", "रोको", "बंद", "बन्द", "बंद करें", "बन्द करें", "बंद करो",
		"रद्द करें", "सदस्यता रद्द करें",
	},
	optIn: []string{"START", "शुरू", "शुरु", "शुरू करें", "चालू करें"},
	help:  []string{"HELP", "मदद", "सहायता"},
}

// Simplified Chinese. TD (for 退订) is the usual opt-out word of marketing
// SMS in mainland China ("回复TD退订").
var chineseSimplified = langWords{
	lang:   "zh",
	optOut: []string{"STOP", "TD", "退订", "取消订阅", "取消", "停止", "退出", "拒收"},
	optIn:  []string{"START", "订阅", "开始"},
	help:   []string{"HELP", "帮助"},
}

// Traditional Chinese, as written in Taiwan, Hong Kong and Macao.
var chineseTraditional = langWords{
	lang:   "zh-Hant",
	optOut: []string{"STOP", "TD", "退訂", "取消訂閱", "取消", "停止", "退出", "拒收"},
	optIn:  []string{"START", "訂閱", "開始"},
	help:   []string{"HELP", "幫助", "說明"},
}

var japanese = langWords{
	lang:   "ja",
	optOut: []string{"STOP", "ストップ", "停止", "配信停止", "解除", "配信解除"},
	optIn:  []string{"START", "登録", "開始"},
	help:   []string{"HELP", "ヘルプ"},
}

// Korean. 수신거부 (refuse to receive) is the wording of Korean advertising
// messages.
var korean = langWords{
	lang: "ko",
	optOut: []string{
		"STOP", "수신거부", "수신 거부", "거부", "중지", "해지", "구독취소", "구독 취소",
	},
	optIn: []string{"START", "구독", "시작", "수신동의"},
	help:  []string{"HELP", "도움말", "도움"},
}
