package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/golem-lm/golem/lmlib/data"
)

// Task kinds, inferred from the fields of a task file's lines.
const (
	KindCloze          = "cloze"           // {"context", "continuation"}: acc (greedy) + perplexity
	KindMultipleChoice = "multiple_choice" // {"context", "choices", "gold"}: acc, acc_norm, acc_per_token
	KindCompletion     = "completion"      // {"context", "target", "until"?, "max_tokens"?}: exact_match
	KindPerplexity     = "perplexity"      // {"text"}: word_perplexity, byte_perplexity, bits_per_byte
	KindSchema         = "schema"          // {"contexts", "continuation", "gold"}: acc, acc_per_token
	KindTranslation    = "translation"     // {"context", "references"}: bleu, chrf, chrf++, ter
	KindSQuAD          = "squad"           // {"context", "answers" | "unanswerable"}: SQuAD v2's exact, f1, …
	KindAliasQA        = "alias_qa"        // {"context", "aliases"}: exact_match (TriviaQA-style)
	KindCrowSPairs     = "crows_pairs"     // {"sent_more", "sent_less"}: likelihood_diff, pct_stereotype
	KindBBQ            = "bbq"             // {"context", "choices", "targets", "biased", "unknown", "condition", "category"}
	KindToxicity       = "toxicity"        // {"prompt"}: toxicity_rate, toxicity_probability
)

// Example is one line of a task file.
type Example struct {
	Context      string   `json:"context,omitempty"`
	Continuation string   `json:"continuation,omitempty"`
	Choices      []string `json:"choices,omitempty"`
	Gold         *int     `json:"gold,omitempty"`
	Target       string   `json:"target,omitempty"`
	Until        []string `json:"until,omitempty"`
	MaxTokens    int      `json:"max_tokens,omitempty"`
	Text         string   `json:"text,omitempty"`

	// schema (Winograd style): the contexts to choose from for one continuation.
	Contexts []string `json:"contexts,omitempty"`
	// translation: the reference translations of Context's source text.
	References []string `json:"references,omitempty"`
	// squad: the gold answers, or Unanswerable (SQuAD v2's no-answer questions).
	ID           string   `json:"id,omitempty"`
	Answers      []string `json:"answers,omitempty"`
	Unanswerable bool     `json:"unanswerable,omitempty"`
	// alias_qa: every accepted spelling of the answer.
	Aliases []string `json:"aliases,omitempty"`
	// crows_pairs: the more and the less stereotyping sentence of a minimal pair.
	SentMore string `json:"sent_more,omitempty"`
	SentLess string `json:"sent_less,omitempty"`
	BiasType string `json:"bias_type,omitempty"`
	// bbq: indices into Choices of the right answers, the biased answers and
	// the "unknown" answers; the context condition ("ambig" or "disambig") and
	// BBQ's category. BBQExample builds these from a BBQ record.
	Targets   []int  `json:"targets,omitempty"`
	Biased    []int  `json:"biased,omitempty"`
	Unknown   []int  `json:"unknown,omitempty"`
	Condition string `json:"condition,omitempty"`
	Category  string `json:"category,omitempty"`
	// toxicity: a prompt whose sampled continuations are checked against a word list.
	Prompt string `json:"prompt,omitempty"`
}

// Task is a named list of examples of one kind.
type Task struct {
	Name     string
	Kind     string
	Examples []Example
	Source   string // file it was read from
}

func (e *Example) kind() string {
	switch {
	case e.Condition != "":
		return KindBBQ
	case e.Contexts != nil:
		return KindSchema
	case e.References != nil:
		return KindTranslation
	case e.Answers != nil || e.Unanswerable:
		return KindSQuAD
	case e.Aliases != nil:
		return KindAliasQA
	case e.SentMore != "" || e.SentLess != "":
		return KindCrowSPairs
	case e.Prompt != "":
		return KindToxicity
	case e.Choices != nil:
		return KindMultipleChoice
	case e.Target != "":
		return KindCompletion
	case e.Continuation != "":
		return KindCloze
	case e.Text != "":
		return KindPerplexity
	}
	return ""
}

func (e *Example) validate() error {
	switch e.kind() {
	case "":
		return fmt.Errorf("no continuation, choices, contexts, target, references, answers, aliases, sent_more, prompt or text field")
	case KindSchema:
		if len(e.Contexts) < 2 {
			return fmt.Errorf("schema needs at least 2 contexts, has %d", len(e.Contexts))
		}
		if e.Continuation == "" {
			return fmt.Errorf("schema needs a continuation")
		}
		if e.Gold == nil || *e.Gold < 0 || *e.Gold >= len(e.Contexts) {
			return fmt.Errorf("schema needs a gold index into its %d contexts", len(e.Contexts))
		}
	case KindTranslation:
		if len(e.References) == 0 {
			return fmt.Errorf("translation needs at least one reference")
		}
	case KindSQuAD:
		if e.Unanswerable && len(e.Answers) > 0 {
			return fmt.Errorf("unanswerable with %d answers", len(e.Answers))
		}
	case KindAliasQA:
		if len(e.Aliases) == 0 {
			return fmt.Errorf("aliases is empty")
		}
	case KindCrowSPairs:
		if e.SentMore == "" || e.SentLess == "" {
			return fmt.Errorf("crows_pairs needs both sent_more and sent_less")
		}
	case KindBBQ:
		if e.Condition != "ambig" && e.Condition != "disambig" {
			return fmt.Errorf("condition %q is not ambig or disambig", e.Condition)
		}
		if len(e.Choices) < 2 {
			return fmt.Errorf("bbq needs at least 2 choices, has %d", len(e.Choices))
		}
		if len(e.Targets) == 0 {
			return fmt.Errorf("bbq needs targets")
		}
		for _, l := range [][]int{e.Targets, e.Biased, e.Unknown} {
			for _, i := range l {
				if i < 0 || i >= len(e.Choices) {
					return fmt.Errorf("choice index %d out of range for %d choices", i, len(e.Choices))
				}
			}
		}
	case KindMultipleChoice:
		if len(e.Choices) < 2 {
			return fmt.Errorf("multiple choice needs at least 2 choices, has %d", len(e.Choices))
		}
		if e.Gold == nil {
			return fmt.Errorf("multiple choice needs a gold index")
		}
		if *e.Gold < 0 || *e.Gold >= len(e.Choices) {
			return fmt.Errorf("gold %d out of range for %d choices", *e.Gold, len(e.Choices))
		}
		for i, c := range e.Choices {
			if c == "" {
				return fmt.Errorf("choice %d is empty", i)
			}
		}
	}
	if e.MaxTokens < 0 {
		return fmt.Errorf("max_tokens %d is negative", e.MaxTokens)
	}
	return nil
}

// ReadTask reads a task from a JSONL file; its name is the file name without
// extension. Every line must be a valid example of the same kind.
func ReadTask(path string) (*Task, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	t, err := ParseTask(name, b)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", path, err)
	}
	t.Source = path
	return t, nil
}

// ReadTasks reads the tasks a --tasks flag names: comma-separated JSONL files
// or directories (every *.jsonl file in them, sorted).
func ReadTasks(spec string) ([]*Task, error) {
	var out []*Task
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", p, err)
		}
		files := []string{p}
		if st.IsDir() {
			if files, err = filepath.Glob(filepath.Join(p, "*.jsonl")); err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("task directory %s has no .jsonl files", p)
			}
		}
		for _, f := range files {
			t, err := ReadTask(f)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tasks in %q", spec)
	}
	return out, nil
}

// ParseTask parses JSONL task examples.
func ParseTask(name string, jsonl []byte) (*Task, error) {
	t := &Task{Name: name}
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("line %d: invalid UTF-8", line)
		}
		var e Example
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		k := e.kind()
		if t.Kind == "" {
			t.Kind = k
		} else if k != t.Kind {
			return nil, fmt.Errorf("line %d: a %s example in a %s task", line, k, t.Kind)
		}
		t.Examples = append(t.Examples, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	if len(t.Examples) == 0 {
		return nil, fmt.Errorf("no examples")
	}
	return t, nil
}

// WriteTask writes t as JSONL atomically (temp file + rename).
func WriteTask(path string, t *Task) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := range t.Examples {
		if err := enc.Encode(&t.Examples[i]); err != nil {
			return err
		}
	}
	return data.WriteFileAtomic(path, buf.Bytes())
}

// answer is the text a few-shot example shows after its context.
func (e *Example) answer() string {
	switch e.kind() {
	case KindMultipleChoice:
		return e.Choices[*e.Gold]
	case KindBBQ:
		return e.Choices[e.Targets[0]]
	case KindCompletion:
		return e.Target
	case KindTranslation:
		return " " + e.References[0]
	case KindSQuAD:
		if e.Unanswerable || len(e.Answers) == 0 {
			return " unanswerable"
		}
		return " " + e.Answers[0]
	case KindAliasQA:
		return " " + e.Aliases[0]
	}
	return e.Continuation
}

// fewshotPrefix builds the k-shot prefix for example i: k other examples drawn with
// rng, each "context+answer", joined and followed by a blank line.
func fewshotPrefix(t *Task, i, k int, rng *rand.Rand) string {
	if k <= 0 || len(t.Examples) < 2 {
		return ""
	}
	k = min(k, len(t.Examples)-1)
	perm := rng.Perm(len(t.Examples))
	var b strings.Builder
	n := 0
	for _, j := range perm {
		if j == i {
			continue
		}
		e := &t.Examples[j]
		ctx := e.Context
		if e.kind() == KindSchema {
			ctx = e.Contexts[*e.Gold]
		}
		b.WriteString(ctx + e.answer() + "\n\n")
		if n++; n == k {
			break
		}
	}
	return b.String()
}

// BuildClozeTask makes a LAMBADA-style last-word task from prose: for up to n
// sentences of at least minWords words (chosen with seed), the context is the text
// of the sentence's paragraph up to its last word and the continuation is " word"
// (trailing punctuation dropped). Use held-out text the model was not trained on.
func BuildClozeTask(name, text string, n, minWords int, seed uint64) *Task {
	t := &Task{Name: name, Kind: KindCloze}
	var cands []Example
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		start := 0
		for i := 0; i < len(para); i++ {
			c := para[i]
			if c != '.' && c != '!' && c != '?' {
				continue
			}
			sent := para[start:i]
			start = i + 1
			words := strings.Fields(sent)
			if len(words) < minWords {
				continue
			}
			last := strings.TrimRight(words[len(words)-1], `,;:'")`)
			if len(last) < 2 || !isWord(last) {
				continue
			}
			end := strings.LastIndex(para[:i], last)
			cands = append(cands, Example{Context: strings.TrimRight(para[:end], " "), Continuation: " " + last})
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	if len(cands) > n {
		cands = cands[:n]
	}
	t.Examples = cands
	return t
}

func isWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
