package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/data"
)

// Options controls Evaluate.
type Options struct {
	NumFewshot int    // examples prepended to each context (drawn from the same task)
	Seed       uint64 // few-shot sampling seed (lm-eval's fewshot_seed; default 1234)
	Limit      int    // evaluate at most this many examples per task (0: all)
	Model      string // model description recorded in the results' config
	// Toxicity configures the toxicity kind (word list, samples, sampler).
	Toxicity ToxicityOptions
}

// Results is lm-evaluation-harness's results JSON layout.
type Results struct {
	Results        map[string]map[string]any  `json:"results"`
	Configs        map[string]map[string]any  `json:"configs"`
	Versions       map[string]float64         `json:"versions"`
	NShot          map[string]int             `json:"n-shot"`
	HigherIsBetter map[string]map[string]bool `json:"higher_is_better"`
	NSamples       map[string]map[string]int  `json:"n-samples"`
	Config         map[string]any             `json:"config"`
	Date           float64                    `json:"date"`
	// Groups holds aggregates over tasks in lm-eval's "groups" layout: "core"
	// (CORE, see Core) when a task counts toward it.
	Groups map[string]map[string]any `json:"groups,omitempty"`
	// Core is the CORE score with its per-task table (nil when no task counts).
	Core *Core `json:"core,omitempty"`
}

// TaskVersion is the version recorded for golem's task kinds.
const TaskVersion = 1.0

var higherIsBetter = map[string]bool{
	"acc": true, "acc_norm": true, "acc_per_token": true, "exact_match": true,
	"perplexity": false, "word_perplexity": false, "byte_perplexity": false, "bits_per_byte": false,
	"bleu": true, "chrf": true, "chrf++": true, "ter": false,
	"exact": true, "f1": true, "HasAns_exact": true, "HasAns_f1": true, "NoAns_exact": true, "NoAns_f1": true,
	"best_exact": true, "best_f1": true,
	"likelihood_diff": false, "pct_stereotype": false,
	"accuracy_amb": true, "accuracy_disamb": true, "amb_bias_score": false, "disamb_bias_score": false,
	"toxicity_rate": false, "toxicity_probability": false,
}

// metricHigherIsBetter also knows BBQ's per-category bias scores (lower is better).
func metricHigherIsBetter(name string) bool {
	if hib, ok := higherIsBetter[name]; ok {
		return hib
	}
	return false
}

// Evaluate scores every task with lm and returns lm-eval-style results.
func Evaluate(lm LM, tasks []*Task, opts Options) (*Results, error) {
	if opts.Seed == 0 {
		opts.Seed = 1234
	}
	if opts.NumFewshot < 0 {
		return nil, fmt.Errorf("eval: num fewshot %d is negative", opts.NumFewshot)
	}
	r := &Results{
		Results: map[string]map[string]any{}, Configs: map[string]map[string]any{},
		Versions: map[string]float64{}, NShot: map[string]int{},
		HigherIsBetter: map[string]map[string]bool{}, NSamples: map[string]map[string]int{},
		Config: map[string]any{
			"model": opts.Model, "num_fewshot": opts.NumFewshot, "fewshot_seed": opts.Seed,
			"limit": opts.Limit, "batch_size": 1,
		},
		Date: float64(time.Now().UnixNano()) / 1e9,
	}
	for _, t := range tasks {
		exs := t.Examples
		if len(exs) == 0 {
			return nil, fmt.Errorf("eval task %s: no examples", t.Name)
		}
		if opts.Limit > 0 && len(exs) > opts.Limit {
			exs = exs[:opts.Limit]
		}
		rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5851f42d4c957f2d))
		prefix := func(i int) string { return fewshotPrefix(t, i, opts.NumFewshot, rng) }
		metrics, err := scoreTask(lm, t.Kind, exs, prefix, opts)
		if err != nil {
			return nil, fmt.Errorf("eval task %s: %w", t.Name, err)
		}
		res := map[string]any{"alias": t.Name}
		hib := map[string]bool{}
		for name, m := range metrics {
			res[name+",none"] = jsonNumber(m.value)
			res[name+"_stderr,none"] = jsonNumber(m.stderr)
			hib[name] = metricHigherIsBetter(name)
		}
		r.Results[t.Name] = res
		r.HigherIsBetter[t.Name] = hib
		r.Versions[t.Name] = TaskVersion
		r.NShot[t.Name] = opts.NumFewshot
		r.NSamples[t.Name] = map[string]int{"original": len(t.Examples), "effective": len(exs)}
		r.Configs[t.Name] = map[string]any{
			"task": t.Name, "output_type": outputType(t.Kind), "dataset_path": t.Source,
			"num_fewshot": opts.NumFewshot, "fewshot_delimiter": "\n\n", "target_delimiter": "",
			"metric_list": metricList(metrics), "metadata": map[string]any{"version": TaskVersion},
		}
	}
	if core := coreOf(r, tasks); core != nil {
		r.Core = core
		r.Groups = map[string]map[string]any{"core": {
			"alias": "core", "core,none": jsonNumber(core.Score), "core_stderr,none": "N/A",
		}}
	}
	return r, nil
}

type metric struct{ value, stderr float64 }

// jsonNumber keeps a metric JSON-encodable: NaN and ±Inf (a stderr of one example,
// a perplexity that overflowed) become "N/A", as lm-eval writes them.
func jsonNumber(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "N/A"
	}
	return x
}

func outputType(kind string) string {
	switch kind {
	case KindMultipleChoice, KindSchema, KindCrowSPairs, KindBBQ:
		return "multiple_choice"
	case KindCompletion, KindTranslation, KindSQuAD, KindAliasQA, KindToxicity:
		return "generate_until"
	case KindPerplexity:
		return "loglikelihood_rolling"
	}
	return "loglikelihood"
}

func metricList(m map[string]metric) []map[string]any {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, len(names))
	for i, n := range names {
		out[i] = map[string]any{"metric": n, "higher_is_better": metricHigherIsBetter(n)}
	}
	return out
}

func scoreTask(lm LM, kind string, exs []Example, prefix func(int) string, opts Options) (map[string]metric, error) {
	switch kind {
	case KindCloze:
		reqs := make([]Request, len(exs))
		for i, e := range exs {
			reqs[i] = Request{Context: prefix(i) + e.Context, Continuation: e.Continuation}
		}
		res, err := lm.Loglikelihood(reqs)
		if err != nil {
			return nil, err
		}
		lls, acc := make([]float64, len(res)), make([]float64, len(res))
		for i, r := range res {
			lls[i] = r.LogLikelihood
			if r.IsGreedy {
				acc[i] = 1
			}
		}
		return map[string]metric{
			"acc":        {Mean(acc), MeanStderr(acc)},
			"perplexity": {Perplexity(lls), math.NaN()},
		}, nil
	case KindMultipleChoice:
		var reqs []Request
		for i, e := range exs {
			p := prefix(i)
			for _, c := range e.Choices {
				reqs = append(reqs, Request{Context: p + e.Context, Continuation: c})
			}
		}
		res, err := lm.Loglikelihood(reqs)
		if err != nil {
			return nil, err
		}
		acc, accN, accTok := make([]float64, len(exs)), make([]float64, len(exs)), make([]float64, len(exs))
		k := 0
		for i, e := range exs {
			lls, per := make([]float64, len(e.Choices)), make([]float64, len(e.Choices))
			for j := range e.Choices {
				lls[j], per[j] = res[k].LogLikelihood, perToken(res[k])
				k++
			}
			acc[i], accN[i] = MultipleChoice(lls, e.Choices, *e.Gold)
			if Argmax(per) == *e.Gold {
				accTok[i] = 1
			}
		}
		return map[string]metric{"acc": meanMetric(acc), "acc_norm": meanMetric(accN), "acc_per_token": meanMetric(accTok)}, nil
	case KindCompletion:
		reqs := make([]GenerateRequest, len(exs))
		for i, e := range exs {
			mt := e.MaxTokens
			if mt == 0 {
				mt = 32
			}
			reqs[i] = GenerateRequest{Context: prefix(i) + e.Context, Until: e.Until, MaxTokens: mt}
		}
		gens, err := lm.GenerateUntil(reqs)
		if err != nil {
			return nil, err
		}
		em := make([]float64, len(exs))
		for i, g := range gens {
			em[i] = ExactMatch(g, exs[i].Target)
		}
		return map[string]metric{"exact_match": {Mean(em), MeanStderr(em)}}, nil
	case KindPerplexity:
		texts := make([]string, len(exs))
		words, bytes := make([]float64, len(exs)), make([]float64, len(exs))
		for i, e := range exs {
			texts[i] = e.Text
			words[i] = float64(CountWords(e.Text))
			bytes[i] = float64(len(e.Text))
		}
		lls, err := lm.LoglikelihoodRolling(texts)
		if err != nil {
			return nil, err
		}
		return map[string]metric{
			"word_perplexity": {WeightedPerplexity(lls, words), math.NaN()},
			"byte_perplexity": {WeightedPerplexity(lls, bytes), math.NaN()},
			"bits_per_byte":   {BitsPerByte(lls, bytes), math.NaN()},
		}, nil
	}
	return scoreMoreKinds(lm, kind, exs, prefix, opts)
}

// JSON returns the results as indented JSON.
func (r *Results) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Write saves the results JSON atomically.
func (r *Results) Write(path string) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	return data.WriteFileAtomic(path, append(b, '\n'))
}

// Rows returns lm-eval's table: task, version, n-shot, metric, direction, value, stderr.
func (r *Results) Rows() [][]string {
	var tasks []string
	for t := range r.Results {
		tasks = append(tasks, t)
	}
	sort.Strings(tasks)
	var rows [][]string
	for _, t := range tasks {
		var names []string
		for m := range r.HigherIsBetter[t] {
			names = append(names, m)
		}
		sort.Strings(names)
		for _, m := range names {
			dir := "↓"
			if r.HigherIsBetter[t][m] {
				dir = "↑"
			}
			se := "N/A"
			if v, ok := r.Results[t][m+"_stderr,none"].(float64); ok {
				se = fmt.Sprintf("%.4f", v)
			}
			val := "N/A"
			if v, ok := r.Results[t][m+",none"].(float64); ok {
				val = fmt.Sprintf("%.4f", v)
			}
			rows = append(rows, []string{t, fmt.Sprint(r.Versions[t]), fmt.Sprint(r.NShot[t]), m, dir, val, se})
		}
	}
	return rows
}

// DisplayBundle renders the results table in a notebook.
func (r *Results) DisplayBundle() display.Bundle {
	return display.Table([]string{"Task", "Version", "n-shot", "Metric", "", "Value", "Stderr"}, r.Rows())
}

// String is lm-eval's results table as text.
func (r *Results) String() string { return r.DisplayBundle()["text/plain"].(string) }
