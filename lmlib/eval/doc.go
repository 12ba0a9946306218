// Package eval measures a language model the way lm-evaluation-harness does, and
// generates text from it.
//
// The three lm-eval request types are the LM interface: Loglikelihood (log P of a
// continuation given a context, and whether greedy decoding would produce it),
// LoglikelihoodRolling (log P of a whole text, in windows when it is longer than the
// model's context) and GenerateUntil. Tasks are JSONL files of one kind each — cloze,
// multiple choice, schema, completion, perplexity, translation, SQuAD v2, alias QA,
// CrowS-Pairs, BBQ and toxicity — and Evaluate scores them with the reference
// definitions: lm-eval's (acc, acc_norm, perplexity, exact_match, bits per byte,
// SQuAD v2, TriviaQA/NQ matching, CrowS-Pairs, BBQ) and sacrebleu's (BLEU, chrF,
// chrF++, TER), each checked against vectors the reference produced. Results come in
// lm-eval's results-JSON layout, renderable as a notebook table, with a CORE score
// (DCLM's centered accuracy) over the cloze, multiple-choice and schema tasks.
//
// Generation (Generate, Complete) samples with temperature, top-k, top-p and a
// repetition penalty through a KV cache, and can be kept from ever writing the words
// of a WordList (GenerateOptions.BadWords). The task builders (FreeDict, ReadQuiz,
// ReadBBQ, GenderSwapPairs, …) make tasks from real data that ships in packages.
package eval
