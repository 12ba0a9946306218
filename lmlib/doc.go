// Package lmlib is the library golem notebooks and functions call, one package per
// stage of building a language model:
//
//	data      readers and writers: text, JSONL(.gz/.zst), WARC/WET, Parquet -> stream of Doc;
//	          the parallel, resumable cleaning pipeline
//	clean     HTML extraction, normalisation, quality filters, dedup, PII, stats
//	tokenizer byte-level BPE: train, encode, decode; tiktoken / HF / GPT-2 formats
//	shard     token shards on disk (llm.c's format) and the resumable shuffled batch loader
//	gpt       the GPT-2 engine: parameters, the op sequence, forward/backward kernels on
//	          the CPU (OpenBLAS); gpt/cuda runs the same op sequence on a GPU (build tag cuda)
//	train     AdamW, schedule, training loop, validation, checkpoint and resume
//	eval      loss, perplexity, bits-per-byte, lm-eval request types and tasks, generation
//	finetune  supervised fine-tuning on prompt/completion pairs (completion-only loss)
//	hf        Hugging Face GPT-2 checkpoints (safetensors, config, tokenizer) in and out
//
// What a notebook cell can import — the generated yaegi export tables of lmlib, of
// display and of the function host's client packages — is not a stage: it lives in
// cell/symbols, next to the cell dialect.
//
// lmlib's public API has no generic functions: yaegi cannot export them.
//
// # Long calls and cancellation
//
// Every call that can run for minutes — training (train.Train, train.Resume),
// fine-tuning (finetune.FineTune), tokenizer training (tokenizer.Train,
// TrainReader, TrainFunc), the data pipeline (data.Pipeline.Run), writing shards
// (shard.Writer.AddAll, AddReader, shard.WriteTexts), scoring and generating
// (eval.ModelLM's methods, eval.Generate, eval.DocLoss) — follows one rule:
//
//   - Where its context comes from: the Context field of the call's options struct
//     (train.Options, finetune.Options, tokenizer.TrainOptions,
//     shard.WriterOptions, eval.GenerateOptions), or its first argument where the
//     receiver is a reusable value with no per-call options (data.Pipeline.Run(ctx):
//     a Pipeline is configured once and may run again with Resume). eval.ModelLM
//     carries a Context field because its methods mirror lm-evaluation-harness's
//     three request types, which take none. A call with neither (eval.DocLoss)
//     watches display.Context().
//   - nil means display.Context(): in a notebook, the running cell's context, which
//     Jupyter's interrupt cancels; in a `golem serve` worker, the call's; else
//     context.Background(). So a notebook cell passes nothing and is still
//     interruptible.
//   - The call brackets itself with display.Call, so the kernel can wait for it to
//     stop before it resorts to stopping the interpreter.
//   - It checks the context at a boundary — a training step, a document, a batch of
//     documents, a request, a generated token — never inside a kernel, so a cancel
//     takes effect within one such unit and leaves no half-written file.
//   - Cancelled, a call whose work so far is itself the result returns it with a
//     nil error and says so: training and fine-tuning stop after the last completed
//     step with Result.Interrupted set (the model keeps those weights; with a
//     CheckpointDir, train also writes a checkpoint that Resume continues from). Every other call returns an
//     error wrapping the context's (errors.Is(err, context.Canceled)), together with
//     the partial result its documentation names, if any (data.Pipeline.Run's Stats,
//     eval.Generate's text so far).
//
// Calls bounded by a count their caller chooses (train.Evaluate's batches,
// finetune.CompletionLoss over a held-out set) run inside the long calls above,
// between their context checks, and take no context of their own.
package lmlib
