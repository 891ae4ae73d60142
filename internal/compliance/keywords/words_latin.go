package keywords

// Keywords of the languages written in the Latin script. Multi-word forms
// are fixed phrases: the whole message must be the phrase.

var english = langWords{
	lang: "en",
	optOut: []string{
		"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "UN SUBSCRIBE",
		"CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT", "REMOVE",
	},
	optIn: []string{"START", "UNSTOP", "YES", "SUBSCRIBE", "OPTIN", "OPT IN"},
	help:  []string{"HELP", "INFO"},
}

var spanish = langWords{
	lang: "es",
	optOut: []string{
		"STOP", "BAJA", "DAR DE BAJA", "DARSE DE BAJA", "PARAR", "ALTO",
		"DETENER", "CANCELAR", "CANCELAR SUSCRIPCIÓN", "ANULAR", "BASTA",
		"FIN", "SALIR", "DESUSCRIBIR", "DESUSCRIBIRSE",
	},
	optIn: []string{"START", "ALTA", "DAR DE ALTA", "SUSCRIBIR", "SUSCRIBIRSE", "SUSCRIBIRME"},
	help:  []string{"HELP", "AYUDA", "INFO", "INFORMACIÓN"},
}

var portuguese = langWords{
	lang: "pt",
	optOut: []string{
		"STOP", "SAIR", "PARAR", "PARE", "CANCELAR", "CANCELAR ASSINATURA",
		"DESCADASTRAR", "DESINSCREVER", "REMOVER", "CHEGA", "BASTA",
	},
	optIn: []string{"START", "ASSINAR", "INSCREVER", "CADASTRAR"},
	help:  []string{"HELP", "AJUDA", "INFO", "INFORMAÇÃO"},
}

var french = langWords{
	lang: "fr",
	optOut: []string{
		"STOP", "ARRÊT", "ARRÊTER", "ARRÊTE", "DÉSABONNER", "SE DÉSABONNER",
		"DÉSABONNEMENT", "DÉSINSCRIRE", "SE DÉSINSCRIRE", "DÉSINSCRIPTION",
		"ANNULER", "FIN",
	},
	optIn: []string{"START", "ABONNER", "S'ABONNER", "INSCRIRE", "S'INSCRIRE"},
	help:  []string{"HELP", "AIDE", "INFO", "INFOS"},
}

var german = langWords{
	lang: "de",
	optOut: []string{
		"STOP", "STOPP", "ABMELDEN", "ABMELDUNG", "ABBESTELLEN", "AUSTRAGEN",
		"KÜNDIGEN", "KUENDIGEN", "ENDE",
	},
	optIn: []string{"START", "STARTEN", "ANMELDEN", "ABONNIEREN"},
	help:  []string{"HELP", "HILFE", "INFO"},
}

var italian = langWords{
	lang: "it",
	optOut: []string{
		"STOP", "BASTA", "CANCELLA", "CANCELLAMI", "DISISCRIVI",
		"DISISCRIVIMI", "ANNULLA", "DISATTIVA",
	},
	optIn: []string{"START", "ISCRIVI", "ISCRIVIMI", "ATTIVA"},
	help:  []string{"HELP", "AIUTO", "INFO"},
}

var dutch = langWords{
	lang:   "nl",
	optOut: []string{"STOP", "STOPPEN", "AFMELDEN", "UITSCHRIJVEN", "OPZEGGEN"},
	optIn:  []string{"START", "STARTEN", "AANMELDEN", "INSCHRIJVEN"},
	help:   []string{"HELP", "HULP", "INFO"},
}

var polish = langWords{
	lang: "pl",
	optOut: []string{
		"STOP", "WYPISZ", "WYPISZ MNIE", "REZYGNUJĘ", "REZYGNACJA", "ANULUJ",
		"KONIEC",
	},
	optIn: []string{"START", "ZAPISZ", "ZAPISZ MNIE"},
	help:  []string{"HELP", "POMOC", "INFO"},
}

// Turkish: RET is the opt-out word of the national commercial-message
// system; İPTAL also matches IPTAL, iptal and ıptal (see Normalize).
var turkish = langWords{
	lang:   "tr",
	optOut: []string{"STOP", "RET", "İPTAL", "ABONELİK İPTAL", "DUR", "DURDUR"},
	optIn:  []string{"START", "BAŞLA", "ABONE OL"},
	help:   []string{"HELP", "YARDIM", "BİLGİ"},
}

// Indonesian: UNREG is how premium and subscription SMS services are left.
var indonesian = langWords{
	lang: "id",
	optOut: []string{
		"STOP", "BERHENTI", "BERHENTI BERLANGGANAN", "HENTIKAN", "BATAL",
		"UNREG",
	},
	optIn: []string{"START", "MULAI", "DAFTAR", "BERLANGGANAN"},
	help:  []string{"HELP", "BANTUAN", "TOLONG", "INFO"},
}

var malay = langWords{
	lang:   "ms",
	optOut: []string{"STOP", "BERHENTI", "BERHENTI MELANGGAN", "HENTIKAN", "BATAL"},
	optIn:  []string{"START", "MULA", "LANGGAN", "MELANGGAN"},
	help:   []string{"HELP", "BANTUAN", "INFO"},
}
