// Package keywords recognises opt-out, opt-in and help keywords in inbound
// SMS, in the sender's own language, and provides the replies and
// opt-out instructions that go with them.
//
// Carrier and consumer-protection rules require that a recipient can stop
// messages by replying a keyword, and that the keyword works in the
// recipient's language. The package knows the usual keywords of English,
// Spanish, Portuguese, French, German, Italian, Dutch, Polish, Turkish,
// Indonesian, Malay, Russian, Ukrainian, Arabic, Urdu, Persian, Hindi,
// Simplified and Traditional Chinese, Japanese and Korean (see Keywords and
// Languages).
//
// # Classifying a message
//
// [Classify] and [ClassifyFor] tell whether a whole inbound message is a
// keyword. Matching is conservative, because a false opt-out unsubscribes
// someone who did not ask to be: the message must be the keyword, give or
// take case, diacritics, surrounding white space and punctuation, and the
// spelling variants that [Normalize] folds (Arabic alef and yeh forms,
// Persian kaf and yeh, tatweel and vowel marks, full-width letters,
// Turkish dotted and dotless i, …). "STOP!" is an opt-out; "please stop",
// "Don't stop" and "STOPPED" are not keywords at all.
//
// A keyword such as STOP belongs to several languages. The language of the
// match, which is the language to reply in, is then chosen by the sender's
// country with ClassifyFor (a Dutch sender's STOP is Dutch), and otherwise
// by the order of [Languages] (STOP is English).
//
// # Replying
//
// [Confirmation] gives the text to send back after an opt-out or opt-in,
// [HelpReply] the answer to a help keyword with the account's own help
// text, and [OptOutInstruction] the short instruction to append to
// marketing messages for a recipient's country, in the language of
// [LanguageOfCountry]. Every keyword that these texts tell people to send
// is itself recognised in that language.
package keywords
