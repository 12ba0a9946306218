package clean

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/abadojack/whatlanggo"
	"github.com/cespare/xxhash/v2"
	"golang.org/x/net/publicsuffix"

	"github.com/golem-lm/golem/lmlib/data"
)

// LanguageFilter identifies each document's language, records it in metadata
// ("language": ISO 639-1, "language_score": confidence in [0,1]) and drops documents
// not in Languages ("language") or scored at or below Threshold ("language_score"),
// like datatrove's LanguageFilter. The identifier is pure Go and needs no download:
// whatlanggo's trigram profiles (84 languages) on the first MaxChars characters, with
// Chinese, Japanese and Korean decided by script (see Detect). datatrove uses the
// fastText lid.176 model, a download this machine cannot make, so docs/clean.md
// reports accuracy on held-out labelled text instead of agreement.
type LanguageFilter struct {
	Languages []string // ISO 639-1 codes to keep; empty keeps every language (default ["en"])
	Threshold float64  // keep only scores above this (0.65, datatrove's default)
	LabelOnly bool     // only label, never drop
	// MaxChars bounds the text examined (2000 characters from the start): enough for a
	// stable guess and keeps the cost per document flat.
	MaxChars int
}

// NewLanguageFilter returns a filter keeping English above 0.65.
func NewLanguageFilter(langs ...string) *LanguageFilter {
	if len(langs) == 0 {
		langs = []string{"en"}
	}
	return &LanguageFilter{Languages: langs, Threshold: 0.65, MaxChars: 500}
}

// Name implements data.Step.
func (f *LanguageFilter) Name() string { return "language" }

// Detect returns the ISO 639-1 code (or the ISO 639-3 code where there is none) and
// the confidence for text ("" and 0 when it has no letters).
func (f *LanguageFilter) Detect(text string) (string, float64) {
	if f.MaxChars > 0 && len(text) > f.MaxChars {
		cut := 0
		for i := range text {
			if (cut >= f.MaxChars && pyIsSpace(rune(text[i]))) || cut >= 2*f.MaxChars {
				text = text[:i]
				break
			}
			cut++
		}
	}
	// whatlanggo picks one script by a count that lets Latin identifiers in Chinese,
	// Japanese or Korean text win, and takes Japanese written mostly in kanji for
	// Chinese. Letters of those scripts decide directly: Hangul → Korean, a real
	// share of kana → Japanese, otherwise Han → Chinese; the score is their share of
	// all letters.
	var letters, han, kana, hangul int
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.Is(unicode.Hangul, r):
			hangul++
		}
	}
	if cjk := han + kana + hangul; letters > 0 && cjk*10 >= letters*3 {
		share := float64(cjk) / float64(letters)
		switch {
		case hangul >= han+kana:
			return "ko", share
		case kana*10 >= kana+han:
			return "ja", share
		default:
			return "zh", share
		}
	}
	info := whatlanggo.Detect(text)
	code := info.Lang.Iso6391()
	if code == "" {
		code = info.Lang.Iso6393()
	}
	return code, info.Confidence
}

// Process implements data.Step.
func (f *LanguageFilter) Process(d *data.Doc) (string, error) {
	lang, score := f.Detect(d.Text)
	d.SetMeta(data.MetaLanguage, lang)
	d.SetMeta(data.MetaLanguageScore, score)
	if f.LabelOnly {
		return "", nil
	}
	if len(f.Languages) > 0 {
		ok := false
		for _, l := range f.Languages {
			if l == lang {
				ok = true
				break
			}
		}
		if !ok {
			return "language", nil
		}
	}
	if score <= f.Threshold {
		return "language_score", nil
	}
	return "", nil
}

// URLFilter drops documents whose metadata URL is on user-supplied block lists, with
// datatrove's URLFilter semantics and reasons (golem ships no list):
//
//   - "domain": the registered domain (public suffix + 1 label, e.g. example.co.uk
//     for news.example.co.uk) is in Domains;
//   - "subdomain": the full host name is in Domains;
//   - "url": the URL, exactly as given, is in URLs;
//   - "hard_blacklisted": a word of the URL (split at non-alphanumerics) is in
//     BannedWords;
//   - "soft_blacklisted": at least SoftWordThreshold (2) distinct URL words are in
//     SoftBannedWords;
//   - "blacklisted_subword": an entry of BannedSubwords occurs in the URL with every
//     non-alphanumeric character removed, lower-cased.
//
// Words and subwords are normalised the same way (non-alphanumerics removed, lower
// case); URLs are compared as given, host names case-insensitively (datatrove
// compares them as given, so it misses "http://EXAMPLE.com"). A document without a
// URL is kept (datatrove stops with an assertion). Registered domains come from the Public
// Suffix List in golang.org/x/net/publicsuffix, which treats an unknown top-level
// domain as a suffix (tldextract finds no domain there, so it never blocks one).
type URLFilter struct {
	Domains           []string
	URLs              []string
	BannedWords       []string
	SoftBannedWords   []string
	SoftWordThreshold int // 0 means datatrove's 2
	BannedSubwords    []string

	once                      sync.Once
	domains, urls, hard, soft map[string]bool
	subs                      []string
}

// Name implements data.Step.
func (f *URLFilter) Name() string { return "url" }

// normalizeURLWord is datatrove's normalize: non-alphanumerics removed, lower case.
func normalizeURLWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9') {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func listSet(xs []string, norm bool) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		if x == "" || x[0] == '#' {
			continue
		}
		if norm {
			x = normalizeURLWord(x)
		} else {
			x = strings.TrimSpace(x)
		}
		m[x] = true
	}
	return m
}

// Process implements data.Step.
func (f *URLFilter) Process(d *data.Doc) (string, error) {
	f.once.Do(func() {
		f.domains, f.urls = listSet(f.Domains, false), listSet(f.URLs, false)
		for d := range f.domains {
			f.domains[strings.ToLower(d)] = true // host names are case-insensitive
		}
		f.hard, f.soft = listSet(f.BannedWords, true), listSet(f.SoftBannedWords, true)
		for w := range listSet(f.BannedSubwords, true) {
			if w != "" {
				f.subs = append(f.subs, w)
			}
		}
	})
	raw := d.MetaString(data.MetaURL)
	if raw == "" {
		return "", nil
	}
	host := ""
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		host = strings.ToLower(u.Hostname())
	} else if u, err := url.Parse("http://" + raw); err == nil {
		host = strings.ToLower(u.Hostname())
	}
	if host != "" {
		if reg, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil && f.domains[reg] {
			return "domain", nil
		}
		if f.domains[host] {
			return "subdomain", nil
		}
	}
	if f.urls[raw] {
		return "url", nil
	}
	if len(f.hard) > 0 || len(f.soft) > 0 {
		words := map[string]bool{}
		start := -1
		for i := 0; i <= len(raw); i++ {
			alnum := i < len(raw) && ((raw[i]|0x20 >= 'a' && raw[i]|0x20 <= 'z') || (raw[i] >= '0' && raw[i] <= '9'))
			if alnum && start < 0 {
				start = i
			} else if !alnum && start >= 0 {
				words[raw[start:i]] = true // datatrove splits without lower-casing
				start = -1
			}
		}
		for w := range words {
			if f.hard[w] {
				return "hard_blacklisted", nil
			}
		}
		th := f.SoftWordThreshold
		if th == 0 {
			th = 2
		}
		n := 0
		for w := range words {
			if f.soft[w] {
				n++
			}
		}
		if len(f.soft) > 0 && n >= th {
			return "soft_blacklisted", nil
		}
	}
	if len(f.subs) > 0 {
		norm := normalizeURLWord(raw)
		for _, s := range f.subs {
			if strings.Contains(norm, s) {
				return "blacklisted_subword", nil
			}
		}
	}
	return "", nil
}

// LengthFilter drops documents shorter than MinChars ("too_short") or longer than
// MaxChars ("too_long") code points; 0 disables a bound.
type LengthFilter struct {
	MinChars, MaxChars int
}

// Name implements data.Step.
func (f *LengthFilter) Name() string { return "length" }

// Process implements data.Step.
func (f *LengthFilter) Process(d *data.Doc) (string, error) {
	n := runeLen(d.Text)
	if f.MinChars > 0 && n < f.MinChars {
		return "too_short", nil
	}
	if f.MaxChars > 0 && n > f.MaxChars {
		return "too_long", nil
	}
	return "", nil
}

// WordListFilter is C4's bad-words idea with a list the user supplies: a document
// containing any listed word or phrase as a whole word (case-insensitive, flanked by
// characters other than letters, digits and "_", as C4 matches) is dropped
// ("word_list"). golem ships no list.
type WordListFilter struct {
	re *regexp.Regexp
}

// NewWordListFilter compiles the list; empty entries are ignored.
func NewWordListFilter(words []string) (*WordListFilter, error) {
	var alts []string
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		if w != "" {
			alts = append(alts, regexp.QuoteMeta(w))
		}
	}
	if len(alts) == 0 {
		return nil, fmt.Errorf("word list filter: the list is empty")
	}
	// C4's pattern: (?:\W|^)(words)(?:\W|$), \W being anything but a letter, digit or "_"
	re, err := regexp.Compile(`(?:[^\pL\pN_]|^)(?:` + strings.Join(alts, "|") + `)(?:[^\pL\pN_]|$)`)
	if err != nil {
		return nil, fmt.Errorf("word list filter: %w", err)
	}
	return &WordListFilter{re: re}, nil
}

// Name implements data.Step.
func (f *WordListFilter) Name() string { return "word_list" }

// Process implements data.Step.
func (f *WordListFilter) Process(d *data.Doc) (string, error) {
	if f.re.MatchString(strings.ToLower(d.Text)) {
		return "word_list", nil
	}
	return "", nil
}

// ExactDedup drops a document whose text was seen before ("exact_duplicate"). It
// keeps a 128-bit key per distinct text (two independent 64-bit xxhash values), not
// the text. With Simplify the key is taken over SimplifyText (case, punctuation,
// numbers and accents ignored).
type ExactDedup struct {
	Simplify bool
	mu       sync.Mutex
	seen     map[[2]uint64]struct{}
}

// Name implements data.Step.
func (e *ExactDedup) Name() string { return "exact_dedup" }

// Process implements data.Step.
func (e *ExactDedup) Process(d *data.Doc) (string, error) {
	t := d.Text
	if e.Simplify {
		t = SimplifyText(t)
	}
	k := [2]uint64{xxhash.Sum64String(t), xxhash.Sum64String("\x00golem\x00" + t)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[[2]uint64]struct{}{}
	}
	if _, ok := e.seen[k]; ok {
		return "exact_duplicate", nil
	}
	e.seen[k] = struct{}{}
	return "", nil
}

// SentenceDedup removes spans of NSentences consecutive sentences (3) that already
// appeared earlier — in an earlier document or earlier in the same one — as datatrove's
// SentenceDedup does: sentences split like spaCy's Sentencizer, compared after
// SimplifyText by 64-bit xxhash of the joined span; every sentence of a repeated span is
// removed. A changed document left with fewer than MinDocWords words (50) or
// MinSentences sentences (3), or empty, is dropped ("sentence_dedup_short"). This is
// the streaming form: "earlier" is processing order (run it with one worker, or in a
// sequential pass, for datatrove's result); only span hashes are kept in memory.
type SentenceDedup struct {
	NSentences, MinDocWords, MinSentences int
	mu                                    sync.Mutex
	seen                                  map[uint64]struct{}
}

// NewSentenceDedup returns the step with datatrove's defaults.
func NewSentenceDedup() *SentenceDedup {
	return &SentenceDedup{NSentences: 3, MinDocWords: 50, MinSentences: 3}
}

// Name implements data.Step.
func (s *SentenceDedup) Name() string { return "sentence_dedup" }

// Process implements data.Step.
func (s *SentenceDedup) Process(d *data.Doc) (string, error) {
	sents := Sentences(d.Text)
	n := s.NSentences
	if n <= 0 || len(sents) < n {
		return "", nil
	}
	simple := make([]string, len(sents))
	for i, st := range sents {
		simple[i] = SimplifyText(st)
	}
	drop := make([]bool, len(sents))
	removed := false
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[uint64]struct{}{}
	}
	for i := 0; i+n <= len(sents); i++ {
		span := strings.Join(simple[i:i+n], " ")
		if strings.TrimSpace(span) == "" {
			continue
		}
		k := xxhash.Sum64String(span)
		if _, ok := s.seen[k]; ok {
			for j := i; j < i+n; j++ {
				drop[j] = true
			}
			removed = true
		} else {
			s.seen[k] = struct{}{}
		}
	}
	s.mu.Unlock()
	if !removed {
		return "", nil
	}
	var b strings.Builder
	for i, st := range sents {
		if !drop[i] {
			b.WriteString(st)
		}
	}
	text := pyLStrip(b.String())
	d.Text = text
	if text == "" || (s.MinDocWords > 0 && len(Words(text)) < s.MinDocWords) ||
		(s.MinSentences > 0 && CountSentences(text) < s.MinSentences) {
		return "sentence_dedup_short", nil
	}
	return "", nil
}

// FineWebOptions selects the optional parts of the FineWeb chain.
type FineWebOptions struct {
	HTML      bool           // start with HTML extraction (the input is raw HTML)
	Languages []string       // languages to keep (["en"]); ["any"] keeps every language above the threshold
	URLFilter *URLFilter     // block list; nil skips the URL filter
	MinHash   *MinHashConfig // nil uses FineWeb's defaults
	NoMinHash bool           // skip dedup (e.g. when a two-pass MinHashIndex runs separately)
	NoPII     bool
}

// FineWebSteps returns FineWeb's processing chain as data.Steps, in FineWeb's order:
// extraction (with opts.HTML) → URL filter → language → Gopher repetition → Gopher
// quality → C4 quality → FineWeb quality → MinHash dedup (streaming) → PII.
func FineWebSteps(opts FineWebOptions) ([]data.Step, error) {
	var steps []data.Step
	if opts.HTML {
		steps = append(steps, NewExtractor())
	}
	if opts.URLFilter != nil {
		steps = append(steps, opts.URLFilter)
	}
	lang := NewLanguageFilter(opts.Languages...)
	if len(opts.Languages) == 1 && opts.Languages[0] == "any" {
		lang.Languages = nil
	}
	steps = append(steps, lang, NewGopherRepetitionFilter(),
		NewGopherQualityFilter(), NewC4QualityFilter(), NewFineWebQualityFilter())
	if !opts.NoMinHash {
		cfg := DefaultMinHashConfig()
		if opts.MinHash != nil {
			cfg = *opts.MinHash
		}
		m, err := NewMinHashDeduper(cfg)
		if err != nil {
			return nil, err
		}
		steps = append(steps, m)
	}
	if !opts.NoPII {
		pii := NewPIIFormatter()
		pii.PerDocument = true // reproducible whatever the workers and tasks
		steps = append(steps, pii)
	}
	return steps, nil
}
