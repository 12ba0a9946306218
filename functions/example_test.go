package functions_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

// A host in-process: deploy Go source, call it, run it as a job. (`golem serve`
// does the same with flags; a notebook cell needs only the client part.)
func Example() {
	dir, _ := os.MkdirTemp("", "golem-example-")
	defer os.RemoveAll(dir)
	cfg := functions.Config{DataDir: dir, APIKeys: []string{"example-key-0123456789"}, Workers: 1}
	workerConfig(&cfg) // here the test binary is the worker; `golem serve` uses `golem worker`
	h, err := functions.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	h.StartJobs()
	srv := httptest.NewServer(h.Handler()) // on 127.0.0.1
	defer srv.Close()

	c := client.New(srv.URL, "example-key-0123456789")
	src := `package greet

type Input struct {
	Name string ` + "`json:\"name\"`" + `
}

func Handle(in Input) (string, error) {
	return "Hello, " + in.Name + "!", nil
}
`
	if _, err := c.Deploy("greet", src, api.Limits{TimeoutMS: 5000}); err != nil {
		fmt.Println(err)
		return
	}
	var out string
	if err := c.Call("greet", map[string]string{"name": "Ada"}, &out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out)

	id, _ := c.Submit("greet", map[string]string{"name": "Grace"}, nil)
	job, _ := c.Wait(id, time.Minute)
	fmt.Println(job.Status, string(job.Result))

	err = c.Call("greet", map[string]any{"name": 42}, &out)
	fmt.Println(err)
	// Output:
	// Hello, Ada!
	// succeeded "Hello, Grace!"
	// golem host: 400 Bad Request: input field "name": JSON number does not fit Go type string (field name)
}
