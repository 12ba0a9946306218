package clean

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/golem-lm/golem/lmlib/data"
)

// punctuationChars is datatrove's PUNCTUATION string (utils/text.py): ASCII and CJK
// punctuation plus the control characters U+0000–U+0008, U+000B–U+001F and
// U+007F–U+009F. A word made only of these (or of terminal punctuation) is a
// "symbol word" for the Gopher quality filter.
const punctuationChars = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"

var punctTable [128]bool

func init() {
	for _, r := range punctuationChars {
		if r < 128 {
			punctTable[r] = true
		}
	}
	for r := 0; r < 32; r++ {
		if r != '\t' && r != '\n' {
			punctTable[r] = true
		}
	}
	punctTable[127] = true
}

// isPunctuation reports membership in datatrove's PUNCTUATION_SET (PUNCTUATION ∪
// TERMINAL_PUNCTUATION).
func isPunctuation(r rune) bool {
	if r < 128 {
		return punctTable[r]
	}
	if r >= 0x80 && r <= 0x9f {
		return true
	}
	return strings.ContainsRune(punctuationChars, r) || isTerminalPunct(r)
}

// isTerminalPunct reports membership in datatrove's TERMINAL_PUNCTUATION: the Unicode
// Sentence_Terminal characters plus the Khmer signs U+17D4–U+17D6, U+17D9, U+17DA.
func isTerminalPunct(r rune) bool {
	if r < 128 {
		return r == '.' || r == '!' || r == '?'
	}
	switch r {
	case 0x17D4, 0x17D5, 0x17D6, 0x17D9, 0x17DA:
		return true
	}
	return unicode.Is(unicode.Sentence_Terminal, r)
}

// GopherQualityFilter applies the quality heuristics of Gopher (Rae et al. 2021) with
// datatrove's defaults and semantics. A zero threshold disables its check (as None
// or 0 does in datatrove). Drop reasons: gopher_short_doc, gopher_long_doc,
// gopher_below_avg_threshold, gopher_above_avg_threshold, gopher_too_many_hashes,
// gopher_too_many_ellipsis, gopher_too_many_bullets, gopher_too_many_end_ellipsis,
// gopher_below_alpha_threshold, gopher_enough_stop_words.
type GopherQualityFilter struct {
	MinDocWords           int      // fewest non-symbol words (50)
	MaxDocWords           int      // most non-symbol words (100000)
	MinAvgWordLength      float64  // mean non-symbol word length, lower bound (3)
	MaxAvgWordLength      float64  // upper bound (10)
	MaxSymbolWordRatio    float64  // "#" and "..."/"…" per word (0.1)
	MaxBulletLinesRatio   float64  // lines starting with "•" or "-" (0.9)
	MaxEllipsisLinesRatio float64  // lines ending with "..." or "…" (0.3)
	MaxNonAlphaWordsRatio float64  // least fraction of words with a letter (0.8; datatrove's name)
	MinStopWords          int      // fewest distinct stop words present (2)
	StopWords             []string // the, be, to, of, and, that, have, with
}

// NewGopherQualityFilter returns the filter with datatrove's defaults.
func NewGopherQualityFilter() *GopherQualityFilter {
	return &GopherQualityFilter{
		MinDocWords: 50, MaxDocWords: 100000, MinAvgWordLength: 3, MaxAvgWordLength: 10,
		MaxSymbolWordRatio: 0.1, MaxBulletLinesRatio: 0.9, MaxEllipsisLinesRatio: 0.3,
		MaxNonAlphaWordsRatio: 0.8, MinStopWords: 2,
		StopWords: []string{"the", "be", "to", "of", "and", "that", "have", "with"},
	}
}

// Name implements data.Step.
func (f *GopherQualityFilter) Name() string { return "gopher_quality" }

// Process implements data.Step.
func (f *GopherQualityFilter) Process(d *data.Doc) (string, error) { return f.Check(d.Text), nil }

// Check returns the drop reason for text, or "" to keep it.
func (f *GopherQualityFilter) Check(text string) string {
	words := Words(text)
	nWords := len(words)
	nNonSymbol, nonSymbolChars, nAlpha := 0, 0, 0
	for _, w := range words {
		nonSym, alpha := false, false
		for _, r := range w {
			if !nonSym && !isPunctuation(r) {
				nonSym = true
			}
			if !alpha && isPyAlpha(r) {
				alpha = true
			}
		}
		if nonSym {
			nNonSymbol++
			nonSymbolChars += runeLen(w)
		}
		if alpha {
			nAlpha++
		}
	}
	if f.MinDocWords != 0 && nNonSymbol < f.MinDocWords {
		return "gopher_short_doc"
	}
	if f.MaxDocWords != 0 && nNonSymbol > f.MaxDocWords {
		return "gopher_long_doc"
	}
	if nNonSymbol > 0 { // numpy's mean of nothing is NaN, which passes both checks
		avg := float64(nonSymbolChars) / float64(nNonSymbol)
		if f.MinAvgWordLength != 0 && avg < f.MinAvgWordLength {
			return "gopher_below_avg_threshold"
		}
		if f.MaxAvgWordLength != 0 && avg > f.MaxAvgWordLength {
			return "gopher_above_avg_threshold"
		}
	}
	if nWords == 0 {
		return "gopher_short_doc"
	}
	if f.MaxSymbolWordRatio != 0 {
		if float64(strings.Count(text, "#"))/float64(nWords) > f.MaxSymbolWordRatio {
			return "gopher_too_many_hashes"
		}
		if float64(strings.Count(text, "...")+strings.Count(text, "…"))/float64(nWords) > f.MaxSymbolWordRatio {
			return "gopher_too_many_ellipsis"
		}
	}
	lines := pySplitLines(text)
	if len(lines) > 0 {
		if f.MaxBulletLinesRatio != 0 {
			n := 0
			for _, l := range lines {
				l = pyLStrip(l)
				if strings.HasPrefix(l, "•") || strings.HasPrefix(l, "-") {
					n++
				}
			}
			if float64(n)/float64(len(lines)) > f.MaxBulletLinesRatio {
				return "gopher_too_many_bullets"
			}
		}
		if f.MaxEllipsisLinesRatio != 0 {
			n := 0
			for _, l := range lines {
				l = pyRStrip(l)
				if strings.HasSuffix(l, "...") || strings.HasSuffix(l, "…") {
					n++
				}
			}
			if float64(n)/float64(len(lines)) > f.MaxEllipsisLinesRatio {
				return "gopher_too_many_end_ellipsis"
			}
		}
	}
	if f.MaxNonAlphaWordsRatio != 0 && float64(nAlpha)/float64(nWords) < f.MaxNonAlphaWordsRatio {
		return "gopher_below_alpha_threshold"
	}
	if f.MinStopWords != 0 {
		found := 0
		for _, sw := range f.StopWords {
			for _, w := range words {
				if w == sw {
					found++
					break
				}
			}
			if found >= f.MinStopWords {
				break
			}
		}
		if found < f.MinStopWords {
			return "gopher_enough_stop_words"
		}
	}
	return ""
}

// NGramFrac is an n-gram size with its largest allowed character fraction.
type NGramFrac struct {
	N    int
	Frac float64
}

// GopherRepetitionFilter removes documents with too much repeated content (Gopher,
// Table A1), with datatrove's defaults and semantics. Drop reasons: empty,
// dup_para_frac, dup_para_char_frac, dup_line_frac, dup_line_char_frac,
// top_{n}_gram, duplicated_{n}_n_grams. A zero fraction disables its check.
type GopherRepetitionFilter struct {
	DupLineFrac     float64     // duplicate lines / lines (0.3)
	DupParaFrac     float64     // duplicate paragraphs / paragraphs (0.3)
	DupLineCharFrac float64     // characters in duplicate lines / characters (0.2)
	DupParaCharFrac float64     // characters in duplicate paragraphs / characters (0.2)
	TopNGrams       []NGramFrac // most frequent n-gram's characters / characters: (2,0.2) (3,0.18) (4,0.16)
	DupNGrams       []NGramFrac // characters in repeated n-grams: (5,0.15) … (10,0.10)
}

// NewGopherRepetitionFilter returns the filter with datatrove's defaults.
func NewGopherRepetitionFilter() *GopherRepetitionFilter {
	return &GopherRepetitionFilter{
		DupLineFrac: 0.3, DupParaFrac: 0.3, DupLineCharFrac: 0.2, DupParaCharFrac: 0.2,
		TopNGrams: []NGramFrac{{2, 0.2}, {3, 0.18}, {4, 0.16}},
		DupNGrams: []NGramFrac{{5, 0.15}, {6, 0.14}, {7, 0.13}, {8, 0.12}, {9, 0.11}, {10, 0.10}},
	}
}

// Name implements data.Step.
func (f *GopherRepetitionFilter) Name() string { return "gopher_repetition" }

// Process implements data.Step.
func (f *GopherRepetitionFilter) Process(d *data.Doc) (string, error) { return f.Check(d.Text), nil }

// findDuplicates is datatrove's find_duplicates: how many elements repeat an earlier
// one, and their total length in code points.
func findDuplicates(xs []string) (elems, chars int) {
	seen := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		if _, ok := seen[x]; ok {
			elems++
			chars += runeLen(x)
		} else {
			seen[x] = struct{}{}
		}
	}
	return elems, chars
}

// splitNewlineRuns splits s at runs of at least min newlines (re.split(r"\n{min,}")).
func splitNewlineRuns(s string, min int) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		if s[i] != '\n' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\n' {
			j++
		}
		if j-i >= min {
			out = append(out, s[start:i])
			start = j
		}
		i = j
	}
	return append(out, s[start:])
}

// Check returns the drop reason for text, or "" to keep it.
func (f *GopherRepetitionFilter) Check(text string) string {
	if text == "" {
		return "empty"
	}
	textLen := float64(runeLen(text))
	paras := splitNewlineRuns(pyStrip(text), 2)
	dups, chars := findDuplicates(paras)
	if f.DupParaFrac != 0 && float64(dups)/float64(len(paras)) > f.DupParaFrac {
		return "dup_para_frac"
	}
	if f.DupParaCharFrac != 0 && float64(chars)/textLen > f.DupParaCharFrac {
		return "dup_para_char_frac"
	}
	lines := splitNewlineRuns(text, 1)
	dups, chars = findDuplicates(lines)
	if f.DupLineFrac != 0 && float64(dups)/float64(len(lines)) > f.DupLineFrac {
		return "dup_line_frac"
	}
	if f.DupLineCharFrac != 0 && float64(chars)/textLen > f.DupLineCharFrac {
		return "dup_line_char_frac"
	}
	if len(f.TopNGrams) == 0 && len(f.DupNGrams) == 0 {
		return ""
	}
	words := Words(text)
	ids, lens := wordIDs(words)
	for _, nf := range f.TopNGrams {
		if top := topNGramChars(ids, lens, nf.N); top > 0 && float64(top)/textLen > nf.Frac {
			return "top_" + strconv.Itoa(nf.N) + "_gram"
		}
	}
	for _, nf := range f.DupNGrams {
		if float64(allDuplicateChars(words, lens, nf.N))/textLen > nf.Frac {
			return "duplicated_" + strconv.Itoa(nf.N) + "_n_grams"
		}
	}
	return ""
}

// wordIDs numbers the distinct words of a document and returns each word's length in
// code points.
func wordIDs(words []string) (ids []uint32, lens []int) {
	m := make(map[string]uint32, len(words)/2+1)
	ids = make([]uint32, len(words))
	lens = make([]int, len(words))
	for i, w := range words {
		id, ok := m[w]
		if !ok {
			id = uint32(len(m))
			m[w] = id
		}
		ids[i] = id
		lens[i] = runeLen(w)
	}
	return ids, lens
}

// ngramKey hashes the word ids of one n-gram.
func ngramKey(ids []uint32) uint64 {
	h := uint64(14695981039346656037)
	for _, id := range ids {
		h ^= uint64(id) + 0x9e3779b97f4a7c15
		h *= 1099511628211
		h ^= h >> 29
	}
	return h
}

// topNGramChars is datatrove's find_top_duplicate over " "-joined n-grams: the length
// of the most frequent n-gram (the first seen among equals) times its count.
func topNGramChars(ids []uint32, lens []int, n int) int {
	if len(ids) < n || n <= 0 {
		return 0
	}
	type entry struct {
		count, first int
	}
	counts := make(map[uint64]*entry, len(ids))
	best, bestFirst := 0, 0
	for i := 0; i+n <= len(ids); i++ {
		k := ngramKey(ids[i : i+n])
		e := counts[k]
		if e == nil {
			e = &entry{first: i}
			counts[k] = e
		}
		e.count++
		if e.count > best || (e.count == best && e.first < bestFirst) {
			best, bestFirst = e.count, e.first
		}
	}
	chars := n - 1
	for _, l := range lens[bestFirst : bestFirst+n] {
		chars += l
	}
	return chars * best
}

// allDuplicateChars is datatrove's find_all_duplicate: scanning left to right, an
// n-gram (its words concatenated without spaces) already seen counts its characters
// and the scan jumps past it. N-grams are keyed by a polynomial hash of their
// concatenated bytes, folded from per-word hashes, so n-grams that concatenate to the
// same string compare equal exactly as in datatrove.
func allDuplicateChars(words []string, lens []int, n int) int {
	if len(words) < n || n <= 0 {
		return 0
	}
	hs, pows := concatHashes(words)
	seen := make(map[uint64]struct{}, len(words))
	repeated := 0
	for i := 0; i+n <= len(words); {
		k := uint64(0)
		for j := i; j < i+n; j++ {
			k = k*pows[j] + hs[j]
		}
		if _, ok := seen[k]; ok {
			for _, l := range lens[i : i+n] {
				repeated += l
			}
			i += n
		} else {
			seen[k] = struct{}{}
			i++
		}
	}
	return repeated
}

// polyBase is the odd multiplier of the concatenation hash (mod 2^64).
const polyBase = 0x9e3779b97f4a7c15

// concatHashes returns, per word, its polynomial byte hash and polyBase^len(word), so
// that hash(a+b) = hash(a)*pow(b) + hash(b).
func concatHashes(words []string) (hs, pows []uint64) {
	hs = make([]uint64, len(words))
	pows = make([]uint64, len(words))
	for i, w := range words {
		h, p := uint64(0), uint64(1)
		for j := 0; j < len(w); j++ {
			h = h*polyBase + uint64(w[j]) + 1
			p *= polyBase
		}
		hs[i], pows[i] = h, p
	}
	return hs, pows
}

// FineWebQualityFilter is FineWeb's own line-level quality filter with datatrove's
// defaults. Drop reasons: empty, line_punct_ratio, short_line_ratio, char_dup_ratio,
// list_ratio.
type FineWebQualityFilter struct {
	LinePunctThr         float64 // least fraction of lines ending in terminal punctuation (0.12)
	LinePunctExcludeZero bool    // keep documents where no line ends in punctuation (false)
	ShortLineThr         float64 // most fraction of short lines (0.67)
	ShortLineLength      int     // a short line has at most this many characters (30)
	CharDuplicatesRatio  float64 // characters in duplicate lines / non-newline characters (0.01)
	NewLineRatio         float64 // newlines per word (0.3)
	// StopChars, when set, replaces datatrove's TERMINAL_PUNCTUATION as line endings.
	StopChars []string
}

// NewFineWebQualityFilter returns the filter with datatrove's defaults.
func NewFineWebQualityFilter() *FineWebQualityFilter {
	return &FineWebQualityFilter{LinePunctThr: 0.12, ShortLineThr: 0.67, ShortLineLength: 30,
		CharDuplicatesRatio: 0.01, NewLineRatio: 0.3}
}

// Name implements data.Step.
func (f *FineWebQualityFilter) Name() string { return "fineweb_quality" }

// Process implements data.Step.
func (f *FineWebQualityFilter) Process(d *data.Doc) (string, error) { return f.Check(d.Text), nil }

func (f *FineWebQualityFilter) endsWithStop(line string) bool {
	if f.StopChars == nil {
		return endsWithRune(line, isTerminalPunct)
	}
	for _, s := range f.StopChars {
		if strings.HasSuffix(line, s) {
			return true
		}
	}
	return false
}

// Check returns the drop reason for text, or "" to keep it.
func (f *FineWebQualityFilter) Check(text string) string {
	all := strings.Split(text, "\n")
	lines := all[:0:0]
	for _, l := range all {
		if pyStrip(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "empty"
	}
	n := 0
	for _, l := range lines {
		if f.endsWithStop(l) {
			n++
		}
	}
	ratio := float64(n) / float64(len(lines))
	if ratio < f.LinePunctThr && !(ratio == 0 && f.LinePunctExcludeZero) {
		return "line_punct_ratio"
	}
	n = 0
	for _, l := range lines {
		if runeLen(l) <= f.ShortLineLength {
			n++
		}
	}
	if float64(n)/float64(len(lines)) > f.ShortLineThr {
		return "short_line_ratio"
	}
	_, dupChars := findDuplicates(lines)
	nonNL := runeLen(text) - strings.Count(text, "\n")
	if float64(dupChars)/float64(nonNL) > f.CharDuplicatesRatio {
		return "char_dup_ratio"
	}
	nWords := len(Words(text))
	if nWords > 0 && float64(strings.Count(text, "\n"))/float64(nWords) > f.NewLineRatio {
		return "list_ratio"
	}
	return ""
}

// C4QualityFilter applies C4's line and document heuristics (Raffel et al. 2020) as
// datatrove implements them: it edits the text, keeping only lines that end in
// terminal punctuation, have at least 3 words, no word over 1000 characters, no
// "javascript" and no cookie/terms-of-use phrase (Wikipedia citations removed), and
// drops the document for "lorem ipsum" (lorem_ipsum), a curly bracket
// (curly_bracket) or fewer than 5 sentences left (too_few_sentences).
type C4QualityFilter struct {
	SplitParagraph        bool // split on lines (true); false splits into sentences
	RemoveCitations       bool // remove [1], [edit], [citation needed]
	FilterNoTerminalPunct bool
	MinNumSentences       int // 5; -1 disables
	MinWordsPerLine       int // 3; -1 disables
	MaxWordLength         int // 1000; -1 disables
	FilterLoremIpsum      bool
	FilterJavascript      bool
	FilterCurlyBracket    bool
	FilterPolicy          bool
}

// NewC4QualityFilter returns the filter with datatrove's defaults.
func NewC4QualityFilter() *C4QualityFilter {
	return &C4QualityFilter{SplitParagraph: true, RemoveCitations: true, FilterNoTerminalPunct: true,
		MinNumSentences: 5, MinWordsPerLine: 3, MaxWordLength: 1000, FilterLoremIpsum: true,
		FilterJavascript: true, FilterCurlyBracket: true, FilterPolicy: true}
}

// Name implements data.Step.
func (f *C4QualityFilter) Name() string { return "c4_quality" }

var policySubstrings = []string{"terms of use", "privacy policy", "cookie policy", "uses cookies",
	"use of cookies", "use cookies"}

// Process implements data.Step; a kept document's text is replaced by its kept lines.
func (f *C4QualityFilter) Process(d *data.Doc) (string, error) {
	text, drop := f.Apply(d.Text)
	if drop == "" {
		d.Text = text
	}
	return drop, nil
}

// Apply returns the edited text and "" to keep it, or a drop reason.
func (f *C4QualityFilter) Apply(text string) (string, string) {
	var lines []string
	if f.SplitParagraph {
		lines = pySplitLines(text)
	} else {
		lines = Sentences(text)
	}
	sentences := 0
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		line = pyStrip(line)
		words := pySplit(line)
		if f.MaxWordLength != -1 {
			long := false
			for _, w := range words {
				if len(w) > f.MaxWordLength && runeLen(w) > f.MaxWordLength {
					long = true
					break
				}
			}
			if long {
				continue
			}
		}
		if f.RemoveCitations {
			line = removeCitations(line)
		}
		if f.FilterNoTerminalPunct && (!endsWithC4Punct(line) || strings.HasSuffix(line, "...")) {
			continue
		}
		if len(words) < f.MinWordsPerLine {
			continue
		}
		lower := strings.ToLower(line)
		if f.FilterLoremIpsum && strings.Contains(lower, "lorem ipsum") {
			return "", "lorem_ipsum"
		}
		if f.FilterJavascript && strings.Contains(lower, "javascript") {
			continue
		}
		if f.FilterCurlyBracket && strings.Contains(line, "{") {
			return "", "curly_bracket"
		}
		if f.FilterPolicy {
			policy := false
			for _, p := range policySubstrings {
				if strings.Contains(lower, p) {
					policy = true
					break
				}
			}
			if policy {
				continue
			}
		}
		if f.MinNumSentences != -1 {
			if f.SplitParagraph {
				sentences += CountSentences(line)
			} else {
				sentences++
			}
		}
		kept = append(kept, line)
	}
	if sentences < f.MinNumSentences {
		return "", "too_few_sentences"
	}
	sep := "\n"
	if !f.SplitParagraph {
		sep = " "
	}
	return pyStrip(strings.Join(kept, sep)), ""
}

func endsWithC4Punct(line string) bool {
	if line == "" {
		return false
	}
	switch line[len(line)-1] {
	case '.', '?', '!', '"', '\'':
		return true
	}
	return false
}

// removeCitations deletes "[digits]", "[edit]" and "[citation needed]".
func removeCitations(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '[' {
			rest := s[i+1:]
			if strings.HasPrefix(rest, "edit]") {
				i += 6
				continue
			}
			if strings.HasPrefix(rest, "citation needed]") {
				i += 17
				continue
			}
			j := 0
			for j < len(rest) {
				r, n := utf8.DecodeRuneInString(rest[j:])
				if !unicode.IsDigit(r) {
					break
				}
				j += n
			}
			if j < len(rest) && rest[j] == ']' {
				i += j + 2
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
