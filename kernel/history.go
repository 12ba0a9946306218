package kernel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// HistoryQuery is the content of a history_request.
type HistoryQuery struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"` // tail, range or search
	Session        int    `json:"session"`          // range: 0 = this kernel, -1 = the one before, >0 = absolute
	Start          int    `json:"start"`            // range: first line (inclusive)
	Stop           *int   `json:"stop"`             // range: last line (exclusive); nil = to the end
	N              *int   `json:"n"`                // tail/search: the last n entries
	Pattern        string `json:"pattern"`          // search: glob (* ? [..]) matched against the whole input
	Unique         bool   `json:"unique"`           // search: each input once (its latest occurrence)
}

// HistoryEntry is one executed cell.
type HistoryEntry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Input   string `json:"input"`
	Output  string `json:"output,omitempty"`
	// InputBytes and OutputBytes are the sizes of a cell or result that was
	// larger than history keeps (0: stored whole).
	InputBytes  int `json:"input_bytes,omitempty"`
	OutputBytes int `json:"output_bytes,omitempty"`
}

// historyLimit is how many entries the history file keeps (older ones are dropped at start).
const historyLimit = 10000

// Sizes history keeps of one cell: a longer input or output is cut (on a UTF-8
// boundary) and ends with a note saying so. A line of the file longer than
// maxHistoryLine (which no entry written by this kernel reaches) is skipped when
// the file is read, as is a line that is not a JSON entry.
const (
	maxHistoryInput  = 1 << 20
	maxHistoryOutput = 64 << 10
	maxHistoryLine   = 8 << 20
)

// history is the cells executed by this and earlier kernels, in memory and appended
// to a JSONL file (one entry per line), so no database is needed.
type history struct {
	mu      sync.Mutex
	entries []HistoryEntry
	session int
	line    int
	f       *os.File // nil: memory only
	path    string   // the file ("" when in memory only)
	skipped int      // lines of the file that were not entries (too long, not JSON)
}

// DefaultHistoryPath is <Jupyter data dir>/golem/history.jsonl. The data dir is
// $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter
// (~/Library/Jupyter on macOS, %APPDATA%\jupyter on Windows), as jupyter_core does.
func DefaultHistoryPath() (string, error) {
	dir, err := JupyterDataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "golem", "history.jsonl"), nil
}

// JupyterDataDir is the user's Jupyter data directory, as jupyter_core computes it.
func JupyterDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	switch runtime.GOOS {
	case "darwin":
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Jupyter"), nil
	case "windows":
		if a := os.Getenv("APPDATA"); a != "" {
			return filepath.Join(a, "jupyter"), nil
		}
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "jupyter"), nil
	}
	if err != nil {
		return "", fmt.Errorf("no home directory for the Jupyter data dir: %w", err)
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// openHistory loads path ("" = DefaultHistoryPath, "-" = memory only) and starts a
// new session numbered one past the highest one in the file.
func openHistory(path string) (*history, error) {
	h := &history{session: 1}
	if path == "-" {
		return h, nil
	}
	if path == "" {
		p, err := DefaultHistoryPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("history dir: %w", err)
	}
	entries, skipped, err := readHistory(path)
	if err != nil {
		return nil, err
	}
	h.path, h.skipped = path, skipped
	if len(entries) > historyLimit {
		entries = entries[len(entries)-historyLimit:]
		if err := writeHistory(path, entries); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if e.Session >= h.session {
			h.session = e.Session + 1
		}
	}
	h.entries = entries
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if rf, err := os.Open(path); err == nil {
			if _, err := rf.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				f.Write([]byte("\n")) // end a torn last line so the next entry starts clean
			}
			rf.Close()
		}
	}
	h.f = f
	return h, nil
}

// readHistory reads a JSONL history file. A line that is not an entry — a torn
// last line after a crash, a line longer than maxHistoryLine, anything else that
// does not parse — is skipped and counted; the entries around it are kept.
func readHistory(path string) (entries []HistoryEntry, skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open history %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read history %s: %w", path, err)
		}
		line = append(line, chunk...)
		if isPrefix {
			if len(line) <= maxHistoryLine {
				continue
			}
			for isPrefix && err == nil { // too long: skip to the end of the line
				_, isPrefix, err = r.ReadLine()
			}
			line, skipped = line[:0], skipped+1
			continue
		}
		var e HistoryEntry
		if json.Unmarshal(line, &e) == nil && e.Session > 0 {
			entries = append(entries, e)
		} else if len(bytes.TrimSpace(line)) > 0 {
			skipped++
		}
		line = line[:0]
		if cap(line) > 1<<20 {
			line = nil // do not keep a large buffer for the short lines that follow
		}
	}
	return entries, skipped, nil
}

// writeHistory replaces the file atomically (temp file + rename).
func writeHistory(path string, entries []HistoryEntry) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".history-*.jsonl")
	if err != nil {
		return fmt.Errorf("rewrite history %s: %w", path, err)
	}
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("rewrite history %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rewrite history %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rewrite history %s: %w", path, err)
	}
	return nil
}

// add records one executed cell as the next line of this session; an input or
// output larger than history keeps is cut, with a note (see newEntry).
func (h *history) add(input, output string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.line++
	e := newEntry(h.session, h.line, input, output)
	h.entries = append(h.entries, e)
	if len(h.entries) > 2*historyLimit { // bound memory in a long session
		h.entries = append([]HistoryEntry(nil), h.entries[len(h.entries)-historyLimit:]...)
	}
	if h.f != nil {
		b, _ := json.Marshal(e)
		h.f.Write(append(b, '\n')) // one write per entry: lines never interleave
	}
}

// newEntry is the history entry of one cell: an input over maxHistoryInput or an
// output over maxHistoryOutput bytes keeps its beginning and ends with a line
// saying how large it was, and InputBytes/OutputBytes record the whole size.
func newEntry(session, line int, input, output string) HistoryEntry {
	e := HistoryEntry{Session: session, Line: line, Input: input, Output: output}
	if len(input) > maxHistoryInput {
		e.Input = truncateUTF8(input, maxHistoryInput) +
			fmt.Sprintf("\n// golem: history keeps the first %d of this cell's %d bytes", maxHistoryInput, len(input))
		e.InputBytes = len(input)
	}
	if len(output) > maxHistoryOutput {
		e.Output = truncateUTF8(output, maxHistoryOutput) +
			fmt.Sprintf("\n[golem: history keeps the first %d of this result's %d bytes]", maxHistoryOutput, len(output))
		e.OutputBytes = len(output)
	}
	return e
}

// truncateUTF8 is the longest prefix of s of at most n bytes that does not end
// inside a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := 1; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n]
}

// resume makes this kernel continue session (that of a kernel that died and
// that this one replaces) after its last line, instead of starting a new one.
func (h *history) resume(session int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if session <= 0 {
		return
	}
	h.session, h.line = session, 0
	for _, e := range h.entries {
		if e.Session == session && e.Line > h.line {
			h.line = e.Line
		}
	}
}

func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}

// query answers a history_request.
func (h *history) query(q HistoryQuery) ([]HistoryEntry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	last := func(es []HistoryEntry, n *int) []HistoryEntry {
		if n != nil && *n >= 0 && *n < len(es) {
			return es[len(es)-*n:]
		}
		return es
	}
	switch q.HistAccessType {
	case "tail":
		return append([]HistoryEntry(nil), last(h.entries, q.N)...), nil
	case "range":
		session := q.Session
		if session <= 0 {
			session = h.session + session
		}
		var out []HistoryEntry
		for _, e := range h.entries {
			if e.Session == session && e.Line >= q.Start && (q.Stop == nil || e.Line < *q.Stop) {
				out = append(out, e)
			}
		}
		return out, nil
	case "search":
		re, err := globRegexp(q.Pattern)
		if err != nil {
			return nil, err
		}
		var out []HistoryEntry
		seen := map[string]bool{}
		for i := len(h.entries) - 1; i >= 0; i-- { // newest first, so unique keeps the latest
			e := h.entries[i]
			if !re.MatchString(e.Input) || (q.Unique && seen[e.Input]) {
				continue
			}
			seen[e.Input] = true
			out = append(out, e)
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return last(out, q.N), nil
	default:
		return nil, fmt.Errorf("hist_access_type %q: want tail, range or search", q.HistAccessType)
	}
}

// globRegexp compiles a glob pattern (as sqlite GLOB, which IPython uses: * any
// text, ? one character, [...] a class; case-sensitive) into an anchored regexp.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		pattern = "*"
	}
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '^' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(regexp.QuoteMeta(string(r)))
				continue
			}
			class := string(rs[i+1 : j])
			if strings.HasPrefix(class, "^") {
				class = "^" + strings.ReplaceAll(class[1:], `\`, `\\`)
			} else {
				class = strings.ReplaceAll(class, `\`, `\\`)
			}
			b.WriteString("[" + class + "]")
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("history pattern %q: %w", pattern, err)
	}
	return re, nil
}

// historyRows is the wire form: [session, line, input] or [session, line, [input, output]].
func historyRows(es []HistoryEntry, output bool) [][]any {
	rows := make([][]any, 0, len(es))
	for _, e := range es {
		if output {
			var out any
			if e.Output != "" {
				out = e.Output
			}
			rows = append(rows, []any{e.Session, e.Line, []any{e.Input, out}})
		} else {
			rows = append(rows, []any{e.Session, e.Line, e.Input})
		}
	}
	return rows
}
