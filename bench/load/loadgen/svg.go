package loadgen

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 960
	panelHeight = 220
	marginLeft  = 70
	marginRight = 20
	marginTop   = 56
	panelGap    = 60
)

// Series colours.
const (
	colourP50       = "#1f77b4"
	colourP99       = "#d62728"
	colourAccepted  = "#2ca02c"
	colourDelivered = "#9467bd"
	colourErrors    = "#ff7f0e"
)

// WriteSVG draws the result's time line — request latency p50 and p99 per
// second on a logarithmic axis above, accepted and delivered recipients
// per second below — as a self-contained SVG file.
func (res *Result) WriteSVG(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	if err := res.DrawSVG(f); err != nil {
		f.Close()
		return fmt.Errorf("writing the chart: %w", err)
	}
	return f.Close()
}

// DrawSVG writes the chart WriteSVG draws to w.
func (res *Result) DrawSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	c := &svgCanvas{w: bw}
	height := marginTop + 2*panelHeight + panelGap + 50
	c.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	c.printf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	mode := "closed loop"
	if res.Config.Rate > 0 {
		mode = fmt.Sprintf("%g requests/s offered", res.Config.Rate)
	}
	c.text(marginLeft, 20, "start", "bold", fmt.Sprintf("%s — %s, concurrency %d, mix %s",
		res.Label, mode, res.Config.Concurrency, res.Config.Mix))

	n := max(len(res.Series), 1)
	x := func(t float64) float64 {
		return marginLeft + t/float64(n)*float64(chartWidth-marginLeft-marginRight)
	}

	// Latency panel (log scale).
	top := float64(marginTop)
	lo, hi := math.Inf(1), 0.0
	for _, p := range res.Series {
		for _, v := range []float64{p.P50, p.P99} {
			if v > 0 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if hi <= lo {
		hi = lo * 10
	}
	yLat := func(v float64) float64 {
		f := (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		return top + panelHeight - f*panelHeight
	}
	c.frame(top, "request latency (ms, log scale), per second of answers")
	for v := lo; v <= hi*1.001; v *= 10 {
		c.hline(yLat(v), fmtTick(v))
	}
	c.polyline(colourP50, res.Series, x, func(p Point) (float64, bool) { return yLat(p.P50), p.P50 > 0 })
	c.polyline(colourP99, res.Series, x, func(p Point) (float64, bool) { return yLat(p.P99), p.P99 > 0 })
	c.legend(top, []legendItem{{colourP50, "p50"}, {colourP99, "p99"}})

	// Throughput panel (linear).
	top2 := top + panelHeight + panelGap
	peak := 0
	for _, p := range res.Series {
		peak = max(peak, p.Accepted, p.Delivered, p.Errors)
	}
	scale := niceCeil(float64(max(peak, 1)))
	yThr := func(v float64) float64 { return top2 + panelHeight - v/scale*panelHeight }
	c.frame(top2, "recipients per second")
	// 1, 2 or 5 × 10^k: five, four or five grid steps of round values.
	steps := 5
	if lead := scale / math.Pow(10, math.Floor(math.Log10(scale))); lead == 2 {
		steps = 4
	}
	for i := 0; i <= steps; i++ {
		v := scale * float64(i) / float64(steps)
		c.hline(yThr(v), fmtTick(v))
	}
	c.polyline(colourAccepted, res.Series, x, func(p Point) (float64, bool) { return yThr(float64(p.Accepted)), true })
	items := []legendItem{{colourAccepted, "accepted"}}
	if res.EndToEnd != nil {
		c.polyline(colourDelivered, res.Series, x, func(p Point) (float64, bool) { return yThr(float64(p.Delivered)), true })
		items = append(items, legendItem{colourDelivered, "delivered"})
	}
	if res.Requests.Errors > 0 {
		c.polyline(colourErrors, res.Series, x, func(p Point) (float64, bool) { return yThr(float64(p.Errors)), true })
		items = append(items, legendItem{colourErrors, "errors (requests)"})
	}
	c.legend(top2, items)

	// Time axis under both panels.
	step := max(1, int(niceCeil(float64(n)/10)))
	for t := 0; t <= n; t += step {
		for _, base := range []float64{top, top2} {
			c.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/>`+"\n",
				x(float64(t)), base+panelHeight, x(float64(t)), base+panelHeight+4)
		}
		c.text(x(float64(t)), top2+panelHeight+18, "middle", "", fmt.Sprintf("%ds", t))
	}
	c.text(float64(chartWidth)/2, top2+panelHeight+38, "middle", "", "seconds since the start")
	c.printf("</svg>\n")
	if c.err != nil {
		return c.err
	}
	return bw.Flush()
}

type legendItem struct{ colour, name string }

// svgCanvas writes SVG elements, keeping the first write error.
type svgCanvas struct {
	w   io.Writer
	err error
}

func (c *svgCanvas) printf(format string, a ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, a...)
	}
}

// text writes escaped text.
func (c *svgCanvas) text(x, y float64, anchor, weight, s string) {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	attrs := ""
	if weight != "" {
		attrs = fmt.Sprintf(` font-weight="%s"`, weight)
	}
	c.printf(`<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>`+"\n", x, y, anchor, attrs, b.String())
}

// frame draws a panel's border and title.
func (c *svgCanvas) frame(top float64, title string) {
	c.printf(`<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n",
		marginLeft, top, chartWidth-marginLeft-marginRight, panelHeight)
	c.text(marginLeft, top-8, "start", "", title)
}

// hline draws a grid line with its label on the left.
func (c *svgCanvas) hline(y float64, label string) {
	c.printf(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>`+"\n", marginLeft, y, chartWidth-marginRight, y)
	c.text(marginLeft-6, y+4, "end", "", label)
}

// polyline draws one series; points where ok is false break the line.
func (c *svgCanvas) polyline(colour string, series []Point, x func(float64) float64, y func(Point) (float64, bool)) {
	var pts []string
	flush := func() {
		if len(pts) > 0 {
			c.printf(`<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", colour, strings.Join(pts, " "))
			pts = pts[:0]
		}
	}
	for _, p := range series {
		v, ok := y(p)
		if !ok {
			flush()
			continue
		}
		// Each second is drawn at its middle.
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(p.T)+0.5), v))
	}
	flush()
}

// legend draws coloured names at a panel's top right.
func (c *svgCanvas) legend(top float64, items []legendItem) {
	xPos := float64(chartWidth - marginRight - 10)
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		width := float64(len(it.name))*7 + 24
		xPos -= width
		c.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n",
			xPos, top+14, xPos+14, top+14, it.colour)
		c.text(xPos+18, top+18, "start", "", it.name)
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// fmtTick writes an axis value compactly.
func fmtTick(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%gk", v/1e3)
	default:
		return fmt.Sprintf("%g", v)
	}
}
