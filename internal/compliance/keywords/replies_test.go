package keywords

import (
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/smstext"
)

func TestRepliesForEveryLanguage(t *testing.T) {
	if len(replies) != len(builtin) {
		t.Errorf("%d reply sets for %d languages", len(replies), len(builtin))
	}
	en := replies["en"]
	for _, lang := range Languages() {
		r, ok := replies[lang]
		if !ok {
			t.Errorf("%s: no replies", lang)
			continue
		}
		for _, k := range []Kind{OptOut, OptIn, Help} {
			c := Confirmation(k, lang)
			if c == "" {
				t.Errorf("%s: no %v confirmation", lang, k)
			}
			if lang != "en" && c == Confirmation(k, "en") {
				t.Errorf("%s: %v confirmation is the English one", lang, k)
			}
		}
		if lang != "en" && r.instruction == en.instruction {
			t.Errorf("%s: instruction is the English one", lang)
		}
		if Confirmation(None, lang) != "" {
			t.Errorf("%s: confirmation for None", lang)
		}

		// The keywords the texts name are keywords of this language.
		if got := classify(r.stopWord, []string{lang}); got.Kind != OptOut || got.Language != lang {
			t.Errorf("%s: stop word %q classified %+v", lang, r.stopWord, got)
		}
		if got := classify(r.startWord, []string{lang}); got.Kind != OptIn || got.Language != lang {
			t.Errorf("%s: start word %q classified %+v", lang, r.startWord, got)
		}
		for name, text := range map[string]string{"opt-out": r.optOut, "help": r.help} {
			if !strings.Contains(text, r.startWord) {
				t.Errorf("%s %s reply %q does not name %q", lang, name, text, r.startWord)
			}
		}
		for name, text := range map[string]string{"opt-in": r.optIn, "help": r.help, "instruction": r.instruction} {
			if !strings.Contains(text, r.stopWord) {
				t.Errorf("%s %s text %q does not name %q", lang, name, text, r.stopWord)
			}
		}
	}
}

// TestRepliesFitOneSMS checks that every text fits in a single SMS, and
// that where the language can be written in GSM 7-bit, it is.
func TestRepliesFitOneSMS(t *testing.T) {
	gsm := map[string]bool{"en": true, "es": true, "pt": true, "fr": true, "de": true, "it": true, "nl": true, "id": true, "ms": true}
	for lang, r := range replies {
		for name, text := range map[string]string{"opt-out": r.optOut, "opt-in": r.optIn, "help": r.help, "instruction": r.instruction} {
			info := smstext.Analyze(text, smstext.ModeAuto)
			if info.Parts != 1 {
				t.Errorf("%s %s text needs %d SMS (%v, %d units): %q", lang, name, info.Parts, info.Coding, info.Units, text)
			}
			if gsm[lang] && !smstext.IsGSM7(text) {
				t.Errorf("%s %s text is not GSM 7-bit: %q", lang, name, text)
			}
			if text != strings.TrimSpace(text) {
				t.Errorf("%s %s text has white space at an end", lang, name)
			}
		}
	}
}

func TestConfirmationLanguageTags(t *testing.T) {
	tests := map[string]string{
		"en": "en", "EN-us": "en", "pt-BR": "pt", "pt-PT": "pt", "es-419": "es",
		"zh": "zh", "zh-CN": "zh", "zh-Hans": "zh", "zh-SG": "zh",
		"zh-Hant": "zh-Hant", "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-Hant-HK": "zh-Hant", "ZH-hant": "zh-Hant",
		"ar-EG": "ar", "fa-IR": "fa", "ur-PK": "ur", "hi-IN": "hi", "nl-BE": "nl", "fr-CA": "fr",
		"in": "id", "": "en", "xx-invalid-!!": "en", "sv": "en", "und": "en", "fil": "en",
	}
	for tag, want := range tests {
		if got := replyLanguage(tag); got != want {
			t.Errorf("replyLanguage(%q) = %q, want %q", tag, got, want)
		}
		if got, exp := Confirmation(OptOut, tag), replies[want].optOut; got != exp {
			t.Errorf("Confirmation(OptOut, %q) = %q, want %q", tag, got, exp)
		}
	}
}

func TestHelpReply(t *testing.T) {
	if got, want := HelpReply("nl", ""), Confirmation(Help, "nl"); got != want {
		t.Errorf("no account help: %q, want %q", got, want)
	}
	if got, want := HelpReply("de", "  \n "), Confirmation(Help, "de"); got != want {
		t.Errorf("blank account help: %q, want %q", got, want)
	}
	got := HelpReply("ar", " Acme: support@acme.example ")
	if want := "Acme: support@acme.example\nأرسل توقف لإلغاء الاشتراك"; got != want {
		t.Errorf("account help: %q, want %q", got, want)
	}
	if got := HelpReply("xx", "Acme"); got != "Acme\nReply STOP to opt out" {
		t.Errorf("unknown language: %q", got)
	}
}
