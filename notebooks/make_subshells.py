"""Writes notebooks/subshells.ipynb: a training run's live progress (train.Current)
read while it trains, as a subshell console does. papermill runs one shell, so
the run trains in a goroutine here; the markdown says how to do it from a
JupyterLab subshell console instead. Run: python notebooks/make_subshells.py"""

from nbgen import code, md, write

CELLS = [
    ("markdown", """# Look at a training run while it trains

JupyterLab 4.4+ opens a **subshell console** on this notebook's kernel (right-click the notebook tab →
*New Subshell Console*). Its cells run on a subshell (JEP 91) and are answered while the notebook's own
cell is still busy in `train.Train`, in the same interpreter: they see the notebook's variables.

`train.Current()` is the run started last; its `Snapshot` and `Chart` are copies taken under a lock, and
`WithModel` runs a function on the model between two optimizer steps. Anything else the training loop
writes (the model's weights outside `WithModel`, the run's loaders) is not safe to read while it runs —
see docs/kernel.md, *Subshells*.

papermill runs one shell, so in this notebook the run trains in a goroutine instead, and the cells after
it are the ones you would type in the subshell console."""),
    ("code", "steps := 300", ["parameters"]),
    ("code", """import (
	"fmt"
	"time"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
toks := make([]int32, 1<<15)
for i := range toks {
	toks[i] = int32((i*7 + i/61) % 61)
}
loader, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 8, T: 32, Shuffle: true, Seed: 1})
evalLoader, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 8, T: 32})
model, _ := gpt.New(gpt.Config{VocabSize: 64, ContextLen: 32, Layers: 2, Heads: 2, Width: 64, Bias: true}, 1)"""),
    ("markdown", "The long cell (in a notebook: `res, err := train.Train(…)` in the main shell):"),
    ("code", """done := make(chan error, 1)
before := train.Current()
go func() {
	_, err := train.Train(model, loader, nil, train.Options{MaxSteps: steps, Quiet: true})
	done <- err
}()
for train.Current() == before {
	time.Sleep(time.Millisecond)
}
p := train.Current()"""),
    ("markdown", "What a subshell console asks while it trains — the progress so far:"),
    ("code", """for p.Snapshot().Step < 5 {
	time.Sleep(time.Millisecond)
}
p.Snapshot()"""),
    ("markdown", "An evaluation on a batch of our own, between two steps (the optimizer waits for it):"),
    ("code", """var vl float32
err := p.WithModel(func(m *gpt.Model) error {
	var e error
	vl, e = train.Evaluate(m, evalLoader, 2)
	return e
})
fmt.Printf("validation loss at step %d: %.3f (error: %v)\\n", p.Snapshot().Step, vl, err)"""),
    ("markdown", "The loss curve so far:"),
    ("code", "p.Chart()"),
    ("markdown", "When the run is over, the snapshot says so:"),
    ("code", """err = <-done
s := p.Snapshot()
fmt.Println("finished:", !s.Running, s.Step, len(s.History), err)"""),
]


write("subshells", [md(src) if kind == "markdown" else code(src, *tags) for kind, src, *tags in CELLS])
