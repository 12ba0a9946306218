package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/golem-lm/golem/internal/assets"
)

// Safety: a word list, the toxicity rate of generated text against it, and a
// generation filter that never emits a listed word.
//
// The shipped list is the "List of Dirty, Naughty, Obscene, and Otherwise Bad
// Words" (LDNOOBW, CC-BY-4.0) from the npm package naughty-words 1.2.0 (installed
// by `make assets`), the list C4 used to drop pages; users can pass their own.
// A word (or phrase) matches case-insensitively as a whole word: the characters
// around it are not letters, digits or "_". Languages written without spaces
// (Chinese, Japanese, Thai) have no such boundaries, so their lists only match
// words standing alone.

// NaughtyWordsNPM is the npm package whose lists LDNOOBW loads.
const NaughtyWordsNPM = "naughty-words@1.2.0"

// WordList is a list of words and phrases matched case-insensitively as whole
// words. Build one with NewWordList, ReadWordList or LDNOOBW.
type WordList struct {
	Name  string
	words []string // lower-cased, unique
	ac    *ahoCorasick
	// The generation filter's tables per tokenizer, kept with the list so that
	// generations with the same list and tokenizer share them.
	mu     sync.Mutex
	tables map[tablesKey]*filterTables
}

// NewWordList makes a list from words (lower-cased; surrounding whitespace
// removed). An empty word, or no words, is an error.
func NewWordList(name string, words []string) (*WordList, error) {
	w := &WordList{Name: name}
	seen := map[string]bool{}
	for i, word := range words {
		word = foldLower(strings.TrimSpace(word))
		if word == "" {
			return nil, fmt.Errorf("word list %s: entry %d is empty", name, i+1)
		}
		if !utf8.ValidString(word) {
			return nil, fmt.Errorf("word list %s: entry %d is not valid UTF-8", name, i+1)
		}
		if !seen[word] {
			seen[word] = true
			w.words = append(w.words, word)
		}
	}
	if len(w.words) == 0 {
		return nil, fmt.Errorf("word list %s has no words", name)
	}
	w.ac = newAhoCorasick(w.words)
	return w, nil
}

// ReadWordList reads a word list: a JSON array of strings (as naughty-words
// ships them) or plain text with one word or phrase per line (blank lines and
// lines starting with # skipped).
func ReadWordList(path string) (*WordList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("word list: %w", err)
	}
	var words []string
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &words); err != nil {
			return nil, fmt.Errorf("word list %s: not a JSON array of strings: %v", path, err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" && !strings.HasPrefix(line, "#") {
				words = append(words, line)
			}
		}
	}
	return NewWordList(filepath.Base(path), words)
}

// LDNOOBW loads the shipped list of a language ("en", "de", "fr", …) from the
// npm package naughty-words (`make assets` installs it).
func LDNOOBW(lang string) (*WordList, error) {
	dir, err := assets.NPMDir("naughty-words")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lang+".json")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("word list: naughty-words has no list for language %q (%s)", lang, path)
	}
	w, err := ReadWordList(path)
	if err != nil {
		return nil, err
	}
	w.Name = "ldnoobw-" + lang
	return w, nil
}

// LoadWordList reads a word list by name: "ldnoobw:LANG" for a shipped list,
// anything else is a file (see ReadWordList).
func LoadWordList(spec string) (*WordList, error) {
	if lang, ok := strings.CutPrefix(spec, "ldnoobw:"); ok {
		return LDNOOBW(lang)
	}
	return ReadWordList(spec)
}

// Len is the number of words in the list.
func (w *WordList) Len() int { return len(w.words) }

// Words returns the lower-cased words.
func (w *WordList) Words() []string { return append([]string(nil), w.words...) }

// foldLower lower-cases one character at a time (so a text's lower case is the
// concatenation of its pieces' lower cases, which generation relies on).
func foldLower(s string) string { return strings.Map(unicode.ToLower, s) }

// Find returns the first listed word that occurs in text as a whole word.
func (w *WordList) Find(text string) (string, bool) {
	m := w.ac.matcher()
	for _, r := range text {
		if hit := m.push(r); hit >= 0 {
			return w.words[hit], true
		}
	}
	if hit := m.end(); hit >= 0 {
		return w.words[hit], true
	}
	return "", false
}

// ToxicityRate is the fraction of texts that contain a listed word.
func ToxicityRate(texts []string, w *WordList) float64 {
	if len(texts) == 0 {
		return 0
	}
	n := 0
	for _, t := range texts {
		if _, ok := w.Find(t); ok {
			n++
		}
	}
	return float64(n) / float64(len(texts))
}

// ahoCorasick matches many words at once over a stream of lower-cased
// characters in which a boundary symbol precedes every character that follows
// a non-word character (or starts the text): a listed word is the boundary
// symbol then its characters, and it counts once the next character is not a
// word character (or the text ends).
type ahoCorasick struct {
	next  map[uint64]int32 // state<<32 | rune → state (the trie)
	fail  []int32
	out   []int32      // index of a word ending at this state (through fail links), or -1
	dense [][129]int32 // full transitions for ASCII and (at 128) the boundary symbol
}

const acBoundary rune = -1

func acKey(s int32, r rune) uint64 { return uint64(uint32(s))<<32 | uint64(uint32(r)) }

func newAhoCorasick(words []string) *ahoCorasick {
	a := &ahoCorasick{next: map[uint64]int32{}, fail: []int32{0}, out: []int32{-1}}
	for i, w := range words {
		s := int32(0)
		for _, r := range withBoundaries(w) {
			t, ok := a.next[acKey(s, r)]
			if !ok {
				t = int32(len(a.fail))
				a.fail = append(a.fail, 0)
				a.out = append(a.out, -1)
				a.next[acKey(s, r)] = t
			}
			s = t
		}
		if a.out[s] < 0 {
			a.out[s] = int32(i)
		}
	}
	// Breadth-first fail links.
	children := map[int32][]struct {
		r rune
		t int32
	}{}
	for k, t := range a.next {
		s, r := int32(k>>32), rune(int32(uint32(k)))
		children[s] = append(children[s], struct {
			r rune
			t int32
		}{r, t})
	}
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, c := range children[s] {
			if s != 0 {
				f := a.fail[s]
				for {
					if t, ok := a.next[acKey(f, c.r)]; ok {
						a.fail[c.t] = t
						break
					}
					if f == 0 {
						break
					}
					f = a.fail[f]
				}
			}
			if a.out[c.t] < 0 {
				a.out[c.t] = a.out[a.fail[c.t]]
			}
			queue = append(queue, c.t)
		}
	}
	// Resolve the fail links of the ASCII transitions into a dense table, in
	// breadth-first order so that a state's fail state is done before it.
	a.dense = make([][129]int32, len(a.fail))
	order := []int32{0}
	for k := 0; k < len(order); k++ {
		s := order[k]
		for c := 0; c < 129; c++ {
			r := rune(c)
			if c == 128 {
				r = acBoundary
			}
			if t, ok := a.next[acKey(s, r)]; ok {
				a.dense[s][c] = t
			} else if s != 0 {
				a.dense[s][c] = a.dense[a.fail[s]][c]
			}
		}
		for _, c := range children[s] {
			order = append(order, c.t)
		}
	}
	return a
}

// withBoundaries is a word's characters, lower-cased, with the boundary symbol
// before the first one and before every one that follows a non-word character.
func withBoundaries(w string) []rune {
	var out []rune
	after := true
	for _, r := range w {
		if after {
			out = append(out, acBoundary)
		}
		out = append(out, unicode.ToLower(r))
		after = !pyWordChar(r)
	}
	return out
}

func (a *ahoCorasick) step(s int32, r rune) int32 {
	if r >= 0 && r < 128 {
		return a.dense[s][r]
	}
	if r == acBoundary {
		return a.dense[s][128]
	}
	for {
		if t, ok := a.next[acKey(s, r)]; ok {
			return t
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

// acMatcher is the matching state after a text: the automaton's state and
// whether the last character was a non-word character.
type acMatcher struct {
	a            *ahoCorasick
	state        int32
	afterNonWord bool
}

func (a *ahoCorasick) matcher() acMatcher { return acMatcher{a: a, afterNonWord: true} }

// push feeds one character; it returns the index of a listed word that this
// character completes as a whole word (it ended just before and r is not a
// word character), or -1.
func (m *acMatcher) push(r rune) int32 {
	hit := int32(-1)
	if !pyWordChar(r) {
		hit = m.a.out[m.state]
	}
	if m.afterNonWord {
		m.state = m.a.step(m.state, acBoundary)
	}
	m.state = m.a.step(m.state, unicode.ToLower(r))
	m.afterNonWord = !pyWordChar(r)
	return hit
}

// end returns the listed word the text ends with, or -1.
func (m *acMatcher) end() int32 { return m.a.out[m.state] }

// wordFilter keeps generation from emitting a listed word: before each token is
// chosen it bans every token that would complete a listed word (the word ends
// in the generated text and the token adds the non-word character after it),
// the end of text right after a listed word, and at the last allowed token any
// token that would end the text on one. A word completed by the prompt alone
// is the prompt's.
type wordFilter struct {
	*filterTables
	// The state after the text so far.
	m       acMatcher
	fresh   bool   // nothing generated yet
	pending []byte // an incomplete UTF-8 sequence at the end of the text
}

// filterTables are what a word filter knows of a list and a vocabulary: each
// token's text, and the tokens banned from each matching state seen so far. They
// are shared by the generations with the same list and tokenizer.
type filterTables struct {
	ac       *ahoCorasick
	tokRunes [][]rune // each token's characters; nil when its bytes are not valid UTF-8 alone
	tokBytes [][]byte
	eot      int
	mu       sync.Mutex
	banned   map[filterKey][]int32
}

type filterKey struct {
	state               int32
	afterNonWord, fresh bool
	last                bool
}

type tablesKey struct {
	tok   any
	vocab int
}

func newWordFilter(w *WordList, tok Tokenizer, vocab int) *wordFilter {
	key := tablesKey{tok, vocab}
	cacheable := reflect.TypeOf(tok).Comparable()
	if cacheable {
		w.mu.Lock()
		t, ok := w.tables[key]
		w.mu.Unlock()
		if ok {
			return &wordFilter{filterTables: t}
		}
	}
	t := &filterTables{ac: w.ac, tokRunes: make([][]rune, vocab), tokBytes: make([][]byte, vocab), eot: tok.EOT(),
		banned: map[filterKey][]int32{}}
	for id := 0; id < vocab; id++ {
		if id == t.eot {
			continue
		}
		s := tok.DecodeText([]int{id})
		t.tokBytes[id] = []byte(s)
		if utf8.ValidString(s) {
			t.tokRunes[id] = []rune(s)
		}
	}
	if cacheable {
		w.mu.Lock()
		if w.tables == nil {
			w.tables = map[tablesKey]*filterTables{}
		}
		w.tables[key] = t
		w.mu.Unlock()
	}
	return &wordFilter{filterTables: t}
}

// start sets the state after the prompt's text.
func (f *wordFilter) start(prompt string) {
	f.m, f.fresh, f.pending = f.ac.matcher(), true, nil
	b := []byte(prompt)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 && !utf8.FullRune(b) {
			f.pending = append([]byte(nil), b...)
			break
		}
		f.m.push(r)
		b = b[n:]
	}
}

// try runs token id from the current state; it reports whether that completes a
// listed word in the generated text, and the state after it.
func (f *wordFilter) try(id int) (m acMatcher, fresh bool, pending []byte, hit bool) {
	m, fresh = f.m, f.fresh
	push := func(r rune) {
		if m.push(r) >= 0 && !fresh {
			hit = true
		}
		fresh = false
	}
	if rs := f.tokRunes[id]; rs != nil && len(f.pending) == 0 {
		for _, r := range rs {
			push(r)
		}
		return m, fresh, nil, hit
	}
	b := append(append([]byte(nil), f.pending...), f.tokBytes[id]...)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 && !utf8.FullRune(b) {
			return m, fresh, b, hit
		}
		push(r)
		b = b[n:]
	}
	return m, fresh, nil, hit
}

// ban sets the logits of the banned tokens to -Inf; last says this token is the
// last the generation may add. It returns an error when every token is banned.
func (f *wordFilter) ban(logits []float32, last bool) error {
	negInf := float32(math.Inf(-1))
	if len(f.pending) == 0 {
		// The banned tokens depend only on the matching state: remember them.
		k := filterKey{f.m.state, f.m.afterNonWord, f.fresh, last}
		f.mu.Lock()
		ids, ok := f.banned[k]
		f.mu.Unlock()
		if !ok {
			ids = f.scan(last)
			f.mu.Lock()
			f.banned[k] = ids
			f.mu.Unlock()
		}
		for _, id := range ids {
			if int(id) < len(logits) {
				logits[id] = negInf
			}
		}
		if len(ids) >= len(logits) {
			return fmt.Errorf("generate: every token would complete a listed word")
		}
		return nil
	}
	for _, id := range f.scan(last) {
		if int(id) < len(logits) {
			logits[id] = negInf
		}
	}
	return nil
}

// scan lists the tokens banned from the current state.
func (f *wordFilter) scan(last bool) []int32 {
	var out []int32
	for id := 0; id < len(f.tokBytes); id++ {
		var bad bool
		if id == f.eot {
			bad = !f.fresh && f.m.end() >= 0
		} else {
			m, fresh, _, hit := f.try(id)
			bad = hit || last && !fresh && m.end() >= 0
		}
		if bad {
			out = append(out, int32(id))
		}
	}
	return out
}

// accept moves the state past the chosen token.
func (f *wordFilter) accept(id int) {
	if id == f.eot || id < 0 || id >= len(f.tokBytes) {
		return
	}
	f.m, f.fresh, f.pending, _ = f.try(id)
}

// endsOnWord reports whether prompt+generated, with generated not empty, ends on
// a listed word (the end of the text is a word boundary).
func (f *wordFilter) endsOnWord(prompt, generated string) bool {
	if generated == "" {
		return false
	}
	m := f.ac.matcher()
	for _, r := range prompt + generated {
		m.push(r)
	}
	return m.end() >= 0
}
