package gpt

// Preset is the modern small-LM recipe at one dial, depth, as nanochat sizes its
// models: every switch on (Rotary, RMSNorm, QKNorm, ReLU2, Untied, SoftCap 15, no
// biases) and
//
//	Layers = depth, Width = 32·depth, Heads = depth (head size 32).
//
// nanochat keeps width/depth (the aspect ratio) fixed at 64 with heads of 128; golem
// halves both because its models live on CPU cores: depth 4 is then the quick-start
// and benchmark "baby" shape (4 layers, 4 heads, width 128) that trains in minutes on
// two cores, every width is a multiple of 32 (the C kernels' vector blocks), and depth
// 24 reaches GPT-2 small's width 768. VocabSize (65) and ContextLen (64) are
// DefaultConfig's; set them for the data. train.PresetOptions derives the learning
// rates and the token budget from the same config.
func Preset(depth int) Config {
	return Config{VocabSize: 65, ContextLen: 64, Layers: depth, Heads: depth, Width: 32 * depth,
		Rotary: true, RMSNorm: true, QKNorm: true, ReLU2: true, Untied: true, SoftCap: 15}
}

// Modern reports whether c has any switch of the modern recipe on.
func (c Config) Modern() bool {
	return c.Rotary || c.RMSNorm || c.QKNorm || c.ReLU2 || c.Untied || c.SoftCap > 0
}
