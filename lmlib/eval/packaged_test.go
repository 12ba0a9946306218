package eval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
)

func TestExpandQuizPattern(t *testing.T) {
	for p, want := range map[string]string{
		"{G{eorge} }Washington":  "[George Washington G Washington Washington]",
		"Andorra la V[ell|iej]a": "[Andorra la Vella Andorra la Vieja]",
		"Cal{if{ornia}}|CA":      "[California Calif Cal CA]",
		"forget{-| }me{-| }not":  "[forget-me-not forget-me not forget-menot forget me-not forget me not forget menot forgetme-not forgetme not forgetmenot]",
	} {
		got, err := expandQuizPattern(p)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("expand(%q) = %q, %v; want %s", p, got, err, want)
		}
	}
	if _, err := expandQuizPattern("a{b"); err == nil || !strings.Contains(err.Error(), "{ without }") {
		t.Errorf("unbalanced: %v", err)
	}
	if got := unOverstrike("Asunci'\bon, To\b/rshavn, S~\bao"); got != "Asunción, Tørshavn, São" {
		t.Errorf("overstrike: %q", got)
	}
}

func TestDictEntryParsing(t *testing.T) {
	e, ok := parseDictEntry("Nephrit /neːfrˈɪt/ <masc, n, sg>\n [min.] nephrite <n>, jade <n>, y(o)ustone <n>\n")
	if !ok || e.Headword != "Nephrit" || fmt.Sprint(e.Translations) != "[nephrite jade y(o)ustone]" {
		t.Fatalf("%+v", e)
	}
	e, ok = parseDictEntry("Diese Stadt hat es mir angetan. /dˌiːzə ʃtˈat/\nI fancy that city.\n see: {x}, {y}\n")
	if !ok || e.Headword != "Diese Stadt hat es mir angetan." || fmt.Sprint(e.Translations) != "[I fancy that city.]" {
		t.Fatalf("%+v", e)
	}
	pairs := DictSentences([]DictEntry{e, {Headword: "Haus", Translations: []string{"house"}}}, 4, 16)
	if len(pairs) != 1 || pairs[0].References[0] != "I fancy that city." {
		t.Fatalf("sentences %+v", pairs)
	}
}

func TestGenderSwapPairs(t *testing.T) {
	got := GenderSwapPairs([]string{"women are bad drivers", "men always want sex", "people are people", "she hates her job"})
	want := []string{"Women are bad drivers.|Men are bad drivers.", "Men always want sex.|Women always want sex.", "She hates her job.|He hates his job."}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i, e := range got {
		if e.SentMore+"|"+e.SentLess != want[i] || e.kind() != KindCrowSPairs {
			t.Errorf("%d: %q | %q", i, e.SentMore, e.SentLess)
		}
	}
	if p := ToxicityPrompts([]string{"women are bad drivers", "too short"}); len(p) != 1 || p[0].Prompt != "Women are" {
		t.Errorf("prompts %+v", p)
	}
}

// The packaged sources themselves (installed by scripts/system-deps.sh and
// `make assets-eval`).
func TestPackagedSources(t *testing.T) {
	entries, err := FreeDict("deu-eng")
	if err != nil {
		t.Fatal(err)
	}
	if pairs := DictSentences(entries, 4, 16); len(pairs) < 5000 {
		t.Fatalf("only %d sentence pairs in FreeDict deu-eng", len(pairs))
	}
	items, err := ReadQuiz("/usr/share/games/bsdgames/quiz/europe")
	if err != nil {
		t.Fatalf("%v (apt-get install bsdgames)", err)
	}
	found := false
	for _, it := range items {
		if it.Columns[0][0] == "Austria" {
			found = fmt.Sprint(it.Columns[1]) == "[Vienna Wien]"
		}
	}
	if !found {
		t.Fatal("Austria's capital is not Vienna|Wien in the quiz file")
	}
	root, err := assets.Root()
	if err != nil {
		t.Fatal(err)
	}
	p, err := GenderbenchResource(root, "bbq/Gender_identity.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadBBQ(p)
	if err != nil {
		t.Fatal(err)
	}
	task, err := BBQTask("bbq", recs, 1)
	if err != nil || len(task.Examples) != 5672 {
		t.Fatalf("bbq: %v, %d examples", err, len(task.Examples))
	}
	sq := SQuADFromBBQ("sq", "Gender identity", recs, 1)
	na := 0
	for _, e := range sq.Examples {
		if e.Unanswerable {
			na++
		}
	}
	if na != len(recs)/2 {
		t.Fatalf("%d of %d unanswerable", na, len(recs))
	}
}
