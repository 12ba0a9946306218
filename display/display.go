// Package display shows rich output in a notebook cell: HTML, Markdown, SVG, images,
// JSON, Vega-Lite charts and plain text, plus handles that update an output in place
// (progress bars, live loss charts) and ClearOutput. Comm (comm.go) carries Jupyter
// comms between the kernel and the front end; package display/widgets builds
// ipywidgets on it.
//
// It is imported implicitly in every golem kernel cell and is used by lmlib for live
// progress and, through Context and Call, to stop long calls when the user interrupts
// the cell. Outside a kernel (command line, tests, the function host) nothing is
// published to a notebook: each call writes its text/plain form to standard output,
// so the same code runs everywhere.
package display

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Bundle is a MIME bundle: MIME type to data. Text formats hold strings, JSON
// formats (application/json, application/vnd.vegalite.v5+json) hold any JSON value.
type Bundle map[string]any

// Renderer is implemented by values that know how to display themselves. When the
// trailing expression of a cell is a Renderer, its bundle becomes the execute_result.
type Renderer interface {
	DisplayBundle() Bundle
}

// Publisher sends display messages to the notebook; the kernel installs one.
type Publisher interface {
	// Display publishes display_data, or update_display_data when update is true.
	// displayID is empty for an output that is never updated.
	Display(data Bundle, metadata map[string]any, displayID string, update bool)
	// ClearOutput clears the cell's output; with wait, at the next output.
	ClearOutput(wait bool)
}

var (
	pubMu sync.RWMutex
	pub   Publisher
	// fallback is where outputs go when no Publisher is installed (nil: os.Stdout at call time).
	fallback io.Writer
)

// SetPublisher installs p (nil removes it) and returns the previous one.
func SetPublisher(p Publisher) Publisher {
	pubMu.Lock()
	defer pubMu.Unlock()
	old := pub
	pub = p
	return old
}

// Active reports whether a notebook publisher is installed (running in a kernel).
func Active() bool {
	pubMu.RLock()
	defer pubMu.RUnlock()
	return pub != nil
}

func publish(b Bundle, id string, update bool) {
	pubMu.RLock()
	p := pub
	pubMu.RUnlock()
	if p != nil {
		p.Display(b, nil, id, update)
		return
	}
	if t, ok := b["text/plain"].(string); ok {
		w := fallback
		if w == nil {
			w = os.Stdout
		}
		fmt.Fprintln(w, t)
	}
}

// Show publishes a bundle; a text/plain entry is added when missing.
func Show(b Bundle) { publish(withText(b), "", false) }

// Value displays v as BundleOf shows it: its own bundle, a table, or its %v text.
func Value(v any) { Show(BundleOf(v)) }

// BundleOf returns the display bundle of v: its own (Rich: a Renderer, a Bundle,
// an HTML/Markdown/SVG method, a table of a slice of structs or maps), or else
// its %v text.
func BundleOf(v any) Bundle {
	if b, ok := Rich(v); ok {
		return b
	}
	return Bundle{"text/plain": fmt.Sprintf("%v", v)}
}

// HTML shows an HTML fragment.
func HTML(s string) { Show(HTMLBundle(s)) }

// Markdown shows Markdown text.
func Markdown(s string) { Show(Bundle{"text/markdown": s, "text/plain": s}) }

// SVG shows an SVG image given as XML text.
func SVG(s string) { Show(Bundle{"image/svg+xml": s, "text/plain": "<SVG image>"}) }

// PNG shows a PNG image from its encoded bytes.
func PNG(b []byte) { Show(imageBundle("image/png", b)) }

// JPEG shows a JPEG image from its encoded bytes.
func JPEG(b []byte) { Show(imageBundle("image/jpeg", b)) }

// JSON shows v as an interactive JSON tree (v must marshal to JSON).
func JSON(v any) { Show(Bundle{"application/json": v, "text/plain": fmt.Sprintf("%v", v)}) }

// VegaLite shows a Vega-Lite (v5) chart from its specification.
func VegaLite(spec any) { Show(VegaLiteBundle(spec)) }

// Text shows plain text.
func Text(s string) { Show(Bundle{"text/plain": s}) }

// ClearOutput clears the current cell's output (wait: at the next output, to avoid flicker).
func ClearOutput() { clearOutput(false) }

func clearOutput(wait bool) {
	pubMu.RLock()
	p := pub
	pubMu.RUnlock()
	if p != nil {
		p.ClearOutput(wait)
	}
}

// HTMLBundle is the bundle of an HTML fragment, with tags stripped for text/plain.
func HTMLBundle(s string) Bundle { return Bundle{"text/html": s, "text/plain": stripTags(s)} }

// VegaLiteBundle is the bundle of a Vega-Lite v5 chart.
func VegaLiteBundle(spec any) Bundle {
	return Bundle{"application/vnd.vegalite.v5+json": spec, "text/plain": "<VegaLite chart>"}
}

func imageBundle(mime string, b []byte) Bundle {
	return Bundle{mime: base64.StdEncoding.EncodeToString(b), "text/plain": fmt.Sprintf("<%s image, %d bytes>", mime, len(b))}
}

func withText(b Bundle) Bundle {
	if _, ok := b["text/plain"]; ok {
		return b
	}
	out := make(Bundle, len(b)+1)
	for k, v := range b {
		out[k] = v
	}
	if h, ok := b["text/html"].(string); ok {
		out["text/plain"] = stripTags(h)
	} else {
		out["text/plain"] = "<display>"
	}
	return out
}

// stripTags is a small readable text form of an HTML fragment for text/plain.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

var handleSeq atomic.Uint64

// Handle is one output that can be replaced in place (update_display_data).
// The first Update displays it; later ones replace it.
type Handle struct {
	ID    string
	shown atomic.Bool
}

// NewHandle returns a handle with a fresh display_id.
func NewHandle() *Handle {
	return &Handle{ID: fmt.Sprintf("golem-%d-%d", os.Getpid(), handleSeq.Add(1))}
}

// Update shows b, replacing what the handle showed before.
func (h *Handle) Update(b Bundle) {
	publish(withText(b), h.ID, h.shown.Swap(true))
}

// HTML replaces the handle's output with an HTML fragment.
func (h *Handle) HTML(s string) { h.Update(HTMLBundle(s)) }

// Text replaces the handle's output with plain text.
func (h *Handle) Text(s string) { h.Update(Bundle{"text/plain": s}) }

// VegaLite replaces the handle's output with a chart.
func (h *Handle) VegaLite(spec any) { h.Update(VegaLiteBundle(spec)) }
