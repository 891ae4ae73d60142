package keywords_test

import (
	"fmt"

	"github.com/omnigate/omnigate/internal/compliance/keywords"
)

func Example() {
	// A Dutch handset replies "Stop!": an opt-out, confirmed in Dutch.
	m := keywords.ClassifyFor("Stop!", "NL")
	fmt.Println(m.Kind, m.Language, m.Keyword)
	fmt.Println(keywords.Confirmation(m.Kind, m.Language))

	// Spelling variants match the canonical keyword.
	m = keywords.Classify("الغاء")
	fmt.Println(m.Kind, m.Language, m.Keyword)
	m = keywords.Classify("ıptal")
	fmt.Println(m.Kind, m.Language, m.Keyword)

	// A sentence is not a keyword.
	fmt.Println(keywords.Classify("please stop sending me these at 5").Kind)

	// The instruction appended to marketing sent to Brazil.
	text, lang := keywords.OptOutInstruction("BR")
	fmt.Println(lang, text)
	// Output:
	// opt-out nl STOP
	// Je bent afgemeld en ontvangt geen berichten meer. Stuur START om je weer aan te melden.
	// opt-out ar إلغاء
	// opt-out tr İPTAL
	// none
	// pt Responda SAIR para deixar de receber mensagens
}

func ExampleHelpReply() {
	fmt.Println(keywords.HelpReply("es", "Acme: ayuda en acme.example/ayuda"))
	// Output:
	// Acme: ayuda en acme.example/ayuda
	// Responde BAJA para darte de baja
}

func ExampleNormalize() {
	fmt.Println(keywords.Normalize("  «ＳＴＯＰ»  "))
	fmt.Println(keywords.Normalize("إِلْغَاء"))
	fmt.Println(keywords.Normalize("Désabonner!"))
	// Output:
	// stop
	// الغاء
	// desabonner
}
