package compose

import (
	"html"
	"regexp"
	"strings"
)

// hrefAttr finds the targets of links in HTML: href="…" or href='…'
// whose value is an http(s) URL. A regular expression, not an HTML parser:
// the HTML is the customer's, and a link it hides from this pattern is
// only not tracked.
var hrefAttr = regexp.MustCompile(`(?i)(\shref\s*=\s*)("https?://[^"]*"|'https?://[^']*')`)

// decorateHTML applies the footer, click tracking and the open pixel to an
// HTML part; without HTML nothing is added (a text-only email is not
// tracked).
func decorateHTML(h string, o Options) string {
	if h == "" {
		return h
	}
	if o.ClickURL != nil {
		h = hrefAttr.ReplaceAllStringFunc(h, func(m string) string {
			sub := hrefAttr.FindStringSubmatch(m)
			quoted := sub[2]
			target := html.UnescapeString(quoted[1 : len(quoted)-1])
			return sub[1] + `"` + html.EscapeString(o.ClickURL(target)) + `"`
		})
	}
	var tail strings.Builder
	if o.Footer != "" {
		tail.WriteString(`<p style="font-size:small;color:#666">` + strings.ReplaceAll(html.EscapeString(o.Footer), "\n", "<br>") + `</p>`)
	}
	if o.OpenPixel != "" {
		tail.WriteString(`<img src="` + html.EscapeString(o.OpenPixel) + `" width="1" height="1" alt="" style="display:none">`)
	}
	if tail.Len() == 0 {
		return h
	}
	if i := strings.LastIndex(strings.ToLower(h), "</body>"); i >= 0 {
		return h[:i] + tail.String() + h[i:]
	}
	return h + tail.String()
}
