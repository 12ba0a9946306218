//go:build golemprelude

package prelude

// A cell's result: the session compiles, for a trailing expression, a function
// that calls _golemShow on each value (result.go in package cell).

import (
	"github.com/golem-lm/golem/display"

	_golemrt "github.com/golem-lm/golem/cell/prelude/golemrt"
)

func _golemOne(any) {}

type _golemRenderer interface{ DisplayBundle() display.Bundle }
type _golemHTMLer interface{ HTML() string }
type _golemMarkdowner interface{ Markdown() string }
type _golemSVGer interface{ SVG() string }
type _golemStringer interface{ String() string }

// _golemShow returns the display bundle of a cell's result; text is its %v form
// computed by the caller from a typed variable (yaegi hands compiled code a
// wrapper, not the value, for an interpreted value with methods held in an
// interface). The odd shape works around yaegi v0.16.1: a comma-ok
// assertion that binds the value panics, and a type switch with several interface
// cases picks the wrong one; a blank comma-ok test followed by a one-case type
// switch is right.
func _golemShow(v any, text string) display.Bundle {
	if v == nil { // a nil interface (err after a call that succeeded): Go's %v
		if text == "" {
			text = "<nil>"
		}
		return display.Bundle{"text/plain": text}
	}
	b := _golemRich0(v)
	if b == nil {
		b = _golemrt.Rich(v) // compiled types: lmlib results, display.Bundle, tables
	}
	if b == nil {
		b = display.Bundle{}
	}
	if _, ok := b["text/plain"]; ok {
		return b
	}
	if _, ok := v.(error); ok {
		switch r := v.(type) {
		case error:
			b["text/plain"] = r.Error()
			return b
		}
	}
	if _, ok := v.(_golemStringer); ok {
		switch r := v.(type) {
		case _golemStringer:
			b["text/plain"] = r.String()
			return b
		}
	}
	if text == "" {
		text = _golemrt.Format(v)
	}
	b["text/plain"] = text
	return b
}

func _golemRich0(v any) display.Bundle {
	if _, ok := v.(_golemRenderer); ok {
		switch r := v.(type) {
		case _golemRenderer:
			return r.DisplayBundle()
		}
	}
	if _, ok := v.(_golemHTMLer); ok {
		switch r := v.(type) {
		case _golemHTMLer:
			return display.Bundle{"text/html": r.HTML()}
		}
	}
	if _, ok := v.(_golemMarkdowner); ok {
		switch r := v.(type) {
		case _golemMarkdowner:
			return display.Bundle{"text/markdown": r.Markdown()}
		}
	}
	if _, ok := v.(_golemSVGer); ok {
		switch r := v.(type) {
		case _golemSVGer:
			return display.Bundle{"image/svg+xml": r.SVG()}
		}
	}
	return nil
}
