// Package lmlib is the library golem notebooks and functions call, one package per
// stage of building a language model:
//
//	data      readers and writers: text, JSONL(.gz/.zst), WARC/WET, Parquet -> stream of Doc
//	clean     HTML extraction, normalisation, quality filters, dedup, PII, stats
//	tokenizer byte-level BPE: train, encode, decode; tiktoken / HF / GPT-2 formats
//	shard     token shards on disk and the resumable shuffled batch loader
//	gpt       the GPT model: parameters, forward/backward ops, CPU (and CUDA) backends
//	train     optimiser, schedule, training loop, checkpoint and resume
//	eval      loss, perplexity, bits-per-byte, lm-eval request types, generation
//	symbols   generated yaegi export tables so notebook cells call lmlib compiled
//
// lmlib's public API has no generic functions: yaegi cannot export them.
package lmlib
