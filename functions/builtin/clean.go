package builtin

import (
	"context"
	"fmt"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
)

// CleanInput is the input of the built-in function "clean": a batch of documents
// through lmlib/clean's FineWeb chain (extraction, language, Gopher, C4, FineWeb
// quality, MinHash dedup within the batch, PII).
type CleanInput struct {
	Docs      []*data.Doc `json:"docs"`
	HTML      bool        `json:"html"`      // the texts are raw HTML: extract first
	Languages []string    `json:"languages"` // default ["en"]
	NoMinHash bool        `json:"no_minhash"`
	NoPII     bool        `json:"no_pii"`
}

// Dropped names a document a step removed and why (datatrove's reason strings).
type Dropped struct {
	ID     string `json:"id"`
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

// CleanOutput is the result of "clean".
type CleanOutput struct {
	Kept    []*data.Doc    `json:"kept"`
	Dropped []Dropped      `json:"dropped"`
	Reasons map[string]int `json:"reasons"`
}

// Clean is the built-in "clean".
func Clean(ctx context.Context, in *CleanInput) (*CleanOutput, error) {
	steps, err := clean.FineWebSteps(clean.FineWebOptions{HTML: in.HTML, Languages: in.Languages, NoMinHash: in.NoMinHash, NoPII: in.NoPII})
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: "clean options: " + err.Error()}
	}
	out := &CleanOutput{Kept: []*data.Doc{}, Dropped: []Dropped{}, Reasons: map[string]int{}}
	for i, d := range in.Docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if d == nil {
			return nil, &functions.CallError{Kind: api.KindInput, Field: "docs", Msg: fmt.Sprintf("input field \"docs\": document %d is null", i)}
		}
		drop, step := "", ""
		for _, s := range steps {
			if drop, err = s.Process(d); err != nil {
				return nil, fmt.Errorf("clean document %q: %s: %w", d.ID, s.Name(), err)
			}
			if drop != "" {
				step = s.Name()
				break
			}
		}
		if drop != "" {
			out.Dropped = append(out.Dropped, Dropped{ID: d.ID, Step: step, Reason: drop})
			out.Reasons[drop]++
		} else {
			out.Kept = append(out.Kept, d)
		}
		if i%16 == 15 || i == len(in.Docs)-1 {
			fn.Progress(ctx, float64(i+1)/float64(len(in.Docs)), fmt.Sprintf("%d of %d documents, %d kept", i+1, len(in.Docs), len(out.Kept)))
		}
	}
	return out, nil
}

func init() {
	functions.Register("clean", "clean a batch of documents with the FineWeb chain (lmlib/clean; datatrove's filters and reasons)", Clean)
}
