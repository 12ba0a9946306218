# lmlib/data: readers, writers, pipeline (area "data").
FUZZ_TARGETS += ./lmlib/data:FuzzWARCReader ./lmlib/data:FuzzJSONLReader ./lmlib/data:FuzzJSONObject
