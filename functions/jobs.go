package functions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	errJobCancelled = errors.New("job cancelled")
	errShutdown     = errors.New("host shutting down")
	errNoChange     = errors.New("no change")
)

// jobMsg is the payload of a job message on the work queue.
type jobMsg struct {
	ID       string          `json:"id"`
	Function string          `json:"function"`
	Input    json.RawMessage `json:"input,omitempty"`
}

// idemRecord is what an idempotency key maps to: the job and the SHA-256 of the
// request body that made it.
type idemRecord struct {
	ID   string `json:"id"`
	Body string `json:"body_sha256"`
}

// SubmitOptions are the optional parts of a job submission.
type SubmitOptions struct {
	IdempotencyKey string
	CallbackURL    string
}

// Submit queues a job. With an idempotency key already used for this function it
// returns the earlier job's id with Replayed set.
func (h *Host) Submit(ctx context.Context, name string, input []byte, opt SubmitOptions) (api.Submitted, error) {
	f, b, err := h.lookup(ctx, name)
	if err != nil {
		return api.Submitted{}, err
	}
	if opt.CallbackURL != "" {
		u, err := url.Parse(opt.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return api.Submitted{}, &CallError{Kind: api.KindInput, Field: "X-Callback-Url", Msg: fmt.Sprintf("X-Callback-Url %q is not an absolute http(s) URL", opt.CallbackURL)}
		}
	}
	if len(opt.IdempotencyKey) > 256 {
		return api.Submitted{}, &CallError{Kind: api.KindInput, Field: "Idempotency-Key", Msg: "Idempotency-Key is longer than 256 characters"}
	}
	if err := h.check(ctx, f, b, input); err != nil {
		return api.Submitted{}, err
	}
	id := newID()
	replayed := false
	if opt.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(name + "\x00" + opt.IdempotencyKey))
		key := hex.EncodeToString(sum[:])
		body := sha256.Sum256(input)
		rec, _ := json.Marshal(idemRecord{ID: id, Body: hex.EncodeToString(body[:])})
		if _, err := h.idem.Create(ctx, key, rec); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return api.Submitted{}, fmt.Errorf("record idempotency key: %w", err)
			}
			e, err := h.idem.Get(ctx, key)
			if err != nil {
				return api.Submitted{}, fmt.Errorf("read idempotency key: %w", err)
			}
			var old idemRecord
			if json.Unmarshal(e.Value(), &old) != nil {
				old = idemRecord{ID: string(e.Value())} // a record of an older host: the id alone
			}
			if old.Body != "" && old.Body != hex.EncodeToString(body[:]) {
				return api.Submitted{}, &CallError{Kind: api.KindIdempotency, Field: "Idempotency-Key",
					Msg: fmt.Sprintf("Idempotency-Key %q was used for job %s with a different request body; send the same body to get that job again, or use a new key for a new job", opt.IdempotencyKey, old.ID)}
			}
			id, replayed = old.ID, true
			if j, err := h.Job(ctx, id); err == nil {
				return api.Submitted{ID: id, Status: j.Status, Replayed: true}, nil
			}
			// The earlier submission stopped before it stored the job: finish it now.
		}
	}
	now := time.Now().UTC()
	j := api.Job{ID: id, Function: name, Status: api.StatusQueued, MaxAttempts: f.Limits.MaxAttempts,
		IdempotencyKey: opt.IdempotencyKey, CallbackURL: opt.CallbackURL, Created: now, Updated: now}
	rec, _ := json.Marshal(j)
	if _, err := h.jobs.Create(ctx, id, rec); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return api.Submitted{}, fmt.Errorf("store job %s: %w", id, err)
	}
	payload, _ := json.Marshal(jobMsg{ID: id, Function: name, Input: input})
	// The message id makes a re-publish after a crash a no-op within the dedupe window.
	if _, err := h.js.Publish(ctx, jobSubject+name, payload, jetstream.WithMsgID(id)); err != nil {
		return api.Submitted{}, fmt.Errorf("queue job %s: %w", id, err)
	}
	h.metrics.jobs.WithLabelValues(name, "submitted").Inc()
	return api.Submitted{ID: id, Status: api.StatusQueued, Replayed: replayed}, nil
}

// Job returns a job's state.
func (h *Host) Job(ctx context.Context, id string) (api.Job, error) {
	if !validJobID(id) {
		return api.Job{}, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("no job %q", id)}
	}
	e, err := h.jobs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return api.Job{}, &CallError{Kind: api.KindNotFound, Msg: fmt.Sprintf("no job %q", id)}
	}
	if err != nil {
		return api.Job{}, fmt.Errorf("read job %s: %w", id, err)
	}
	var j api.Job
	if err := json.Unmarshal(e.Value(), &j); err != nil {
		return api.Job{}, fmt.Errorf("decode job %s: %w", id, err)
	}
	return j, nil
}

func validJobID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// updateJob applies change to the stored job with optimistic concurrency, retrying
// on conflicts. change returns errNoChange to leave the record as it is.
func (h *Host) updateJob(ctx context.Context, id string, change func(*api.Job) error) (api.Job, error) {
	for {
		e, err := h.jobs.Get(ctx, id)
		if err != nil {
			return api.Job{}, err
		}
		var j api.Job
		if err := json.Unmarshal(e.Value(), &j); err != nil {
			return api.Job{}, fmt.Errorf("decode job %s: %w", id, err)
		}
		if err := change(&j); err != nil {
			if errors.Is(err, errNoChange) {
				return j, nil
			}
			return j, err
		}
		j.Updated = time.Now().UTC()
		b, _ := json.Marshal(j)
		if _, err := h.jobs.Update(ctx, id, b, e.Revision()); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || strings.Contains(err.Error(), "wrong last sequence") {
				continue // a concurrent update: read again
			}
			return j, fmt.Errorf("update job %s: %w", id, err)
		}
		return j, nil
	}
}

// Cancel stops a queued or running job. Cancelling a finished job is an error of
// kind "limit" (409).
func (h *Host) Cancel(ctx context.Context, id string) (api.Job, error) {
	if _, err := h.Job(ctx, id); err != nil {
		return api.Job{}, err
	}
	var already bool
	j, err := h.updateJob(ctx, id, func(j *api.Job) error {
		if api.Terminal(j.Status) {
			already = true
			return errNoChange
		}
		now := time.Now().UTC()
		j.Status, j.Finished, j.Error, j.ErrorKind = api.StatusCancelled, &now, "cancelled by request", api.KindCanceled
		return nil
	})
	if err != nil {
		return j, err
	}
	if already {
		return j, &CallError{Kind: api.KindConflict, Msg: fmt.Sprintf("job %s already finished (%s)", id, j.Status)}
	}
	_ = h.nc.Publish(cancelSubj, []byte(id))
	h.metrics.jobs.WithLabelValues(j.Function, api.StatusCancelled).Inc()
	h.notify(j)
	return j, nil
}

// Logs returns the lines a job's function printed, in order.
func (h *Host) Logs(ctx context.Context, id string) ([]string, error) {
	if _, err := h.Job(ctx, id); err != nil {
		return nil, err
	}
	cons, err := h.js.OrderedConsumer(ctx, logStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{logSubject + id}})
	if err != nil {
		return nil, fmt.Errorf("read logs of %s: %w", id, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read logs of %s: %w", id, err)
	}
	pending := int(info.NumPending)
	lines := make([]string, 0, pending)
	for len(lines) < pending {
		batch, err := cons.Fetch(min(pending-len(lines), 1000), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return lines, fmt.Errorf("read logs of %s: %w", id, err)
		}
		n := 0
		for m := range batch.Messages() {
			lines = append(lines, string(m.Data()))
			n++
		}
		if n == 0 {
			break
		}
	}
	return lines, nil
}

// StartJobs starts taking jobs from the work queue: one runner per worker.
func (h *Host) StartJobs() {
	ctx, cancel := context.WithCancelCause(context.Background())
	h.stopJobs = cancel
	for i := 0; i < h.cfg.Workers; i++ {
		h.jobsDone.Add(1)
		go func() {
			defer h.jobsDone.Done()
			for ctx.Err() == nil {
				msg, err := h.cons.Next(jetstream.FetchMaxWait(time.Second))
				if err != nil {
					if !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
						time.Sleep(200 * time.Millisecond)
					}
					continue
				}
				h.runJob(ctx, msg)
			}
		}()
	}
}

// StopJobs stops taking jobs, kills the running ones and hands them back to
// JetStream (nak) so another host, or this one after a restart, runs them.
func (h *Host) StopJobs() {
	if h.stopJobs == nil {
		return
	}
	h.stopJobs(errShutdown)
	h.jobsDone.Wait()
}

func (h *Host) runJob(parent context.Context, msg jetstream.Msg) {
	var m jobMsg
	if err := json.Unmarshal(msg.Data(), &m); err != nil || !validJobID(m.ID) {
		h.log.Error("dropping malformed job message", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		_ = msg.Nak()
		return
	}
	seq := meta.Sequence.Stream
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := context.AfterFunc(parent, func() { cancel(context.Cause(parent)) })
	defer stop()
	h.runMu.Lock()
	h.running[m.ID] = cancel
	h.runMu.Unlock()
	defer func() {
		h.runMu.Lock()
		delete(h.running, m.ID)
		h.runMu.Unlock()
	}()

	// Heartbeat: keep the message ours while we work on it.
	hbDone := make(chan struct{})
	defer close(hbDone)
	go func() {
		t := time.NewTicker(h.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-hbDone:
				return
			}
		}
	}()

	bg := context.Background()
	var skip, dead bool
	j, err := h.updateJob(bg, m.ID, func(j *api.Job) error {
		skip, dead = false, false
		if api.Terminal(j.Status) {
			skip = true
			return errNoChange
		}
		if j.Status == api.StatusRunning && j.Seq != 0 && j.Seq != seq {
			skip = true // a duplicate message for a job another message runs
			return errNoChange
		}
		now := time.Now().UTC()
		if j.Attempts >= j.MaxAttempts {
			dead = true
			j.Status, j.Finished = api.StatusDead, &now
			j.Error = fmt.Sprintf("gave up after %d attempts; last error: %s", j.Attempts, orNone(j.Error))
			return nil
		}
		j.Status, j.Attempts, j.Seq, j.Host, j.Started = api.StatusRunning, j.Attempts+1, seq, h.cfg.HostID, &now
		j.Progress, j.Note = 0, ""
		return nil
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		h.log.Warn("job message without a job record; dropping", "job", m.ID)
		_ = msg.Term()
		return
	}
	if err != nil {
		h.log.Error("claim job", "job", m.ID, "err", err)
		_ = msg.NakWithDelay(time.Second)
		return
	}
	if skip {
		_ = msg.Ack()
		return
	}
	if dead {
		h.deadLetter(j)
		_ = msg.Term()
		return
	}

	out, runErr := h.runAttempt(ctx, m, msg)
	now := time.Now().UTC()
	var ce *CallError
	errors.As(runErr, &ce)
	if runErr == nil && len(out) > h.maxResult() {
		runErr = &CallError{Kind: api.KindLimit, Msg: fmt.Sprintf("result of %d bytes is larger than the %d bytes a job record holds", len(out), h.maxResult())}
		errors.As(runErr, &ce)
	}
	switch {
	case runErr == nil:
		j, err = h.finish(m.ID, func(j *api.Job) {
			j.Status, j.Result, j.Progress, j.Note, j.Error, j.ErrorKind = api.StatusSucceeded, out, 1, "done", "", ""
		})
		if err == nil {
			_ = msg.DoubleAck(bg)
		}
	case errors.Is(context.Cause(ctx), errShutdown):
		// Hand the job back without counting this attempt.
		_, _ = h.updateJob(bg, m.ID, func(j *api.Job) error {
			if api.Terminal(j.Status) {
				return errNoChange
			}
			j.Status, j.Note = api.StatusQueued, "requeued: host "+h.cfg.HostID+" shut down"
			if j.Attempts > 0 {
				j.Attempts--
			}
			return nil
		})
		_ = msg.Nak()
		return
	case errors.Is(context.Cause(ctx), errJobCancelled) || (ce != nil && ce.Kind == api.KindCanceled):
		_ = msg.Ack() // Cancel already stored the state
		return
	case ce != nil && retryable(ce.Kind):
		j, err = h.updateJob(bg, m.ID, func(j *api.Job) error {
			if api.Terminal(j.Status) {
				return errNoChange
			}
			j.Error, j.ErrorKind = ce.Msg, ce.Kind
			if j.Attempts >= j.MaxAttempts {
				j.Status, j.Finished = api.StatusDead, &now
				j.Error = fmt.Sprintf("gave up after %d attempts; last error: %s", j.Attempts, ce.Msg)
				return nil
			}
			j.Status = api.StatusQueued
			return nil
		})
		if err == nil && j.Status == api.StatusDead {
			h.deadLetter(j)
			_ = msg.Term()
			return
		}
		_ = msg.NakWithDelay(retryDelay(j.Attempts))
		return
	default:
		kind, text := api.KindInternal, runErr.Error()
		if ce != nil {
			kind = ce.Kind
		}
		j, err = h.finish(m.ID, func(j *api.Job) {
			j.Status, j.Error, j.ErrorKind = api.StatusFailed, text, kind
		})
		if err == nil {
			_ = msg.DoubleAck(bg)
		}
	}
	if err != nil {
		if !errors.Is(err, errNoChange) {
			h.log.Error("store job result", "job", m.ID, "err", err)
			_ = msg.NakWithDelay(time.Second)
		} else {
			_ = msg.Ack()
		}
		return
	}
	h.metrics.jobs.WithLabelValues(j.Function, j.Status).Inc()
	h.notify(j)
}

// retryDelay is the backoff before a job's next attempt after attempts failed
// ones: 0.5 s, 1 s, 2 s, ... up to a minute. (A host that died while running the
// job hands it back only after AckWait, which is its own backoff.)
func retryDelay(attempts int) time.Duration {
	d := 500 * time.Millisecond
	for i := 1; i < attempts && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

func orNone(s string) string {
	if s == "" {
		return "none recorded (the host running it stopped)"
	}
	return s
}

// finish stores a terminal state unless the job already has one (errNoChange).
func (h *Host) finish(id string, set func(*api.Job)) (api.Job, error) {
	var was bool
	j, err := h.updateJob(context.Background(), id, func(j *api.Job) error {
		if api.Terminal(j.Status) {
			was = true
			return errNoChange
		}
		now := time.Now().UTC()
		j.Finished = &now
		set(j)
		return nil
	})
	if err == nil && was {
		return j, errNoChange
	}
	return j, err
}

// runAttempt runs the function of one job message once.
func (h *Host) runAttempt(ctx context.Context, m jobMsg, msg jetstream.Msg) (json.RawMessage, error) {
	f, b, err := h.lookup(ctx, m.Function)
	if err != nil {
		return nil, err
	}
	release, err := h.acquire(ctx, m.Function, f.Limits.Concurrency, true)
	if err != nil {
		return nil, err
	}
	defer release()
	h.inflight.Add(1)
	defer h.inflight.Add(-1)
	var mu sync.Mutex
	var last time.Time
	progress := func(frac float64, note string) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 100*time.Millisecond && frac < 1 {
			return
		}
		last = time.Now()
		_ = msg.InProgress()
		_, _ = h.updateJob(context.Background(), m.ID, func(j *api.Job) error {
			if j.Status != api.StatusRunning {
				return errNoChange
			}
			j.Progress, j.Note = frac, note
			return nil
		})
	}
	logs := func(line string) { _ = h.nc.Publish(logSubject+m.ID, []byte(line)) }
	start := time.Now()
	out, err := h.invoke(ctx, f, b, m.Input, progress, logs)
	h.metrics.observe(m.Function, "job", err, time.Since(start))
	_ = h.nc.Flush()
	return out, err
}

// deadLetter records a job that kept failing on the dead-letter stream.
func (h *Host) deadLetter(j api.Job) {
	rec, _ := json.Marshal(j)
	if _, err := h.js.Publish(context.Background(), dlqSubject+j.Function, rec); err != nil {
		h.log.Error("dead-letter record", "job", j.ID, "err", err)
	}
	h.metrics.jobs.WithLabelValues(j.Function, api.StatusDead).Inc()
	h.notify(j)
}

// notify sends the job's callback in the background (tracked, so Close waits
// for callbacks under way).
func (h *Host) notify(j api.Job) {
	if j.CallbackURL == "" {
		return
	}
	h.callbacks.Add(1)
	go func() {
		defer h.callbacks.Done()
		h.callback(j)
	}()
}

// callback POSTs the finished job to its X-Callback-Url, retrying a few times.
func (h *Host) callback(j api.Job) {
	if j.CallbackURL == "" {
		return
	}
	body, _ := json.Marshal(j)
	client := &http.Client{Timeout: h.cfg.CallbackTimeout}
	delay := 200 * time.Millisecond
	for attempt := 1; attempt <= 4; attempt++ {
		req, err := http.NewRequest(http.MethodPost, j.CallbackURL, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Call-Id", j.ID)
		req.Header.Set("X-Job-Status", j.Status)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				h.metrics.callbacks.WithLabelValues("ok").Inc()
				return
			}
			if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
				break // the receiver refused it; retrying will not help
			}
		}
		time.Sleep(delay)
		delay *= 3
	}
	h.metrics.callbacks.WithLabelValues("failed").Inc()
	h.log.Warn("callback failed", "job", j.ID, "url", j.CallbackURL)
}

// DeadLetters returns up to max dead-letter records, oldest first.
func (h *Host) DeadLetters(ctx context.Context, max int) ([]api.Job, error) {
	cons, err := h.js.OrderedConsumer(ctx, dlqStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	n := min(int(info.NumPending), max)
	var out []api.Job
	if n == 0 {
		return out, nil
	}
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	for m := range batch.Messages() {
		var j api.Job
		if err := json.Unmarshal(m.Data(), &j); err == nil {
			out = append(out, j)
		}
	}
	return out, nil
}

// maxResult is the largest result a job record stores: NATS's message limit less
// room for the rest of the record.
func (h *Host) maxResult() int {
	return int(h.nc.MaxPayload()) - 64<<10
}
