package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits text into words the way datatrove does for English. datatrove's
// split_into_words runs spaCy's blank English tokenizer and drops whitespace tokens;
// Words re-implements that tokenizer's rules in Go without allocating per word:
//
//   - split on whitespace (Python's str.isspace);
//   - peel prefixes (opening brackets and quotes, currency signs, most punctuation,
//     symbols, "..") and suffixes (closing punctuation, "'s", a period after a
//     lower-case letter, digit or punctuation, units and currency after a digit);
//   - keep URLs and e-mail-like tokens whole;
//   - split infixes: "..", "…", symbols, hyphens and ":<>=/" between letters,
//     commas between letters, a period between a lower- and an upper-case letter,
//     arithmetic signs between digits;
//   - split English contractions ("don't" → "do" "n't", "I'm" → "I" "'m").
//
// It does not carry spaCy's full table of special cases (emoticons, every
// abbreviation); docs/clean.md measures the remaining disagreement.
func Words(text string) []string {
	return appendWords(make([]string, 0, len(text)/5+1), text)
}

// appendWords appends the words of text to dst.
func appendWords(dst []string, text string) []string {
	i := 0
	for i < len(text) {
		// skip whitespace
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				if !pyIsSpace(rune(c)) {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[i:])
			if !pyIsSpace(r) {
				break
			}
			i += n
		}
		j := i
		for j < len(text) {
			c := text[j]
			if c < utf8.RuneSelf {
				if pyIsSpace(rune(c)) {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[j:])
			if pyIsSpace(r) {
				break
			}
			j += n
		}
		if j > i {
			n0 := len(dst)
			dst = splitChunk(dst, text[i:j])
			if len(dst)-n0 > 1 {
				dst = mergeSpecialRuns(dst, n0, text[i:j])
			}
		}
		i = j
	}
	return dst
}

// mergeSpecialRuns re-joins runs of two or three tokens of one chunk whose text is a
// punctuation exception ("”", emoticons), as spaCy's special-case matcher does.
func mergeSpecialRuns(dst []string, n0 int, chunk string) []string {
	toks := dst[n0:]
	out := toks[:0]
	off := 0
	for i := 0; i < len(toks); {
		merged := false
		for k := 3; k >= 2; k-- {
			if i+k > len(toks) {
				continue
			}
			n := 0
			for _, t := range toks[i : i+k] {
				n += len(t)
			}
			if n <= 8 && isAbbreviation(chunk[off:off+n]) {
				out = append(out, chunk[off:off+n])
				off += n
				i += k
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, toks[i])
			off += len(toks[i])
			i++
		}
	}
	return dst[:n0+len(out)]
}

// splitChunk tokenizes one whitespace-free chunk (spaCy's affix loop).
func splitChunk(dst []string, s string) []string {
	if isPlainWord(s) {
		return append(dst, s)
	}
	if special(s) {
		return appendSpecial(dst, s)
	}
	var suffixes []string
	last := -1
	for s != "" && len(s) != last {
		if special(s) {
			break
		}
		last = len(s)
		pre := prefixLen(s)
		if pre > 0 && pre < len(s) && special(s[pre:]) {
			dst = append(dst, s[:pre])
			s = s[pre:]
			break
		}
		suf := suffixLen(s[pre:])
		if suf > 0 && suf < len(s) && special(s[:len(s)-suf]) {
			suffixes = append(suffixes, s[len(s)-suf:])
			s = s[:len(s)-suf]
			break
		}
		switch {
		case pre > 0 && suf > 0 && pre+suf <= len(s):
			dst = append(dst, s[:pre])
			suffixes = append(suffixes, s[len(s)-suf:])
			s = s[pre : len(s)-suf]
		case pre > 0:
			dst = append(dst, s[:pre])
			s = s[pre:]
		case suf > 0:
			suffixes = append(suffixes, s[len(s)-suf:])
			s = s[:len(s)-suf]
		}
	}
	if s != "" {
		switch {
		case special(s):
			dst = appendSpecial(dst, s)
		case isURL(s):
			dst = append(dst, s)
		default:
			dst = splitInfixes(dst, s)
		}
	}
	for k := len(suffixes) - 1; k >= 0; k-- {
		dst = append(dst, suffixes[k])
	}
	return dst
}

// isPlainWord is the fast path: ASCII letters and digits only, which no rule splits
// (except the apostrophe-less contractions handled by special).
func isPlainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !((c >= 'a' && c <= 'z') || (s[i] >= '0' && s[i] <= '9')) {
			return false
		}
	}
	return !special(s)
}

const prefixChars = "§%=—–…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧$£€¥฿₽﷼₴"

const suffixChars = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧—–"

// periodLookbehind holds the punctuation after which a final period is split off.
const periodLookbehind = "%²-+…|,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"

const quoteChars = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"

func isSym(r rune) bool {
	return r >= 0xA6 && unicode.Is(unicode.So, r)
}

func isCurrency(r rune) bool { return unicode.Is(unicode.Sc, r) }

// prefixLen returns the length in bytes of the prefix spaCy's English rules split off s.
func prefixLen(s string) int {
	if strings.HasPrefix(s, "..") {
		n := 2
		for n < len(s) && s[n] == '.' {
			n++
		}
		return n
	}
	for _, p := range [...]string{"US$", "C$", "A$"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == '+' {
		if len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
			return 0
		}
		return 1
	}
	if strings.ContainsRune(prefixChars, r) || isSym(r) || (r >= 0x20A0 && r <= 0x20BF) {
		return n
	}
	return 0
}

// suffixLen returns the length in bytes of the suffix split off the end of s.
func suffixLen(s string) int {
	if s == "" {
		return 0
	}
	// A run of two or more periods at the end.
	if strings.HasSuffix(s, "..") {
		k := len(s) - 2
		for k > 0 && s[k-1] == '.' {
			k--
		}
		return len(s) - k
	}
	// 's 'S ’s ’S
	for _, p := range [...]string{"'s", "'S", "’s", "’S"} {
		if strings.HasSuffix(s, p) && len(s) > len(p) {
			// the leftmost-matching alternative: a lone quote before s is itself a suffix
			return len(p)
		}
	}
	r, n := utf8.DecodeLastRuneInString(s)
	before := s[:len(s)-n]
	// units and currency after a digit (leftmost match wins: check multi-letter units)
	if u := unitSuffix(s); u > 0 {
		return u
	}
	if strings.ContainsRune(suffixChars, r) || isSym(r) {
		return n
	}
	switch {
	case r == '+':
		if lastIsDigit(before) {
			return 1
		}
	case isCurrency(r):
		if lastIsDigit(before) {
			return n
		}
	case r == '.':
		if before == "" {
			return 0
		}
		p, _ := utf8.DecodeLastRuneInString(before)
		if unicode.IsLower(p) || (p >= '0' && p <= '9') || isCaselessLetter(p) || strings.ContainsRune(periodLookbehind, p) {
			return 1
		}
		// °F. °C.
		if len(before) >= 3 && strings.ContainsRune("FfCcKk", p) && strings.HasSuffix(before[:len(before)-1], "°") {
			return 1
		}
		// two upper-case letters before the period
		if unicode.IsUpper(p) || isCaselessLetter(p) {
			b2 := before[:len(before)-utf8.RuneLen(p)]
			if b2 != "" {
				q, _ := utf8.DecodeLastRuneInString(b2)
				if unicode.IsUpper(q) || isCaselessLetter(q) {
					return 1
				}
			}
		}
	}
	return 0
}

var units = []string{"km²", "km³", "km", "m²", "m³", "dm²", "dm³", "dm", "cm²", "cm³", "cm", "mm²", "mm³", "mm",
	"ha", "µm", "nm", "yd", "in", "ft", "kg", "mg", "µg", "lb", "oz", "m/s", "km/h", "kmh", "mph", "hPa", "Pa",
	"mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "g", "m", "t", "T", "G", "M", "K", "%"}

// unitSuffix returns the byte length of a unit (or currency) that follows a digit at
// the end of s, choosing the leftmost (longest) match like Python's re.search.
func unitSuffix(s string) int {
	if strings.IndexAny(s, "0123456789") < 0 {
		return 0
	}
	best := 0
	for _, u := range units {
		if len(u) > best && strings.HasSuffix(s, u) && lastIsDigit(s[:len(s)-len(u)]) {
			best = len(u)
		}
	}
	return best
}

func lastIsDigit(s string) bool {
	return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// isCaselessLetter reports letters of scripts without case (CJK, Arabic, Indic, …),
// which spaCy's English rules treat as both upper and lower case.
func isCaselessLetter(r rune) bool {
	return r >= 0x0590 && unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsLower(r)
}

func isAlphaRune(r rune) bool { return unicode.IsLetter(r) }

// splitInfixes splits s at spaCy's English infixes.
func splitInfixes(dst []string, s string) []string {
	start := 0
	prev := rune(-1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		ml := 0 // length of an infix match starting at i
		switch {
		case r == '.' && i+1 < len(s) && s[i+1] == '.':
			ml = 2
			for i+ml < len(s) && s[i+ml] == '.' {
				ml++
			}
		case r == '…' || isSym(r):
			ml = n
		case i > 0 && i+n < len(s):
			next, _ := utf8.DecodeRuneInString(s[i+n:])
			switch {
			case strings.ContainsRune("+-*^", r) && prev >= '0' && prev <= '9' && ((next >= '0' && next <= '9') || next == '-'):
				ml = n
			case r == '.' && (unicode.IsLower(prev) || isCaselessLetter(prev) || strings.ContainsRune(quoteChars, prev)) &&
				(unicode.IsUpper(next) || isCaselessLetter(next) || strings.ContainsRune(quoteChars, next)):
				ml = n
			case r == ',' && isAlphaRune(prev) && isAlphaRune(next):
				ml = n
			case (r == '-' || r == '–' || r == '—' || r == '~') && (isAlphaRune(prev) || (prev >= '0' && prev <= '9')):
				// -, –, —, --, ---, ——, ~ followed by a letter
				k := i + n
				if r == '-' {
					for k < len(s) && s[k] == '-' && k-i < 3 {
						k++
					}
				} else if r == '—' && strings.HasPrefix(s[k:], "—") {
					k += len("—")
				}
				if k < len(s) {
					nx, _ := utf8.DecodeRuneInString(s[k:])
					if isAlphaRune(nx) {
						ml = k - i
					}
				}
			case strings.ContainsRune(":<>=/", r) && (isAlphaRune(prev) || (prev >= '0' && prev <= '9')) && isAlphaRune(next):
				ml = n
			}
		}
		if ml > 0 {
			if i > start {
				dst = append(dst, s[start:i])
			}
			if i == 0 && start == 0 {
				// an infix at the very start is kept with what follows (spaCy skips it)
				i += ml
				prev, _ = utf8.DecodeLastRuneInString(s[:i])
				continue
			}
			dst = append(dst, s[i:i+ml])
			i += ml
			start = i
			prev, _ = utf8.DecodeLastRuneInString(s[:i])
			continue
		}
		prev = r
		i += n
	}
	if start < len(s) {
		dst = append(dst, s[start:])
	}
	return dst
}

// contraction stems that take 'm 're 've 'll 'd (spaCy's English exceptions).
var contractionStems = map[string]bool{
	"i": true, "you": true, "he": true, "she": true, "it": true, "we": true, "they": true,
	"that": true, "there": true, "these": true, "those": true, "this": true, "what": true,
	"when": true, "where": true, "who": true, "why": true, "how": true, "could": true,
	"should": true, "would": true, "might": true, "must": true, "not": true,
}

var contractionSuffixes = []string{"'m", "'re", "'ve", "'ll", "'d", "’m", "’re", "’ve", "’ll", "’d"}

// apostrophe-less forms spaCy splits: stem + rest.
var bareContractions = map[string]int{
	"aint": 2, "arent": 3, "cant": 2, "cannot": 3, "couldnt": 5, "didnt": 3, "doesnt": 4, "dont": 2,
	"hadnt": 3, "hasnt": 3, "havent": 4, "isnt": 2, "mightnt": 5, "mustnt": 4, "neednt": 4, "shant": 3,
	"shouldnt": 6, "wasnt": 3, "werent": 4, "wont": 2, "wouldnt": 5, "darent": 4, "oughtnt": 5,
	"maynt": 3, "im": 1, "ive": 1, "id": 1, "hes": 2, "shes": 3, "thats": 4, "whats": 4, "theres": 5,
	"theyre": 4, "theyve": 4, "theyd": 4, "theyll": 4, "youre": 3, "youve": 3, "youd": 3, "youll": 3,
	"weve": 2, "itd": 2, "itll": 2, "gonna": 3, "gotta": 3, "whos": 3, "wheres": 5,
	"hows": 3, "couldve": 5, "shouldve": 6, "wouldve": 5, "mustve": 4, "mightve": 5, "ima": 1,
}

// special reports whether s is one of the English exceptions this tokenizer knows.
func special(s string) bool { return specialSplit(s) > 0 }

// specialSplit returns where an exception splits s (0: not an exception; len(s): one token).
func specialSplit(s string) int {
	if len(s) < 2 || len(s) > 12 {
		return 0
	}
	var buf [12]byte
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
	}
	low := s
	if upper {
		low = string(buf[:len(s)])
	}
	if isASCIIAlnum(s) { // only the apostrophe-less contractions apply
		if len(s) > 8 {
			return 0
		}
		if k, ok := bareContractions[low]; ok && (low == s || (s[0] >= 'A' && s[0] <= 'Z' && low[1:] == s[1:])) {
			return k
		}
		return 0
	}
	if k, ok := bareContractions[low]; ok {
		// spaCy lists these in lower case and Title case only
		if low == s || (s[0] >= 'A' && s[0] <= 'Z' && low[1:] == s[1:]) {
			return k
		}
		return 0
	}
	for _, nt := range [...]string{"n't", "n’t"} {
		if strings.HasSuffix(low, nt) && len(low) > len(nt) {
			stem := low[:len(low)-len(nt)]
			if ntStems[stem] && (low == s || low[1:] == s[1:]) {
				return len(s) - len(nt)
			}
		}
	}
	if strings.Contains(low, "'") || strings.Contains(low, "’") {
		for _, suf := range contractionSuffixes {
			if strings.HasSuffix(low, suf) {
				stem := low[:len(low)-len(suf)]
				if contractionStems[stem] && (low == s || low[1:] == s[1:]) {
					return len(stem)
				}
			}
		}
	}
	if isAbbreviation(s) {
		return len(s)
	}
	return 0
}

func isASCIIAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// abbreviations spaCy keeps as one token with their period.
var abbreviations = map[string]bool{
	"Mr.": true, "Mrs.": true, "Ms.": true, "Dr.": true, "St.": true, "Jr.": true, "Mt.": true,
	"Prof.": true, "Rev.": true, "Gen.": true, "Gov.": true, "Sen.": true, "Rep.": true, "Co.": true,
	"Corp.": true, "Inc.": true, "Ltd.": true, "Bros.": true, "Messrs.": true, "Ph.D.": true,
	"Jan.": true, "Feb.": true, "Mar.": true, "Apr.": true, "Jun.": true, "Jul.": true, "Aug.": true,
	"Sep.": true, "Sept.": true, "Oct.": true, "Nov.": true, "Dec.": true, "e.g.": true, "i.e.": true,
	"E.g.": true, "I.e.": true, "a.m.": true, "p.m.": true, "vs.": true, "v.s.": true, "co.": true,
	"Adm.": true, "D.C.": true, "N.Y.": true, "Mass.": true, "Calif.": true, "Conn.": true, "Fla.": true,
	"Ga.": true, "Ill.": true, "Md.": true, "Mich.": true, "Minn.": true, "Miss.": true, "Mo.": true,
	"Pa.": true, "Va.": true, "Wash.": true, "Wis.": true, "Ak.": true, "Ala.": true, "Ariz.": true,
	"Ark.": true, "Colo.": true, "Del.": true, "Ia.": true, "Id.": true, "Ind.": true, "Kan.": true,
	"Kans.": true, "Ky.": true, "La.": true, "Neb.": true, "Nebr.": true, "Nev.": true, "N.C.": true,
	"N.D.": true, "N.H.": true, "N.J.": true, "N.M.": true, "Okla.": true, "Ore.": true, "S.C.": true,
	"Tenn.": true, "Mont.": true, "E.G.": true, "I.E.": true,
}

// ntStems are the words spaCy splits before "n't" (can't → ca n't).
var ntStems = map[string]bool{
	"ai": true, "are": true, "ca": true, "could": true, "dare": true, "did": true, "does": true, "do": true,
	"had": true, "has": true, "have": true, "is": true, "may": true, "might": true, "must": true, "need": true,
	"ought": true, "sha": true, "should": true, "was": true, "were": true, "wo": true, "would": true,
}

// oneTokenSpecials are exceptions spaCy keeps whole although its rules would split them.
var oneTokenSpecials = map[string]bool{
	"'bout": true, "'cause": true, "'cos": true, "'coz": true, "'cuz": true, "'em": true, "'nuff": true,
	"'d": true, "'ll": true, "'re": true, "'s": true, "'S": true, "o'clock": true, "ma'am": true, "ol'": true,
	"c'mon": true, "y'all": true, "doin'": true, "goin'": true, "havin'": true, "lovin'": true,
	"nothin'": true, "nuthin'": true, "somethin'": true, "’bout": true, "’cause": true, "’em": true,
	"o’clock": true, "ma’am": true, "''": true, "C++": true, "and/or": true,
}

// mergeSpecials are punctuation exceptions (emoticons, "”") that spaCy re-joins after
// splitting affixes.
var mergeSpecials = map[string]bool{
	"''": true, ":)": true, ":(": true, "):": true, "(:": true, ":-)": true, ":-(": true, ";)": true,
	";-)": true, ":D": true, ":P": true, ":p": true, "=)": true, "=(": true, ":/": true, ":|": true,
	"<3": true, ":]": true, ":o": true, ":O": true, "8)": true, ":3": true, ":0": true, ":1": true,
	":x": true, ":X": true, "=D": true, "(-:": true, ")-:": true, ":>": true, "=]": true, "=[": true,
	"=/": true, "=3": true, "=|": true, ":}": true, ":*": true, "^_^": true, "-_-": true, "o_o": true,
	"O_O": true, "._.": true, "(=": true, "[:": true, "]=": true, "[=": true, "(;": true, ":((": true,
	":))": true, ":-/": true, ":-P": true, ":-D": true, ":-|": true, ":-]": true, ":-}": true, ":-*": true,
	":-o": true, ":-O": true, ":-p": true, ":-x": true, ":-X": true, ":-3": true, ":->": true, ":-0": true,
	"(o:": true, ":o)": true, "(-;": true, "(-8": true, "8-)": true, "8-D": true, ":()": true, ";_;": true,
	"</3": true, "<33": true, ">:(": true, ">:o": true, "@_@": true, "\\\")": true,
}

// wholeSpecials is the union of abbreviations, oneTokenSpecials and mergeSpecials.
var wholeSpecials = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range []map[string]bool{abbreviations, oneTokenSpecials, mergeSpecials} {
		for k := range t {
			m[k] = true
		}
	}
	return m
}()

func isAbbreviation(s string) bool {
	if len(s) > 9 {
		return false
	}
	if wholeSpecials[s] {
		return true
	}
	// single lower-case letter (or ä ö ü) followed by a period: "a." … "z."
	if len(s) == 2 && s[1] == '.' && s[0] >= 'a' && s[0] <= 'z' {
		return true
	}
	return false
}

// appendSpecial appends the tokens of an exception.
func appendSpecial(dst []string, s string) []string {
	k := specialSplit(s)
	if k <= 0 || k >= len(s) {
		return append(dst, s)
	}
	return append(dst, s[:k], s[k:])
}

// isURL approximates spaCy's URL_MATCH: optional scheme, optional user@, a host name
// with a dot and an alphabetic top-level domain of 2–63 lower-case letters (or an
// IPv4 address), an optional port and an optional path.
func isURL(s string) bool {
	rest := s
	if k := strings.Index(rest, "://"); k >= 2 {
		ok := true
		for _, c := range rest[:k] {
			if !(isAlphaRune(c) || unicode.IsDigit(c) || c == '_' || c == '+' || c == '-' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			rest = rest[k+3:]
		}
	}
	if k := strings.IndexByte(rest, '@'); k > 0 {
		rest = rest[k+1:]
	}
	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' || c == '#' || c == ':' {
			end = i
			break
		}
	}
	host, tail := rest[:end], rest[end:]
	if strings.HasPrefix(tail, ":") {
		j := 1
		for j < len(tail) && tail[j] >= '0' && tail[j] <= '9' {
			j++
		}
		if j < 3 || j > 6 {
			return false
		}
		tail = tail[j:]
		if tail != "" && !strings.ContainsRune("/?#", rune(tail[0])) {
			return false
		}
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	tld := labels[len(labels)-1]
	if n := utf8.RuneCountInString(tld); n >= 2 && n <= 63 {
		allLower := true
		for _, c := range tld {
			if !(unicode.IsLower(c) || isCaselessLetter(c)) {
				allLower = false
				break
			}
		}
		if allLower {
			for _, l := range labels[:len(labels)-1] {
				if l == "" || !hostLabel(l) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func hostLabel(l string) bool {
	for i, c := range l {
		ok := c >= 0xa1 || (c|0x20) >= 'a' && (c|0x20) <= 'z' || c >= '0' && c <= '9'
		if !ok && (c == '_' || c == '-') && i > 0 && i < len(l)-1 {
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}
