// Package builtin is lmlib's pipeline stages as built-in functions of the golem
// function host: tokenize and detokenize (lmlib/tokenizer), clean (lmlib/clean's
// FineWeb chain), train (lmlib/train, a character-level GPT) and generate
// (lmlib/eval with a KV cache). Each registers itself with functions.Register in
// its init, so a program serves them by importing this package:
//
//	import _ "github.com/golem-lm/golem/functions/builtin"
//
// The host decodes the request body strictly into the function's input type, and
// a *functions.CallError of kind input (with the field at fault) answers 400.
package builtin

import (
	"errors"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/models"
)

// modelError turns the model store's errors about a name into input errors on
// the field "model".
func modelError(err error) error {
	if errors.Is(err, models.ErrBadName) || errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrExists) {
		return &functions.CallError{Kind: api.KindInput, Field: "model", Msg: "input field \"model\": " + err.Error()}
	}
	return err
}
