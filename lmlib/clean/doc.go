// Package clean turns raw documents into clean training text: HTML extraction,
// Unicode and whitespace normalisation, the quality filters of Gopher, C4 and FineWeb
// (datatrove's defaults and semantics), URL, language, length and word-list filters,
// exact, MinHash-LSH and sentence-level deduplication, and PII replacement.
//
// Every stage is a data.Step, safe for concurrent Process calls, so it plugs into
// data.Pipeline; FineWebSteps returns the whole FineWeb chain in order. Filters
// report why they drop a document with datatrove's reason strings
// ("gopher_short_doc", "line_punct_ratio", …). Words re-implements the spaCy English
// tokenizer that datatrove's filters count words with; the tests check agreement
// with datatrove itself on a corpus built from the texts that ship with the tools.
package clean
