package clean

import (
	"strings"
	"testing"
)

func rep(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func cycleWords(n int) string {
	base := []string{"the", "water", "of", "light"}
	ws := make([]string, n)
	for i := range ws {
		ws[i] = base[i%len(base)]
	}
	return strings.Join(ws, " ")
}

// Each threshold just below, at and just above its limit (datatrove's comparisons:
// strict > for maxima, strict < for minima).
func TestGopherQualityThresholds(t *testing.T) {
	only := func(mod func(f *GopherQualityFilter)) *GopherQualityFilter {
		f := &GopherQualityFilter{}
		mod(f)
		return f
	}
	tests := []struct {
		name string
		f    *GopherQualityFilter
		text string
		want string
	}{
		{"min words below", NewGopherQualityFilter(), cycleWords(49), "gopher_short_doc"},
		{"min words at", NewGopherQualityFilter(), cycleWords(50), ""},
		{"max words at", only(func(f *GopherQualityFilter) { f.MaxDocWords = 10 }), cycleWords(10), ""},
		{"max words above", only(func(f *GopherQualityFilter) { f.MaxDocWords = 10 }), cycleWords(11), "gopher_long_doc"},
		{"avg below", only(func(f *GopherQualityFilter) { f.MinAvgWordLength = 3 }), "abc ab", "gopher_below_avg_threshold"},
		{"avg at min", only(func(f *GopherQualityFilter) { f.MinAvgWordLength = 3 }), "abcd ab", ""},
		{"avg at max", only(func(f *GopherQualityFilter) { f.MaxAvgWordLength = 10 }), "abcdefghijk abcdefghi", ""},
		{"avg above", only(func(f *GopherQualityFilter) { f.MaxAvgWordLength = 10 }), "abcdefghijk abcdefghij", "gopher_above_avg_threshold"},
		{"hashes at", only(func(f *GopherQualityFilter) { f.MaxSymbolWordRatio = 0.1 }), strings.Join(rep("aaa", 18), " ") + " # #", ""},
		{"hashes above", only(func(f *GopherQualityFilter) { f.MaxSymbolWordRatio = 0.1 }), strings.Join(rep("aaa", 17), " ") + " # #", "gopher_too_many_hashes"},
		{"ellipsis above", only(func(f *GopherQualityFilter) { f.MaxSymbolWordRatio = 0.1 }), strings.Join(rep("aaa", 8), " ") + " … …", "gopher_too_many_ellipsis"},
		{"bullets at", only(func(f *GopherQualityFilter) { f.MaxBulletLinesRatio = 0.9 }), strings.Join(append(rep("- item", 9), "plain"), "\n"), ""},
		{"bullets above", only(func(f *GopherQualityFilter) { f.MaxBulletLinesRatio = 0.9 }), strings.Join(append(rep("• item", 10), "plain"), "\n"), "gopher_too_many_bullets"},
		{"end ellipsis at", only(func(f *GopherQualityFilter) { f.MaxEllipsisLinesRatio = 0.3 }), strings.Join(append(rep("so it goes...", 3), rep("plain line", 7)...), "\n"), ""},
		{"end ellipsis above", only(func(f *GopherQualityFilter) { f.MaxEllipsisLinesRatio = 0.3 }), strings.Join(append(rep("so it goes…  ", 4), rep("plain line", 6)...), "\n"), "gopher_too_many_end_ellipsis"},
		{"alpha at", only(func(f *GopherQualityFilter) { f.MaxNonAlphaWordsRatio = 0.8 }), strings.Join(append(rep("word", 8), "12", "34"), " "), ""},
		{"alpha below", only(func(f *GopherQualityFilter) { f.MaxNonAlphaWordsRatio = 0.8 }), strings.Join(append(rep("word", 7), "12", "34", "56"), " "), "gopher_below_alpha_threshold"},
		{"stop words at", only(func(f *GopherQualityFilter) { f.MinStopWords = 2; f.StopWords = []string{"the", "of"} }), "the light of day", ""},
		{"stop words below", only(func(f *GopherQualityFilter) { f.MinStopWords = 2; f.StopWords = []string{"the", "of"} }), "the light and day", "gopher_enough_stop_words"},
		{"stop words case-sensitive", only(func(f *GopherQualityFilter) { f.MinStopWords = 2; f.StopWords = []string{"the", "of"} }), "The light Of day", "gopher_enough_stop_words"},
	}
	for _, tc := range tests {
		if got := tc.f.Check(tc.text); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGopherRepetitionThresholds(t *testing.T) {
	lines := func(unique, dups int) string {
		var ls []string
		for i := 0; i < unique; i++ {
			ls = append(ls, "line number "+strings.Repeat("x", i+1))
		}
		for i := 0; i < dups; i++ {
			ls = append(ls, ls[0])
		}
		return strings.Join(ls, "\n")
	}
	lineFrac := &GopherRepetitionFilter{DupLineFrac: 0.3}
	paraFrac := &GopherRepetitionFilter{DupParaFrac: 0.3}
	top2 := func(frac float64) *GopherRepetitionFilter {
		return &GopherRepetitionFilter{TopNGrams: []NGramFrac{{2, frac}}}
	}
	dup5 := func(frac float64) *GopherRepetitionFilter {
		return &GopherRepetitionFilter{DupNGrams: []NGramFrac{{5, frac}}}
	}
	// "ab cd ab cd": top 2-gram "ab cd" twice = 10 of 11 characters
	// "a b c d e a b c d e": the second 5-gram run repeats "abcde" = 5 of 19 characters
	tests := []struct {
		name string
		f    *GopherRepetitionFilter
		text string
		want string
	}{
		{"empty", NewGopherRepetitionFilter(), "", "empty"},
		{"dup lines at", lineFrac, lines(7, 3), ""},
		{"dup lines above", lineFrac, lines(9, 4), "dup_line_frac"},
		{"dup paras at", paraFrac, strings.ReplaceAll(lines(7, 3), "\n", "\n\n"), ""},
		{"dup paras above", paraFrac, strings.ReplaceAll(lines(9, 4), "\n", "\n\n"), "dup_para_frac"},
		{"dup line chars at", &GopherRepetitionFilter{DupLineCharFrac: 5.0 / 17}, "abcde\nxyzab\nabcde", ""},
		{"dup line chars above", &GopherRepetitionFilter{DupLineCharFrac: 5.0/17 - 1e-9}, "abcde\nxyzab\nabcde", "dup_line_char_frac"},
		{"top 2-gram at", top2(10.0 / 11), "ab cd ab cd", ""},
		{"top 2-gram above", top2(10.0/11 - 1e-9), "ab cd ab cd", "top_2_gram"},
		{"dup 5-gram at", dup5(5.0 / 19), "a b c d e a b c d e", ""},
		{"dup 5-gram above", dup5(5.0/19 - 1e-9), "a b c d e a b c d e", "duplicated_5_n_grams"},
	}
	for _, tc := range tests {
		if got := tc.f.Check(tc.text); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFineWebQualityThresholds(t *testing.T) {
	long := func(i int, end string) string {
		return "this is a reasonably long line number " + strings.Repeat("z", i+1) + end
	}
	doc := func(n, punct int) string {
		var ls []string
		for i := 0; i < n; i++ {
			end := ""
			if i < punct {
				end = "."
			}
			ls = append(ls, long(i, end))
		}
		return strings.Join(ls, "\n")
	}
	def := NewFineWebQualityFilter()
	with := func(mod func(f *FineWebQualityFilter)) *FineWebQualityFilter {
		f := NewFineWebQualityFilter()
		mod(f)
		return f
	}
	short := with(func(f *FineWebQualityFilter) { f.ShortLineThr = 2.0 / 3; f.CharDuplicatesRatio = 1; f.NewLineRatio = 1 })
	list := with(func(f *FineWebQualityFilter) { f.LinePunctThr = 0; f.ShortLineThr = 1; f.NewLineRatio = 0.5 })
	tests := []struct {
		name string
		f    *FineWebQualityFilter
		text string
		want string
	}{
		{"empty", def, " \n \n", "empty"},
		{"punct at", def, doc(25, 3), ""},
		{"punct below", def, doc(25, 2), "line_punct_ratio"},
		{"punct zero excluded", with(func(f *FineWebQualityFilter) { f.LinePunctExcludeZero = true }), doc(5, 0), ""},
		{"short lines at", short, "short one.\nshort two.\n" + long(0, "."), ""},
		{"short lines above", short, "short one.\nshort two.\nshort three.", "short_line_ratio"},
		{"char dup above", def, doc(10, 10) + "\n" + long(0, "."), "char_dup_ratio"},
		{"list ratio at", list, "alpha\nbeta", ""},
		{"list ratio above", list, "alpha\nbeta\ngamma", "list_ratio"},
	}
	for _, tc := range tests {
		if got := tc.f.Check(tc.text); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestC4Thresholds(t *testing.T) {
	sent := "The light was bent by the prism."
	tests := []struct {
		name, text, want, out string
	}{
		{"sentences at", strings.Join(rep(sent, 5), "\n"), "", strings.Join(rep(sent, 5), "\n")},
		{"sentences below", strings.Join(rep(sent, 4), "\n"), "too_few_sentences", ""},
		{"two sentences on a line count twice", strings.Join(rep(sent+" "+sent, 3), "\n"), "", strings.Join(rep(sent+" "+sent, 3), "\n")},
		{"words per line at/below", strings.Join(rep(sent, 5), "\n") + "\nTwo words.\nThree small words.", "", strings.Join(rep(sent, 5), "\n") + "\nThree small words."},
		{"no terminal punct and ellipsis", strings.Join(rep(sent, 5), "\n") + "\nno end here\nand so on...", "", strings.Join(rep(sent, 5), "\n")},
		{"word length at", strings.Join(rep(sent, 5), "\n") + "\nsee " + strings.Repeat("x", 1000) + " here.", "", strings.Join(rep(sent, 5), "\n") + "\nsee " + strings.Repeat("x", 1000) + " here."},
		{"word length above", strings.Join(rep(sent, 5), "\n") + "\nsee " + strings.Repeat("x", 1001) + " here.", "", strings.Join(rep(sent, 5), "\n")},
		{"javascript and policy lines", strings.Join(rep(sent, 5), "\n") + "\nPlease enable JavaScript now.\nRead our Privacy Policy today.", "", strings.Join(rep(sent, 5), "\n")},
		{"citations removed", strings.Join(rep("The prism bent it[1].", 5), "\n"), "", strings.Join(rep("The prism bent it.", 5), "\n")},
		{"lorem ipsum", strings.Join(rep(sent, 5), "\n") + "\nLorem ipsum dolor sit.", "lorem_ipsum", ""},
		{"curly bracket", strings.Join(rep(sent, 5), "\n") + "\nfunc main() { return }.", "curly_bracket", ""},
	}
	f := NewC4QualityFilter()
	for _, tc := range tests {
		out, got := f.Apply(tc.text)
		if got != tc.want || (got == "" && out != tc.out) {
			t.Errorf("%s: Apply = %q, %q; want %q, %q", tc.name, out, got, tc.out, tc.want)
		}
	}
}
