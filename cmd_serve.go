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
	"github.com/golem-lm/golem/functions/worker"
)

func init() {
	register(command{name: "serve", summary: "run the function host (HTTP API, jobs on NATS JetStream)", run: runServe})
	register(command{name: "worker", summary: "run one function worker process (started by golem serve)", run: func(args []string) error {
		return worker.RunProcess()
	}})
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
	fs.Var(&keys, "api-key", "accepted API key (bearer token); repeat for several; also GOLEM_API_KEYS=k1,k2")
	noAuth := fs.Bool("insecure-no-auth", false, "serve without API keys (local experiments only)")
	workers := fs.Int("workers", 0, "worker processes (concurrent user-function calls and jobs); default GOMAXPROCS")
	maxBody := fs.Int64("max-body", 8<<20, "request body limit in bytes (413 beyond)")
	maxInflight := fs.Int("max-inflight", 64, "concurrent calls before /_/ready and new calls answer 429")
	ackWait := fs.Duration("ack-wait", 30*time.Second, "how long a job may go without a heartbeat before another host takes it")
	timeout := fs.Duration("timeout", time.Minute, "default function timeout")
	memory := fs.Int64("memory", 1024, "default worker memory limit in MiB")
	attempts := fs.Int("attempts", 3, "default attempts of a job before it is dead-lettered")
	drain := fs.Duration("drain", 30*time.Second, "how long SIGTERM waits for running sync calls")
	models := fs.String("models", "", "directory of checkpoints (one per subdirectory) the built-in generate serves by name; default DATA/models")
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
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	h, err := functions.New(functions.Config{DataDir: *data, NatsURL: *natsURL, APIKeys: keys, NoAuth: *noAuth,
		Workers: *workers, MaxBodyBytes: *maxBody, MaxInflight: *maxInflight, AckWait: *ackWait, Logger: logger, ModelsDir: *models,
		Defaults: api.Limits{TimeoutMS: timeout.Milliseconds(), MemoryMB: *memory, MaxAttempts: *attempts}})
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
