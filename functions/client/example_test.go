package client_test

import (
	"fmt"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

// From a notebook cell or a script: deploy, call, submit a job and wait for it with
// a progress line. (Needs a running `golem serve`; GOLEM_URL and GOLEM_API_KEY.)
func Example() {
	c := client.FromEnv()
	src := `package wc

import "strings"

func Handle(text string) (int, error) { return len(strings.Fields(text)), nil }
`
	if _, err := c.Deploy("wc", src, api.Limits{TimeoutMS: 10_000, MemoryMB: 256}); err != nil {
		fmt.Println(err) // a compile error comes back here, with the compiler's message
		return
	}
	var n int
	_ = c.Call("wc", "three little words", &n)

	id, _ := c.Submit("wc", "a longer text for a batch job", &client.SubmitOptions{IdempotencyKey: "wc-1"})
	job, _ := c.WaitProgress(id, time.Minute, func(j *api.Job) {
		fmt.Printf("%s %.0f%% %s\n", j.Status, 100*j.Progress, j.Note)
	})
	fmt.Println(n, job.Status, string(job.Result))
}
