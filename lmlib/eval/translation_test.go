package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// sacrebleuVectors is testdata/sacrebleu.json (tools/evalref/gen_sacrebleu.py).
type sacrebleuVectors struct {
	Version string `json:"sacrebleu"`
	Cases   []struct {
		Name string     `json:"name"`
		Hyps []string   `json:"hyps"`
		Refs [][]string `json:"refs"`
		BLEU struct {
			Score      float64   `json:"score"`
			Counts     []int     `json:"counts"`
			Totals     []int     `json:"totals"`
			Precisions []float64 `json:"precisions"`
			BP         float64   `json:"bp"`
			SysLen     int       `json:"sys_len"`
			RefLen     int       `json:"ref_len"`
			Str        string    `json:"str"`
		} `json:"bleu"`
		ChrF      float64 `json:"chrf"`
		ChrFStr   string  `json:"chrf_str"`
		ChrFPP    float64 `json:"chrfpp"`
		ChrFPPStr string  `json:"chrfpp_str"`
		TER       struct {
			Score  float64 `json:"score"`
			Edits  float64 `json:"edits"`
			RefLen float64 `json:"ref_len"`
			Str    string  `json:"str"`
		} `json:"ter"`
	} `json:"cases"`
	Tokens []struct {
		Line string `json:"line"`
		T13a string `json:"13a"`
		TER  string `json:"ter"`
	} `json:"tokens"`
}

func loadSacrebleu(t *testing.T) *sacrebleuVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/sacrebleu.json")
	if err != nil {
		t.Fatal(err)
	}
	var v sacrebleuVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// close to the last bits: the same operations in the same order give the same
// float64, so only a difference in the definitions shows.
func closeTo(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

func TestTokenizersMatchSacrebleu(t *testing.T) {
	v := loadSacrebleu(t)
	for _, c := range v.Tokens {
		if got := Tokenize13a(pyRStrip(c.Line)); got != c.T13a {
			t.Errorf("13a(%q) = %q, sacrebleu %q", c.Line, got, c.T13a)
		}
		if got := strings.Join(pyFields(pyLower(pyRStrip(c.Line))), " "); got != c.TER {
			t.Errorf("tercom(%q) = %q, sacrebleu %q", c.Line, got, c.TER)
		}
	}
}

func TestTranslationMetricsMatchSacrebleu(t *testing.T) {
	v := loadSacrebleu(t)
	for _, c := range v.Cases {
		b, err := BLEU(c.Hyps, c.Refs)
		if err != nil {
			t.Fatal(err)
		}
		want := c.BLEU
		if !closeTo(b.Score, want.Score) || !closeTo(b.BP, want.BP) || b.SysLen != want.SysLen || b.RefLen != want.RefLen ||
			fmt.Sprint(b.Counts[:]) != fmt.Sprint(want.Counts) || fmt.Sprint(b.Totals[:]) != fmt.Sprint(want.Totals) {
			t.Errorf("%s: BLEU %+v, sacrebleu %+v", c.Name, b, want)
		}
		for n := range want.Precisions {
			if !closeTo(b.Precisions[n], want.Precisions[n]) {
				t.Errorf("%s: BLEU precision %d = %v, sacrebleu %v", c.Name, n+1, b.Precisions[n], want.Precisions[n])
			}
		}
		if b.String() != want.Str {
			t.Errorf("%s: %q, sacrebleu %q", c.Name, b.String(), want.Str)
		}
		f, err := ChrF(c.Hyps, c.Refs)
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(f, c.ChrF) || fmt.Sprintf("chrF2 = %.2f", f) != c.ChrFStr {
			t.Errorf("%s: chrF %v, sacrebleu %v (%s)", c.Name, f, c.ChrF, c.ChrFStr)
		}
		fpp, err := ChrFPlusPlus(c.Hyps, c.Refs)
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(fpp, c.ChrFPP) || fmt.Sprintf("chrF2++ = %.2f", fpp) != c.ChrFPPStr {
			t.Errorf("%s: chrF++ %v, sacrebleu %v (%s)", c.Name, fpp, c.ChrFPP, c.ChrFPPStr)
		}
		ter, err := TER(c.Hyps, c.Refs)
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(ter.Score, c.TER.Score) || ter.Edits != c.TER.Edits || !closeTo(ter.RefLen, c.TER.RefLen) || ter.String() != c.TER.Str {
			t.Errorf("%s: TER %+v, sacrebleu %+v", c.Name, ter, c.TER)
		}
	}
}

func TestTranslationMetricsRejectBadInput(t *testing.T) {
	for _, f := range []func([]string, [][]string) error{
		func(h []string, r [][]string) error { _, err := BLEU(h, r); return err },
		func(h []string, r [][]string) error { _, err := ChrF(h, r); return err },
		func(h []string, r [][]string) error { _, err := ChrFPlusPlus(h, r); return err },
		func(h []string, r [][]string) error { _, err := TER(h, r); return err },
	} {
		if err := f([]string{"a", "b"}, [][]string{{"a"}}); err == nil || !strings.Contains(err.Error(), "2 hypotheses but references for 1") {
			t.Errorf("length mismatch: %v", err)
		}
		if err := f([]string{"a"}, [][]string{{}}); err == nil || !strings.Contains(err.Error(), "segment 0 has no reference") {
			t.Errorf("no reference: %v", err)
		}
	}
}
