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
	n := len(sentenceStarts(Words(text)))
	if n == 0 {
		return 1
	}
	return n
}

// Sentences splits text into sentences the way datatrove's split_into_sentences does
// for English: each sentence runs up to the start of the next one, so the pieces
// concatenate back to text.
func Sentences(text string) []string {
	words := Words(text)
	starts := sentenceStarts(words)
	if len(starts) <= 1 {
		return []string{text}
	}
	// byte offset of each word in text (words are substrings of text, in order)
	offs := make([]int, len(words))
	pos := 0
	for i, w := range words {
		k := strings.Index(text[pos:], w)
		offs[i] = pos + k
		pos += k + len(w)
	}
	out := make([]string, 0, len(starts))
	prev := 0
	for _, s := range starts[1:] {
		// a sentence ends where its last token ends (plus the whitespace token spaCy attaches)
		end := offs[s-1] + len(words[s-1])
		out = append(out, text[prev:end])
		prev = end
	}
	return append(out, text[prev:])
}
