package tokenizer

import "github.com/golem-lm/golem/lmlib/shard"

// The shard writer takes a Tokenizer as its Encoder.
var _ shard.Encoder = (*Tokenizer)(nil)
