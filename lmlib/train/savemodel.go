package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/gpt"
)

// SaveModel writes m as a weights-only checkpoint in dir: model.safetensors and a
// state.json with the config (step as given), plus extra files (name → content),
// e.g. tokenizer.json or a provenance record. It is what LoadModel, the golem CLI
// and Hugging Face import read. dir must not exist; it appears complete or not at
// all (written in a temporary directory beside it, fsynced, renamed).
func SaveModel(m *gpt.Model, dir string, step int, meta map[string]string, extra map[string][]byte) error {
	fail := func(err error) error { return fmt.Errorf("save model %s: %w", dir, err) }
	if _, err := os.Stat(dir); err == nil {
		return fail(fmt.Errorf("already exists"))
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	ts := m.Tensors()
	nts := make([]NamedTensor, len(ts))
	for i, t := range ts {
		nts[i] = NamedTensor{Name: t.Name, Shape: t.Shape, Data: m.Params[t.Offset : t.Offset+t.Size]}
	}
	md := map[string]string{"format": "pt", "producer": "golem"}
	for k, v := range meta {
		md[k] = v
	}
	if err := WriteSafetensors(filepath.Join(tmp, "model.safetensors"), nts, md); err != nil {
		return fail(err)
	}
	st := State{Format: CheckpointFormat, Step: step, Config: m.Config, SavedAt: time.Now().UTC()}
	js, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fail(err)
	}
	if err := data.WriteFileAtomic(filepath.Join(tmp, "state.json"), js); err != nil {
		return fail(err)
	}
	for name, b := range extra {
		if name != filepath.Base(name) || name == "state.json" || name == "model.safetensors" {
			return fail(fmt.Errorf("extra file name %q is not allowed", name))
		}
		if err := data.WriteFileAtomic(filepath.Join(tmp, name), b); err != nil {
			return fail(err)
		}
	}
	data.SyncDir(tmp)
	if err := os.Rename(tmp, dir); err != nil {
		return fail(err)
	}
	data.SyncDir(filepath.Dir(dir))
	return nil
}
