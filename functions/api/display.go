package api

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/golem-lm/golem/display"
)

// DisplayBundle shows a job in a notebook cell: status, a progress bar, the note,
// and the result or error (display.Renderer).
func (j *Job) DisplayBundle() display.Bundle {
	var b strings.Builder
	pct := 100 * j.Progress
	fmt.Fprintf(&b, `<div><b>job %s</b> (%s) — <b>%s</b>, attempt %d of %d`, html.EscapeString(j.ID),
		html.EscapeString(j.Function), html.EscapeString(j.Status), j.Attempts, j.MaxAttempts)
	fmt.Fprintf(&b, `<div style="background:#eee;width:20em;height:0.8em"><div style="background:#4a8;width:%.0f%%;height:100%%"></div></div>`, pct)
	if j.Note != "" {
		fmt.Fprintf(&b, "<div><i>%s</i></div>", html.EscapeString(j.Note))
	}
	text := fmt.Sprintf("job %s (%s): %s, %.0f%%, attempt %d of %d", j.ID, j.Function, j.Status, pct, j.Attempts, j.MaxAttempts)
	if j.Note != "" {
		text += "\n" + j.Note
	}
	switch {
	case j.Error != "":
		fmt.Fprintf(&b, `<pre style="color:#b00">%s: %s</pre>`, html.EscapeString(j.ErrorKind), html.EscapeString(j.Error))
		text += "\n" + j.ErrorKind + ": " + j.Error
	case len(j.Result) > 0:
		res := string(j.Result)
		var v any
		if json.Unmarshal(j.Result, &v) == nil {
			if pretty, err := json.MarshalIndent(v, "", "  "); err == nil {
				res = string(pretty)
			}
		}
		if len(res) > 4000 {
			res = res[:4000] + "\n…"
		}
		fmt.Fprintf(&b, "<pre>%s</pre>", html.EscapeString(res))
		text += "\n" + res
	}
	b.WriteString("</div>")
	return display.Bundle{"text/html": b.String(), "text/plain": text}
}
