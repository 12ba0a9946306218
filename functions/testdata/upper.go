// upper is the function the tests and the benchmark deploy: it reports progress,
// prints a log line per step and returns the text in upper case.
package upper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions/fn"
)

type Input struct {
	Text    string `json:"text"`
	Steps   int    `json:"steps"`
	SleepMS int    `json:"sleep_ms"`
	Fail    bool   `json:"fail"`
}

type Output struct {
	Upper string `json:"upper"`
	Words int    `json:"words"`
}

func Handle(ctx context.Context, in Input) (Output, error) {
	if in.Fail {
		return Output{}, errors.New("asked to fail")
	}
	for i := 0; i < in.Steps; i++ {
		fn.Progress(ctx, float64(i)/float64(in.Steps), fmt.Sprintf("step %d of %d", i+1, in.Steps))
		fmt.Printf("step %d\n", i+1)
		time.Sleep(time.Duration(in.SleepMS) * time.Millisecond)
	}
	return Output{Upper: strings.ToUpper(in.Text), Words: len(strings.Fields(in.Text))}, nil
}
