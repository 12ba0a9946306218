package display

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// maxRows is how many rows a table made from a slice shows (SetMaxRows).
var maxRows atomic.Int64

func init() { maxRows.Store(50) }

// SetMaxRows sets how many rows a table made from a slice shows (TableOf, Rich,
// and a notebook cell whose result is a slice of structs or maps), 50 at first,
// and returns the previous setting. A longer slice shows its first and last n/2
// rows around a "…" row and says how many rows it has, as a dataframe does.
// Zero or less shows every row.
func SetMaxRows(n int) (previous int) { return int(maxRows.Swap(int64(n))) }

// maxCell is the longest cell text a table shows, in characters; longer values
// end in "…".
const maxCell = 120

// Rich returns the bundle v shows itself as, when it has one: the DisplayBundle of
// a Renderer, a Bundle itself, the output of an HTML(), Markdown() or SVG() string
// method, or the table of a slice of structs or maps (TableOf). Every bundle it
// returns has a text/plain entry. ok is false for any other value (and for a
// method that panics, such as one called on a nil pointer): such values show as
// their %v text.
func Rich(v any) (b Bundle, ok bool) {
	defer func() {
		if recover() != nil {
			b, ok = nil, false
		}
	}()
	switch x := v.(type) {
	case nil:
		return nil, false
	case Renderer:
		return withText(x.DisplayBundle()), true
	case Bundle:
		return withText(x), true
	case interface{ HTML() string }:
		return HTMLBundle(x.HTML()), true
	case interface{ Markdown() string }:
		s := x.Markdown()
		return Bundle{"text/markdown": s, "text/plain": s}, true
	case interface{ SVG() string }:
		return Bundle{"image/svg+xml": x.SVG(), "text/plain": "<SVG image>"}, true
	}
	return TableOf(v)
}

// TableOf returns the table of v when v is a slice or an array (or a pointer to
// one) whose elements are structs, maps or pointers to them, or a []any holding
// such values: one row per element under an index column, one column per field
// (exported fields; every field of a struct type declared in a notebook cell) or
// per map key (sorted). Floats show 6 significant digits, long values are cut
// at 120 characters, and at most SetMaxRows rows are shown. The bundle holds
// text/html and an aligned text/plain form. ok is false for other values and for
// empty slices.
func TableOf(v any) (b Bundle, ok bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array || rv.Len() == 0 {
		return nil, false
	}
	elems := make([]reflect.Value, rv.Len())
	var rowType reflect.Type // the struct type of every row, or nil for maps
	isMap := false
	for i := range elems {
		e := rv.Index(i)
		for e.Kind() == reflect.Interface || e.Kind() == reflect.Pointer {
			if e.IsNil() {
				break
			}
			e = e.Elem()
		}
		switch e.Kind() {
		case reflect.Struct:
			if isMap || rowType != nil && e.Type() != rowType {
				return nil, false
			}
			rowType = e.Type()
		case reflect.Map:
			if rowType != nil {
				return nil, false
			}
			isMap = true
		case reflect.Interface, reflect.Pointer: // nil: an empty row
			e = reflect.Value{}
		default:
			return nil, false
		}
		elems[i] = e
	}
	var header []string
	var cells func(e reflect.Value) []string
	switch {
	case rowType != nil:
		var fields []int
		for i := range rowType.NumField() {
			f := rowType.Field(i)
			if f.IsExported() {
				fields = append(fields, i)
				header = append(header, fieldName(rowType, f.Name))
			}
		}
		if len(fields) == 0 {
			return nil, false
		}
		cells = func(e reflect.Value) []string {
			row := make([]string, len(fields))
			if e.IsValid() {
				for j, i := range fields {
					row[j] = cellText(e.Field(i))
				}
			}
			return row
		}
	case isMap:
		col := map[string]int{}
		keyOf := func(k reflect.Value) string { return cellText(k) }
		for _, e := range elems {
			if e.IsValid() {
				for _, k := range e.MapKeys() {
					if _, ok := col[keyOf(k)]; !ok {
						col[keyOf(k)] = 0
						header = append(header, keyOf(k))
					}
				}
			}
		}
		sort.Strings(header)
		for i, h := range header {
			col[h] = i
		}
		cells = func(e reflect.Value) []string {
			row := make([]string, len(header))
			if e.IsValid() {
				it := e.MapRange()
				for it.Next() {
					row[col[keyOf(it.Key())]] = cellText(it.Value())
				}
			}
			return row
		}
	default: // only nil elements
		return nil, false
	}
	n, limit := len(elems), int(maxRows.Load())
	shown := make([]int, 0, n)
	elided := limit > 0 && n > limit
	if elided {
		head := (limit + 1) / 2
		for i := range head {
			shown = append(shown, i)
		}
		shown = append(shown, -1)
		for i := n - (limit - head); i < n; i++ {
			shown = append(shown, i)
		}
	} else {
		for i := range n {
			shown = append(shown, i)
		}
	}
	rows := make([][]string, 0, len(shown))
	for _, i := range shown {
		if i < 0 {
			gap := make([]string, len(header)+1)
			for j := range gap {
				gap[j] = "…"
			}
			rows = append(rows, gap)
			continue
		}
		rows = append(rows, append([]string{strconv.Itoa(i)}, cells(elems[i])...))
	}
	b = Table(append([]string{""}, header...), rows)
	if elided {
		note := fmt.Sprintf("%d rows × %d columns", n, len(header))
		b["text/html"] = b["text/html"].(string) + "<p>" + note + "</p>"
		b["text/plain"] = b["text/plain"].(string) + "\n\n[" + note + "]"
	}
	return b, true
}

// fieldName is the column title of a struct field. The Go interpreter of the
// notebook (yaegi) gives the struct types declared in cells unnamed reflect types
// whose unexported fields are renamed "X"+name; those show under their own name.
func fieldName(t reflect.Type, name string) string {
	if t.Name() == "" && len(name) > 1 && name[0] == 'X' {
		if r, _ := utf8.DecodeRuneInString(name[1:]); unicode.IsLower(r) || r == '_' {
			return name[1:]
		}
	}
	return name
}

var oneLine = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", " ")

// cellText is the text of one table cell: strings as they are, floats with 6
// significant digits, anything else as %v; one line (a line break shows as ⏎), at most maxCell characters.
func cellText(v reflect.Value) (s string) {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case !v.IsValid():
		s = ""
	case v.Kind() == reflect.String:
		s = v.String()
	case v.Kind() == reflect.Float32:
		s = strconv.FormatFloat(v.Float(), 'g', 6, 32)
	case v.Kind() == reflect.Float64:
		s = strconv.FormatFloat(v.Float(), 'g', 6, 64)
	case v.CanInterface():
		s = fmt.Sprintf("%v", v.Interface())
	default:
		s = fmt.Sprintf("%v", v)
	}
	s = oneLine.Replace(s)
	if utf8.RuneCountInString(s) > maxCell {
		r := []rune(s)
		s = string(r[:maxCell-1]) + "…"
	}
	return s
}
