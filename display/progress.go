package display

import (
	"fmt"
	"html"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Progress is a progress bar that updates in place in a notebook and prints
// occasional lines on a terminal. It is safe for concurrent use.
type Progress struct {
	mu     sync.Mutex
	h      *Handle
	label  string
	total  int64 // 0: unknown
	done   int64
	start  time.Time
	last   time.Time
	every  time.Duration
	status string
}

// NewProgress starts a progress display for total units (0 if unknown).
func NewProgress(label string, total int64) *Progress {
	p := &Progress{h: NewHandle(), label: label, total: total, start: time.Now(), every: 200 * time.Millisecond}
	if !Active() {
		p.every = 5 * time.Second
	}
	return p
}

// Add advances the bar by n units and sets a short status text (may be empty).
func (p *Progress) Add(n int64, status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if status != "" {
		p.status = status
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.render()
	}
}

// Done shows the final state.
func (p *Progress) Done(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status != "" {
		p.status = status
	}
	p.render()
}

func (p *Progress) render() {
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	frac := 0.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
		if frac > 1 {
			frac = 1
		}
	}
	text := fmt.Sprintf("%s: %d", p.label, p.done)
	if p.total > 0 {
		text += fmt.Sprintf("/%d (%.0f%%)", p.total, 100*frac)
	}
	text += fmt.Sprintf(" %.1f/s %.1fs", rate, el)
	if p.status != "" {
		text += " " + p.status
	}
	if !Active() {
		publish(Bundle{"text/plain": text}, "", false)
		return
	}
	bar := ""
	if p.total > 0 {
		bar = fmt.Sprintf(`<progress value="%d" max="%d" style="width:40%%"></progress> `, p.done, p.total)
	}
	p.h.Update(Bundle{
		"text/html":  fmt.Sprintf(`<div style="font-family:monospace">%s%s</div>`, bar, html.EscapeString(text)),
		"text/plain": text,
	})
}

// Table renders rows as an HTML table (and aligned text) bundle; header may be nil.
func Table(header []string, rows [][]string) Bundle {
	var h, t strings.Builder
	h.WriteString("<table>")
	width := make([]int, len(header))
	grow := func(r []string) {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			if n := utf8.RuneCountInString(c); n > width[i] {
				width[i] = n
			}
		}
	}
	grow(header)
	for _, r := range rows {
		grow(r)
	}
	line := func(r []string) {
		var l strings.Builder
		for i, c := range r {
			l.WriteString(c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
		}
		t.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	if header != nil {
		h.WriteString("<thead><tr>")
		for _, c := range header {
			h.WriteString("<th>" + html.EscapeString(c) + "</th>")
		}
		h.WriteString("</tr></thead>")
		line(header)
	}
	h.WriteString("<tbody>")
	for _, r := range rows {
		h.WriteString("<tr>")
		for _, c := range r {
			h.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		h.WriteString("</tr>")
		line(r)
	}
	h.WriteString("</tbody></table>")
	return Bundle{"text/html": h.String(), "text/plain": strings.TrimRight(t.String(), "\n")}
}
