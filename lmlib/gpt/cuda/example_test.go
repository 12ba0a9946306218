//go:build cuda

package cuda_test

import (
	"fmt"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/gpt/cuda"
)

// Example trains a baby GPT on the GPU for a few steps and brings the weights back
// to a host gpt.Model (for a checkpoint or CPU inference). Built only with -tags cuda
// and run only on a machine with a GPU, so it has no Output comment.
func Example() {
	dev, err := cuda.Open(cuda.Options{TF32: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("training on", dev)
	host, _ := gpt.New(gpt.DefaultConfig(), 1)
	m, err := cuda.New(dev, host)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	B, T := 4, 64
	tokens, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range tokens {
		tokens[i], targets[i] = int32(i%60), int32((i+1)%60)
	}
	for step := 1; step <= 20; step++ {
		m.ZeroGrad()
		loss, err := m.Forward(tokens, targets, B, T)
		if err != nil {
			fmt.Println(err)
			return
		}
		m.Backward()
		m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, step)
		if step%10 == 0 {
			fmt.Printf("step %d loss %.3f\n", step, loss)
		}
	}
	if err := m.SyncToHost(host); err != nil { // host.Params now hold the trained weights
		fmt.Println(err)
	}
}
