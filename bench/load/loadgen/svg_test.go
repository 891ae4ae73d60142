package loadgen

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseSVG decodes every token strictly and returns the root element's
// name, how often each element occurs, and all character data.
func parseSVG(t *testing.T, data []byte) (root string, elements map[string]int, text string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	elements = map[string]int{}
	var chars strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					t.Fatalf("a second root element <%s>", tok.Name.Local)
				}
				root = tok.Name.Local
				if tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", tok.Name.Space)
				}
			}
			depth++
			elements[tok.Name.Local]++
		case xml.EndElement:
			depth--
		case xml.CharData:
			chars.Write(tok)
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements (depth %d at the end)", depth)
	}
	return root, elements, chars.String()
}

func TestSVGIsWellFormed(t *testing.T) {
	res := &Result{
		Label:    `omnigate <sqlite> & "friends"`,
		Config:   RunConfig{Rate: 500, Concurrency: 32, Mix: "gsm=80,arabic=10,long=10"},
		EndToEnd: &Summary{},
		Requests: RequestCounts{Errors: 3},
	}
	for i := range 30 {
		p := Point{T: i, Accepted: 480 + i, Delivered: 470 + i, P50: 1.5, P99: float64(10 + i)}
		if i == 7 {
			p.P50, p.P99, p.Errors = 0, 0, 3 // a second without answers
		}
		res.Series = append(res.Series, p)
	}
	var buf bytes.Buffer
	if err := res.DrawSVG(&buf); err != nil {
		t.Fatal(err)
	}
	root, elements, text := parseSVG(t, buf.Bytes())
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	// p50 and p99 broken at the empty second (2 each), accepted,
	// delivered and errors.
	if got := elements["polyline"]; got != 7 {
		t.Errorf("%d polylines, want 7", got)
	}
	if !strings.Contains(text, `omnigate <sqlite> & "friends"`) {
		t.Errorf("the title was not kept as text: %q", text)
	}
	for _, want := range []string{"p50", "p99", "accepted", "delivered", "seconds since the start"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the chart", want)
		}
	}
}

func TestSVGOfAnEmptyRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.svg")
	if err := (&Result{Label: "nothing"}).WriteSVG(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if root, _, _ := parseSVG(t, data); root != "svg" {
		t.Fatalf("root %q", root)
	}
}
