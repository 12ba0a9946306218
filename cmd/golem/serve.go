package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	_ "github.com/golem-lm/golem/functions/builtin" // lmlib's stages as built-in functions
	"github.com/golem-lm/golem/functions/sandbox"
	"github.com/golem-lm/golem/functions/worker"
)

func init() {
	register(command{name: "serve", summary: "run the function host (HTTP API, jobs on NATS JetStream)", run: runServe})
	register(command{name: "worker", summary: "run one function worker process (started by golem serve)", run: func(args []string) error {
		return worker.RunProcess()
	}})
	register(command{name: "keys", summary: "make an API key for golem serve: keys new --scopes admin|invoke[:NAME]|jobs:read|metrics", run: runKeys})
}

// runKeys makes a key: the secret goes to the user (stdout), the line with its
// hash into the host's key file (golem serve --keys FILE).
func runKeys(args []string) error {
	if len(args) == 0 || args[0] != "new" {
		return errors.New("usage: golem keys new --scopes SCOPE[,SCOPE...] [--name NAME] [--file KEYFILE]")
	}
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	scopes := fs.String("scopes", "", "comma-separated scopes: admin, invoke, invoke:NAME, jobs:read, metrics")
	name := fs.String("name", "", "a name for the key (shown in 403 answers and logs)")
	file := fs.String("file", "", "append the key's line to this key `FILE` (else print it)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *scopes == "" {
		return errors.New("--scopes is required (admin, invoke, invoke:NAME, jobs:read, metrics)")
	}
	secret, line, err := functions.NewKey(strings.Split(*scopes, ","), *name)
	if err != nil {
		return err
	}
	if *file != "" {
		f, err := os.OpenFile(*file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("key file: %w", err)
		}
		if _, err := fmt.Fprintln(f, line); err != nil {
			f.Close()
			return fmt.Errorf("key file %s: %w", *file, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("key file %s: %w", *file, err)
		}
		fmt.Fprintf(os.Stderr, "added to %s: %s\n", *file, line)
	} else {
		fmt.Fprintf(os.Stderr, "key-file line (for golem serve --keys FILE): %s\n", line)
	}
	fmt.Println(secret)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", "golem-data", "data directory (embedded NATS JetStream store)")
	natsURL := fs.String("nats", "", "external NATS URL (nats://host:4222) instead of the embedded server; several hosts may share it")
	var keys stringList
	fs.Var(&keys, "api-key", "accepted API key with the admin scope (bearer token); repeat for several; also GOLEM_API_KEYS=k1,k2")
	keyFile := fs.String("keys", "", "key `FILE` of scoped keys (lines \"sha256:<hex> <scopes> [name]\"; golem keys new makes them)")
	noAuth := fs.Bool("insecure-no-auth", false, "serve without API keys (local experiments only)")
	sandboxMode := fs.String("sandbox", sandbox.ModeBwrap, "how workers are confined: bwrap (bubblewrap + cgroups + seccomp) or none (unconfined: only for code you trust)")
	sandboxUID := fs.Int("sandbox-uid", 65534, "uid (and gid) sandboxed workers run as when the host runs as root")
	workerPids := fs.Int("worker-pids", 256, "pids.max of each worker's cgroup (threads count too)")
	workerCPUs := fs.Float64("worker-cpus", 1, "CPU quota of each worker, in cores")
	maxTimeout := fs.Duration("max-timeout", 15*time.Minute, "ceiling on a deployed function's timeout")
	maxMemory := fs.Int64("max-memory", 8192, "ceiling on a deployed function's memory, MiB")
	maxAttempts := fs.Int("max-attempts", 10, "ceiling on a deployed function's job attempts")
	workers := fs.Int("workers", 0, "worker processes (concurrent user-function calls and jobs); default GOMAXPROCS")
	maxBody := fs.Int64("max-body", 8<<20, "request body limit in bytes (413 beyond)")
	maxInflight := fs.Int("max-inflight", 64, "concurrent calls before /_/ready and new calls answer 429")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "how long a job may go without a heartbeat before another host takes it")
	timeout := fs.Duration("timeout", time.Minute, "default function timeout")
	memory := fs.Int64("memory", 1024, "default worker memory limit in MiB")
	attempts := fs.Int("attempts", 3, "default attempts of a job before it is dead-lettered")
	drain := fs.Duration("drain", 30*time.Second, "how long SIGTERM waits for running sync calls")
	models := fs.String("models", "", "directory of checkpoints (one per subdirectory) the built-in generate serves by name; default DATA/models")
	files := fs.String("files", "", "the only directory the built-in clean-task may read and write (golem clean --queue paths are relative to it); none: clean-task is refused")
	verbose := fs.Bool("v", false, "debug logging (function output of sync calls too)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if env := os.Getenv("GOLEM_API_KEYS"); env != "" {
		for _, k := range strings.Split(env, ",") {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
	}
	var scoped []functions.Key
	if *keyFile != "" {
		k, err := functions.ReadKeyFile(*keyFile)
		if err != nil {
			return err
		}
		scoped = k
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	h, err := functions.New(functions.Config{DataDir: *data, NatsURL: *natsURL, APIKeys: keys, Keys: scoped, NoAuth: *noAuth,
		Workers: *workers, MaxBodyBytes: *maxBody, MaxInflight: *maxInflight, AckWait: *ackWait, Logger: logger, ModelsDir: *models, FilesDir: *files,
		Defaults: api.Limits{TimeoutMS: timeout.Milliseconds(), MemoryMB: *memory, MaxAttempts: *attempts},
		Ceilings: api.Limits{TimeoutMS: maxTimeout.Milliseconds(), MemoryMB: *maxMemory, MaxAttempts: *maxAttempts},
		Sandbox:  sandbox.Config{Mode: *sandboxMode, UID: *sandboxUID, GID: *sandboxUID, Pids: *workerPids, CPUs: *workerCPUs}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		h.Close()
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	if *noAuth {
		logger.Warn("serving WITHOUT authentication (--insecure-no-auth)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := h.Serve(ctx, ln, *drain); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("stopped")
	return nil
}
