// Package eval measures a language model the way lm-evaluation-harness does, and
// generates text from it.
//
// The three lm-eval request types are the LM interface: Loglikelihood (log P of a
// continuation given a context, and whether greedy decoding would produce it),
// LoglikelihoodRolling (log P of a whole text, in windows when it is longer than the
// model's context) and GenerateUntil. Tasks are JSONL files of cloze, multiple-choice
// and completion examples; Evaluate scores them with lm-eval's metric definitions
// (acc, acc_norm, perplexity, exact_match, word/byte perplexity, bits per byte) and
// returns results in lm-eval's results-JSON layout, renderable as a notebook table.
package eval
