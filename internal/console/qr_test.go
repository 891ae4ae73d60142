package console

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"rsc.io/qr"

	"github.com/omnigate/omnigate/internal/users"
)

// The SVG has a module square for each dark module of the code, inside a
// quiet zone, and its label is escaped.
func TestQRSVG(t *testing.T) {
	uri := users.TOTPURI("omnigate", "a@example.org", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	svg := string(qrSVG(uri, `Scan "this" <code>`))
	code, err := qr.Encode(uri, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				dark++
				if !strings.Contains(svg, "M"+strconv.Itoa(x+4)+" "+strconv.Itoa(y+4)+"h1v1h-1z") {
					t.Fatalf("module %d,%d is missing", x, y)
				}
			}
		}
	}
	if got := len(regexp.MustCompile(`h1v1h-1z`).FindAllString(svg, -1)); got != dark || dark == 0 {
		t.Fatalf("%d squares for %d dark modules", got, dark)
	}
	if want := `viewBox="0 0 ` + strconv.Itoa(code.Size+8); !strings.Contains(svg, want) {
		t.Fatalf("no quiet zone: %.200s", svg)
	}
	if strings.Contains(svg, "<code>") || !strings.Contains(svg, `aria-label="Scan &#34;this&#34; &lt;code&gt;"`) {
		t.Fatalf("label not escaped: %.300s", svg)
	}
	if qrSVG(strings.Repeat("x", 5000), "x") != "" {
		t.Fatal("a text too long for a QR code drew one")
	}
}
