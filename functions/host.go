// Package functions is the golem function host behind `golem serve`: plain Go
// functions with JSON input and output served over HTTP, as synchronous calls and as
// asynchronous jobs on NATS JetStream.
//
// Two kinds of function are served. Built-ins are lmlib stages compiled into the
// binary (tokenize, ...). User functions are deployed as Go source
// (PUT /functions/{name}) and interpreted by yaegi in worker processes, so a new
// function needs no rebuild and a bad one cannot take the host down. A function has
// one of the shapes
//
//	func Handle(in Input) (Output, error)
//	func Handle(ctx context.Context, in Input) (Output, error)
//
// (the input, the context, the result and the error are each optional), where Input
// and Output are JSON-encodable types.
//
// Jobs, function definitions, idempotency keys, logs and dead letters live in NATS
// JetStream: an embedded server with its store in the data directory by default, or
// an external NATS shared by several hosts.
package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/models"
	"github.com/golem-lm/golem/functions/sandbox"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a Host. The zero value of each field is a sensible default,
// except that APIKeys must be set unless NoAuth is true.
type Config struct {
	// DataDir holds the embedded NATS JetStream store. Default "golem-data".
	DataDir string
	// NatsURL connects to an external NATS (with JetStream) instead of starting one.
	NatsURL string
	// APIKeys are accepted bearer tokens with the admin scope (--api-key,
	// GOLEM_API_KEYS).
	APIKeys []string
	// Keys are accepted keys with their scopes (a key file: ReadKeyFile).
	Keys []Key
	// NoAuth serves without API keys (for local experiments only).
	NoAuth bool
	// Sandbox confines the worker processes; default bubblewrap with cgroups
	// (package sandbox). Mode "none" runs them unconfined.
	Sandbox sandbox.Config
	// Ceilings are the most a deployed function may ask for; a deploy above them is
	// refused (400) and a function deployed before a ceiling was lowered runs at the
	// ceiling. Defaults: 15 min timeout, 8192 MiB memory, 10 attempts, concurrency
	// MaxInflight.
	Ceilings api.Limits
	// Workers is the number of worker processes, and so the number of user-function
	// calls and jobs this host runs at once. Default GOMAXPROCS.
	Workers int
	// MaxBodyBytes limits request bodies (413 beyond). Default 8 MiB.
	MaxBodyBytes int64
	// MaxInflight limits concurrent calls; at the limit /_/ready and new sync calls
	// answer 429. Default 64.
	MaxInflight int
	// AckWait is how long a job may go without a heartbeat before JetStream hands it
	// to another host. Running jobs heartbeat every AckWait/3. Default 30s.
	AckWait time.Duration
	// Defaults are the limits of functions that set none. Defaults: 60 s timeout,
	// 1024 MiB memory, concurrency = MaxInflight (calls queue for a free worker),
	// 3 attempts.
	Defaults api.Limits
	// WorkerCommand starts a worker process; default: this binary with "worker".
	WorkerCommand []string
	// WorkerEnv is added to the workers' environment.
	WorkerEnv []string
	// HostID names this host in job records; default hostname-pid.
	HostID string
	// CallbackTimeout bounds one callback POST. Default 10s.
	CallbackTimeout time.Duration
	// ModelsDir holds checkpoint directories the built-in "generate" serves by name
	// (and a local copy of models other hosts trained). Default DataDir/models.
	ModelsDir string
	// FilesDir is the only directory built-ins that work on files (clean-task) may
	// read and write: request paths are relative to it and may not leave it (no
	// absolute paths, no "..", no symbolic link out of it). "" refuses such calls.
	FilesDir string
	// Logger receives the host's log; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) fill() error {
	if !c.NoAuth && len(c.APIKeys) == 0 && len(c.Keys) == 0 {
		return errors.New("no API key: pass --keys FILE (golem keys new makes one), --api-key KEY (or set GOLEM_API_KEYS=key1,key2), or --insecure-no-auth to serve without authentication")
	}
	for i, k := range c.APIKeys {
		if len(k) < 16 {
			return fmt.Errorf("API key %d is %d characters; use at least 16 (golem keys new makes a random one)", i+1, len(k))
		}
	}
	for _, k := range c.Keys {
		if err := checkScopes(k.Scopes); err != nil {
			return fmt.Errorf("key %s: %w", k.Name, err)
		}
	}
	if c.DataDir == "" {
		c.DataDir = "golem-data"
	}
	if c.ModelsDir == "" {
		c.ModelsDir = filepath.Join(c.DataDir, "models")
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = 64
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.Defaults.TimeoutMS <= 0 {
		c.Defaults.TimeoutMS = 60_000
	}
	if c.Defaults.MemoryMB <= 0 {
		c.Defaults.MemoryMB = 1024
	}
	if c.Defaults.Concurrency <= 0 {
		c.Defaults.Concurrency = c.MaxInflight // calls beyond the workers wait for one
	}
	if c.Defaults.MaxAttempts <= 0 {
		c.Defaults.MaxAttempts = 3
	}
	if c.Ceilings.TimeoutMS <= 0 {
		c.Ceilings.TimeoutMS = 15 * 60_000
	}
	if c.Ceilings.MemoryMB <= 0 {
		c.Ceilings.MemoryMB = 8192
	}
	if c.Ceilings.MaxAttempts <= 0 {
		c.Ceilings.MaxAttempts = 10
	}
	if c.Ceilings.Concurrency <= 0 {
		c.Ceilings.Concurrency = c.MaxInflight
	}
	d, cl := c.Defaults, c.Ceilings
	switch {
	case d.TimeoutMS > cl.TimeoutMS:
		return fmt.Errorf("default timeout %s is above the ceiling %s (--max-timeout)", time.Duration(d.TimeoutMS)*time.Millisecond, time.Duration(cl.TimeoutMS)*time.Millisecond)
	case d.MemoryMB > cl.MemoryMB:
		return fmt.Errorf("default memory %d MiB is above the ceiling %d MiB (--max-memory)", d.MemoryMB, cl.MemoryMB)
	case d.MaxAttempts > cl.MaxAttempts:
		return fmt.Errorf("default attempts %d is above the ceiling %d (--max-attempts)", d.MaxAttempts, cl.MaxAttempts)
	case d.Concurrency > cl.Concurrency:
		c.Defaults.Concurrency = cl.Concurrency
	}
	if c.HostID == "" {
		h, _ := os.Hostname()
		c.HostID = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if c.CallbackTimeout <= 0 {
		c.CallbackTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.FilesDir != "" {
		abs, err := filepath.Abs(c.FilesDir)
		if err != nil {
			return fmt.Errorf("files directory %s: %w", c.FilesDir, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return fmt.Errorf("files directory %s: %w", c.FilesDir, err)
		}
		if st, err := os.Stat(real); err != nil || !st.IsDir() {
			return fmt.Errorf("files directory %s is not a directory", c.FilesDir)
		}
		c.FilesDir = real
	}
	return nil
}

// auxMemoryMB is the memory of the worker that compiles deploys and checks job
// inputs.
const auxMemoryMB = 2048

// Host serves functions over HTTP and runs jobs.
type Host struct {
	cfg     Config
	log     *slog.Logger
	ns      *server.Server // embedded NATS, nil with an external one
	nc      *nats.Conn
	js      jetstream.JetStream
	jobs    jetstream.KeyValue // job id -> api.Job
	idem    jetstream.KeyValue // hashed idempotency key -> job id
	fns     jetstream.KeyValue // function name -> stored spec
	cons    jetstream.Consumer
	pool    *pool // runs calls and jobs
	aux     *pool // compiles deploys and checks job inputs, so they never wait behind jobs
	metrics *metrics
	sb      *sandbox.Sandbox
	secrets jetstream.KeyValue // "function.secret" -> value

	keys       []Key
	principals []*principal // of keys, same order

	inflight atomic.Int64
	limMu    sync.Mutex
	limits   map[string]chan struct{} // per-function concurrency

	fnMu    sync.RWMutex
	fnCache map[string]*cachedFunction

	runMu   sync.Mutex
	running map[string]context.CancelCauseFunc // job id -> cancel

	models *models.Store // checkpoints for generate (and what train makes)

	callbacks sync.WaitGroup

	stopJobs  context.CancelCauseFunc
	jobsDone  sync.WaitGroup
	cancelSub *nats.Subscription
	closeOnce sync.Once
}

// Stream, bucket and subject names in JetStream.
const (
	jobStream    = "GOLEM_JOBS"
	jobSubject   = "golem.jobs." // + function name
	consumerName = "golem-workers"
	logStream    = "GOLEM_LOGS"
	logSubject   = "golem.logs." // + job id
	dlqStream    = "GOLEM_DLQ"
	dlqSubject   = "golem.dlq." // + function name
	cancelSubj   = "golem.cancel"
	jobsBucket   = "golem_jobs"
	idemBucket   = "golem_idempotency"
	fnBucket     = "golem_functions"
	secretBucket = "golem_secrets"
	modelBucket  = "golem_models"
)

// New starts (or connects to) NATS, sets up the streams and buckets, and starts the
// worker processes. Call Close when done.
func New(cfg Config) (*Host, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, log: cfg.Logger, limits: map[string]chan struct{}{}, fnCache: map[string]*cachedFunction{},
		running: map[string]context.CancelCauseFunc{}}
	for i, k := range cfg.APIKeys {
		h.keys = append(h.keys, AdminKey(fmt.Sprintf("api-key-%d", i+1), k))
	}
	h.keys = append(h.keys, cfg.Keys...)
	for _, k := range h.keys {
		h.principals = append(h.principals, newPrincipal(k))
	}
	h.metrics = newMetrics(h)
	sb, err := sandbox.New(cfg.Sandbox)
	if err != nil {
		return nil, err
	}
	h.sb = sb
	h.log.Info("function workers sandbox: "+sb.Describe(), "mode", sb.Mode())
	for _, w := range sb.Warnings() {
		h.log.Warn("sandbox: " + w)
	}
	if sb.Mode() == sandbox.ModeNone {
		h.log.Warn("functions run WITHOUT a sandbox (--sandbox none): deployed code has the host's rights")
	}
	if err := h.connect(); err != nil {
		h.Close()
		return nil, err
	}
	p, err := newPool(cfg.Workers, cfg.WorkerCommand, cfg.WorkerEnv, sb, cfg.Defaults.MemoryMB, h.metrics.workerEvent)
	if err != nil {
		h.Close()
		return nil, err
	}
	h.pool = p
	if h.aux, err = newPool(1, cfg.WorkerCommand, cfg.WorkerEnv, sb, auxMemoryMB, h.metrics.workerEvent); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

func (h *Host) connect() error {
	opts := []nats.Option{nats.Name("golem-serve " + h.cfg.HostID), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	var err error
	if h.cfg.NatsURL == "" {
		dir := filepath.Join(h.cfg.DataDir, "nats")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create data directory %s: %w", dir, err)
		}
		ns, err := server.NewServer(&server.Options{JetStream: true, StoreDir: dir, DontListen: true, ServerName: "golem-embedded",
			NoSigs: true, MaxPayload: int32(max(8<<20, h.cfg.MaxBodyBytes+1<<20)), JetStreamMaxStore: 0})
		if err != nil {
			return fmt.Errorf("embedded NATS in %s: %w", dir, err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return fmt.Errorf("embedded NATS in %s did not start", dir)
		}
		h.ns = ns
		opts = append(opts, nats.InProcessServer(ns))
		h.nc, err = nats.Connect("", opts...)
	} else {
		h.nc, err = nats.Connect(h.cfg.NatsURL, opts...)
	}
	if err != nil {
		return fmt.Errorf("connect to NATS %s: %w", h.cfg.NatsURL, err)
	}
	js, err := jetstream.New(h.nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	if mp := h.nc.MaxPayload(); mp < h.cfg.MaxBodyBytes+64<<10 {
		h.log.Warn("NATS max_payload is smaller than the request body limit: large job inputs will fail to queue; raise max_payload on the server or lower --max-body",
			"max_payload", mp, "max_body", h.cfg.MaxBodyBytes)
	}
	h.js = js
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: jobStream, Subjects: []string{jobSubject + ">"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute}); err != nil {
		return fmt.Errorf("create stream %s: %w", jobStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: logStream, Subjects: []string{logSubject + "*"},
		Storage: jetstream.FileStorage, MaxAge: 7 * 24 * time.Hour, MaxMsgsPerSubject: 10000}); err != nil {
		return fmt.Errorf("create stream %s: %w", logStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: dlqStream, Subjects: []string{dlqSubject + ">"},
		Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("create stream %s: %w", dlqStream, err)
	}
	if h.jobs, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: jobsBucket, Storage: jetstream.FileStorage, MaxValueSize: int32(h.nc.MaxPayload())}); err != nil {
		return fmt.Errorf("create bucket %s: %w", jobsBucket, err)
	}
	if h.idem, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: idemBucket, Storage: jetstream.FileStorage, TTL: 24 * time.Hour}); err != nil {
		return fmt.Errorf("create bucket %s: %w", idemBucket, err)
	}
	if h.fns, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fnBucket, Storage: jetstream.FileStorage, History: 5}); err != nil {
		return fmt.Errorf("create bucket %s: %w", fnBucket, err)
	}
	if h.secrets, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: secretBucket, Storage: jetstream.FileStorage, History: 1}); err != nil {
		return fmt.Errorf("create bucket %s: %w", secretBucket, err)
	}
	objs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: modelBucket, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("create object store %s: %w", modelBucket, err)
	}
	h.models = models.NewStore(h.cfg.ModelsDir, objs)
	if h.cons, err = js.CreateOrUpdateConsumer(ctx, jobStream, jetstream.ConsumerConfig{Durable: consumerName,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: h.cfg.AckWait, MaxDeliver: -1, MaxAckPending: 10000}); err != nil {
		return fmt.Errorf("create consumer %s: %w", consumerName, err)
	}
	h.cancelSub, err = h.nc.Subscribe(cancelSubj, func(m *nats.Msg) {
		h.runMu.Lock()
		cancel := h.running[string(m.Data)]
		h.runMu.Unlock()
		if cancel != nil {
			cancel(errJobCancelled)
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", cancelSubj, err)
	}
	return nil
}

// Serve serves HTTP on ln and runs jobs until ctx is cancelled, then shuts down
// gracefully: it stops accepting, drains running sync calls (up to drain), hands
// unfinished jobs back to JetStream and closes the host.
func (h *Host) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	h.StartJobs()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	h.log.Info("golem serve listening", "addr", ln.Addr().String(), "host", h.cfg.HostID, "workers", h.cfg.Workers, "nats", h.natsDesc())
	select {
	case err := <-errc:
		h.Close()
		return err
	case <-ctx.Done():
	}
	h.log.Info("shutting down: draining calls, requeueing jobs")
	// Stop accepting and drain sync calls while the jobs go back to the queue.
	jobsStopped := make(chan struct{})
	go func() { h.StopJobs(); close(jobsStopped) }()
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-jobsStopped
	h.Close()
	return err
}

func (h *Host) natsDesc() string {
	if h.ns != nil {
		return "embedded, store " + filepath.Join(h.cfg.DataDir, "nats")
	}
	return h.cfg.NatsURL
}

// Close stops the workers and NATS. Running jobs are not acknowledged, so JetStream
// hands them out again after AckWait; call StopJobs first to requeue them at once.
func (h *Host) Close() {
	h.closeOnce.Do(func() {
		if h.stopJobs != nil {
			h.StopJobs()
		}
		waitTimeout(&h.callbacks, h.cfg.CallbackTimeout)
		if h.pool != nil {
			h.pool.close()
		}
		if h.aux != nil {
			h.aux.close()
		}
		if h.sb != nil {
			h.sb.Close()
		}
		if h.cancelSub != nil {
			_ = h.cancelSub.Unsubscribe()
		}
		if h.nc != nil {
			_ = h.nc.Drain()
			h.nc.Close()
		}
		if h.ns != nil {
			h.ns.Shutdown()
			h.ns.WaitForShutdown()
		}
	})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
