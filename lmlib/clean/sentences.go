package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentencePunct is spaCy's Sentencizer default punct_chars: a token equal to one of
// these ends a sentence.
const sentencePunct = "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。"

func isSentencePunctToken(tok string) bool {
	if tok == "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(tok)
	if n != len(tok) {
		return false
	}
	if r < 128 {
		return r == '.' || r == '!' || r == '?'
	}
	return strings.ContainsRune(sentencePunct, r)
}

// isPunctToken is spaCy's is_punct: every character is Unicode punctuation (P*).
func isPunctToken(tok string) bool {
	for _, r := range tok {
		if !unicode.IsPunct(r) {
			return false
		}
	}
	return tok != ""
}

// sentenceStarts returns the indexes of the tokens that start a sentence under
// spaCy's rule-based Sentencizer (used by datatrove's split_into_sentences): after a
// token in punct_chars, the next token that is not punctuation starts a sentence.
func sentenceStarts(words []string) []int {
	if len(words) == 0 {
		return nil
	}
	starts := []int{0}
	seenPeriod := false
	for i, w := range words {
		inPunct := isSentencePunctToken(w)
		if seenPeriod && !inPunct && !isPunctToken(w) {
			if i != starts[len(starts)-1] {
				starts = append(starts, i)
			}
			seenPeriod = false
		} else if inPunct {
			seenPeriod = true
		}
	}
	return starts
}

// CountSentences returns how many sentences datatrove's split_into_sentences finds
// in text (English, spaCy's Sentencizer). An empty text counts as one, as there.
func CountSentences(text string) int {
	if !singleSpaced(text) {
		return len(Sentences(text)) // whitespace tokens can start sentences
	}
	n := len(sentenceStarts(Words(text)))
	if n == 0 {
		return 1
	}
	return n
}

// singleSpaced reports text whose only whitespace is single spaces between words, so
// spaCy makes no whitespace tokens of it.
func singleSpaced(text string) bool {
	prevSpace := true // a leading space is a token
	for _, r := range text {
		if pyIsSpace(r) {
			if r != ' ' || prevSpace {
				return false
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	return !prevSpace || text == ""
}

// Sentences splits text into sentences the way datatrove's split_into_sentences does
// for English: each sentence runs from the end of the previous one to the end of its
// last token, the last one to the end of text, so the pieces concatenate back to text.
// As in spaCy, whitespace other than a single space between two words is a token of
// its own, and after a sentence end it starts the next sentence (so an opening quote
// after a blank line belongs to the new sentence).
func Sentences(text string) []string {
	type tok struct {
		start, end int
		ws         bool
	}
	words := Words(text)
	toks := make([]tok, 0, len(words)+8)
	pos := 0
	for _, w := range words {
		k := strings.Index(text[pos:], w)
		st := pos + k
		gap := text[pos:st]
		if gap != "" && gap != " " {
			g := pos
			if len(toks) > 0 && gap[0] == ' ' {
				g++ // one space trails the previous token
			}
			toks = append(toks, tok{g, st, true})
		}
		toks = append(toks, tok{st, st + len(w), false})
		pos = st + len(w)
	}
	if rest := text[pos:]; rest != "" && rest != " " {
		g := pos
		if len(toks) > 0 && rest[0] == ' ' {
			g++
		}
		toks = append(toks, tok{g, len(text), true})
	}
	var ends []int
	seenPeriod := false
	for i, t := range toks {
		w := text[t.start:t.end]
		inPunct := !t.ws && isSentencePunctToken(w)
		if seenPeriod && !inPunct && (t.ws || !isPunctToken(w)) {
			if i > 0 {
				ends = append(ends, toks[i-1].end)
			}
			seenPeriod = false
		} else if inPunct {
			seenPeriod = true
		}
	}
	if len(ends) == 0 {
		return []string{text}
	}
	out := make([]string, 0, len(ends)+1)
	prev := 0
	for _, e := range ends {
		out = append(out, text[prev:e])
		prev = e
	}
	return append(out, text[prev:])
}
