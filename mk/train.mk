# area "train": token shards (lmlib/shard) and the training loop (lmlib/train).
FUZZ_TARGETS += ./lmlib/shard:FuzzHeader
FUZZ_TARGETS += ./lmlib/train:FuzzReadSafetensors
