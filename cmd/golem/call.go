package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/client"
)

func init() {
	register(command{name: "call", summary: "call a function on a golem host: golem call NAME [JSON|-]", run: runCall})
	register(command{name: "jobs", summary: "async jobs on a golem host: golem jobs submit|get|wait|cancel|logs", run: runJobs})
	register(command{name: "deploy", summary: "deploy Go source to a golem host: golem deploy NAME FILE.go", run: runDeploy})
}

// hostFlags are the flags every client command takes.
func hostFlags(fs *flag.FlagSet) (url, key *string) {
	u, k := os.Getenv("GOLEM_URL"), os.Getenv("GOLEM_API_KEY")
	if u == "" {
		u = "http://127.0.0.1:8080"
	}
	return fs.String("url", u, "host URL (env GOLEM_URL)"), fs.String("key", k, "API key (env GOLEM_API_KEY)")
}

// inputArg reads a JSON argument: literal, "-" for stdin, "@file", or none (null).
func inputArg(args []string) (json.RawMessage, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var b []byte
	var err error
	switch a := args[0]; {
	case a == "-":
		b, err = io.ReadAll(os.Stdin)
	case len(a) > 1 && a[0] == '@':
		b, err = os.ReadFile(a[1:])
	default:
		b = []byte(a)
	}
	if err != nil {
		return nil, fmt.Errorf("read input %s: %w", args[0], err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("input %q is not valid JSON", truncate(string(b), 80))
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runCall(args []string) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	url, key := hostFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return errors.New("usage: golem call [--url URL --key KEY] NAME [JSON | - | @file]")
	}
	in, err := inputArg(fs.Args()[1:])
	if err != nil {
		return err
	}
	var out []byte
	if err := client.New(*url, *key).Call(fs.Arg(0), in, &out); err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

func runDeploy(args []string) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	url, key := hostFlags(fs)
	timeout := fs.Duration("timeout", 0, "call timeout (default: the host's)")
	memory := fs.String("memory", "", "memory limit in MiB")
	conc := fs.String("concurrency", "", "concurrent calls per host")
	attempts := fs.String("attempts", "", "job attempts before dead-lettering")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: golem deploy [--url URL --key KEY --timeout D --memory MiB --concurrency N --attempts N] NAME FILE.go")
	}
	limits, err := client.LimitsFromFlags(*timeout, *memory, *conc, *attempts)
	if err != nil {
		return err
	}
	f, err := client.New(*url, *key).DeployFile(fs.Arg(0), fs.Arg(1), limits)
	if err != nil {
		return err
	}
	return printJSON(f)
}

func runJobs(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: golem jobs submit|get|wait|cancel|logs ...")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("jobs "+sub, flag.ContinueOnError)
	url, key := hostFlags(fs)
	idem := fs.String("idempotency-key", "", "submit: the same key gives the same job")
	callback := fs.String("callback", "", "submit: URL POSTed the finished job")
	wait := fs.Bool("wait", false, "submit: wait for the job and print it")
	timeout := fs.Duration("timeout", 0, "wait: give up after this long (0: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	c := client.New(*url, *key)
	need := func(n int, usage string) error {
		if fs.NArg() < n {
			return fmt.Errorf("usage: golem jobs %s", usage)
		}
		return nil
	}
	switch sub {
	case "submit":
		if err := need(1, "submit [--idempotency-key K --callback URL --wait] NAME [JSON | - | @file]"); err != nil {
			return err
		}
		in, err := inputArg(fs.Args()[1:])
		if err != nil {
			return err
		}
		s, err := c.SubmitJob(fs.Arg(0), in, &client.SubmitOptions{IdempotencyKey: *idem, CallbackURL: *callback})
		if err != nil {
			return err
		}
		if !*wait {
			return printJSON(s)
		}
		j, err := c.Wait(s.ID, *timeout)
		if err != nil {
			return err
		}
		return printJSON(j)
	case "get", "wait", "cancel", "logs":
		if err := need(1, sub+" ID"); err != nil {
			return err
		}
		id := fs.Arg(0)
		switch sub {
		case "get":
			j, err := c.Job(id)
			if err != nil {
				return err
			}
			return printJSON(j)
		case "wait":
			last := -1.0
			j, err := c.WaitProgress(id, *timeout, func(j *api.Job) {
				if j.Progress != last {
					last = j.Progress
					fmt.Fprintf(os.Stderr, "%s %3.0f%% %s\n", j.Status, 100*j.Progress, j.Note)
				}
			})
			if err != nil {
				return err
			}
			return printJSON(j)
		case "cancel":
			j, err := c.Cancel(id)
			if err != nil {
				return err
			}
			return printJSON(j)
		default:
			s, err := c.Logs(id)
			if err != nil {
				return err
			}
			fmt.Print(s)
			return nil
		}
	}
	return fmt.Errorf("unknown jobs subcommand %q (submit, get, wait, cancel, logs)", sub)
}
