// Package api holds the JSON types of the golem function host's HTTP API. They are
// shared by the host (package functions), the Go client (functions/client) and the
// CLI, and kept free of heavy dependencies so a notebook cell can import them.
package api

import (
	"encoding/json"
	"time"
)

// Limits bound one function's calls. Zero fields take the host's defaults.
type Limits struct {
	// TimeoutMS is the wall-clock limit of one call or job attempt, in milliseconds.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// MemoryMB is the resident-memory limit of the worker process running the call.
	MemoryMB int64 `json:"memory_mb,omitempty"`
	// Concurrency is the most calls of this function one host runs at once
	// (sync calls and jobs together); a sync call over the limit gets 429.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxAttempts bounds how often a job is started when its worker crashes, times
	// out, runs out of memory or its host dies; after that it is dead-lettered.
	// An error returned by the function fails the job at once (no retry).
	MaxAttempts int `json:"max_attempts,omitempty"`
}

// DeployRequest is the JSON body of PUT /functions/{name}. A body that is not JSON
// (Content-Type other than application/json) is taken as the Go source itself, with
// the limits in query parameters.
type DeployRequest struct {
	Source string `json:"source"`
	// Entry is the name of the function to call; default "Handle".
	Entry  string `json:"entry,omitempty"`
	Limits Limits `json:"limits"`
	// Strict rejects input JSON with fields the input type does not have.
	Strict bool `json:"strict,omitempty"`
}

// Function describes a deployed or built-in function.
type Function struct {
	Name      string `json:"name"`
	Builtin   bool   `json:"builtin"`
	Summary   string `json:"summary,omitempty"`
	Entry     string `json:"entry,omitempty"`
	Signature string `json:"signature,omitempty"`
	// Dialect is the Go the source was compiled as: "notebook" (the kernel's
	// interpreter, shims included) or plain yaegi.
	Dialect string `json:"dialect,omitempty"`
	Limits  Limits `json:"limits"`
	// Secrets names the function's secrets (never their values).
	Secrets []string  `json:"secrets,omitempty"`
	Strict  bool      `json:"strict"`
	SHA256  string    `json:"sha256,omitempty"`
	Source  string    `json:"source,omitempty"`
	Created time.Time `json:"created,omitempty"`
	Updated time.Time `json:"updated,omitempty"`
}

// FunctionList is the body of GET /functions.
type FunctionList struct {
	Functions []Function `json:"functions"`
}

// Job states.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusDead      = "dead" // gave up after MaxAttempts; a dead-letter record exists
)

// Terminal reports whether a job in this state will not change any more.
func Terminal(status string) bool {
	switch status {
	case StatusSucceeded, StatusFailed, StatusCancelled, StatusDead:
		return true
	}
	return false
}

// Job is the state of an asynchronous call, the body of GET /jobs/{id}.
type Job struct {
	ID             string          `json:"id"`
	Function       string          `json:"function"`
	Status         string          `json:"status"`
	Progress       float64         `json:"progress"`
	Note           string          `json:"note,omitempty"`
	Result         json.RawMessage `json:"result,omitempty"`
	Error          string          `json:"error,omitempty"`
	ErrorKind      string          `json:"error_kind,omitempty"`
	Attempts       int             `json:"attempts"`
	MaxAttempts    int             `json:"max_attempts"`
	Host           string          `json:"host,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CallbackURL    string          `json:"callback_url,omitempty"`
	Created        time.Time       `json:"created"`
	Started        *time.Time      `json:"started,omitempty"`
	Finished       *time.Time      `json:"finished,omitempty"`
	Updated        time.Time       `json:"updated"`
	// Seq is the JetStream sequence of the message being run (internal bookkeeping).
	Seq uint64 `json:"seq,omitempty"`
}

// Error kinds reported in Error.Kind and Job.ErrorKind.
const (
	KindInput     = "input"   // the input JSON does not fit the function's input type
	KindCompile   = "compile" // the source does not compile
	KindUser      = "user"    // the function returned an error
	KindPanic     = "panic"   // the function panicked (in its own goroutine: recovered)
	KindCrash     = "crash"   // the worker process died (e.g. a panic in another goroutine)
	KindTimeout   = "timeout" // the call ran past its timeout; the worker was killed
	KindMemory    = "memory"  // the worker went over its memory limit and was killed
	KindCanceled  = "cancelled"
	KindLimit     = "limit" // concurrency or in-flight limit reached
	KindNotFound  = "not_found"
	KindAuth      = "auth"      // no key, or a wrong one (401)
	KindForbidden = "forbidden" // a valid key without the scope the request needs (403)
	KindConflict  = "conflict"  // the job already finished (409)
	// KindIdempotency: an Idempotency-Key reused with another request body (422).
	KindIdempotency = "idempotency_conflict"
	KindInternal    = "internal"
)

// Error is the JSON body of every error response.
type Error struct {
	Error string `json:"error"`
	Kind  string `json:"kind,omitempty"`
	// Field names the input field at fault, for Kind "input" where known.
	Field string `json:"field,omitempty"`
}

// Submitted is the body of a 202 answer to POST /jobs/{name}.
type Submitted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Replayed is true when the Idempotency-Key matched an earlier submission.
	Replayed bool `json:"replayed,omitempty"`
}
