// Package client is the Go client of the golem function host (golem serve), for
// scripts, CI and notebook cells.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("GOLEM_API_KEY"))
//	err := c.Deploy("upper", source, api.Limits{TimeoutMS: 5000})
//	var out struct{ Upper string }
//	err = c.Call("upper", map[string]any{"text": "hi"}, &out)
//	id, err := c.Submit("upper", map[string]any{"text": "hi"}, nil)
//	job, err := c.Wait(id, time.Minute)
//
// It has no generic functions, so the yaegi interpreter can export it to cells.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions/api"
)

// Client talks to one function host.
type Client struct {
	URL  string // base URL, e.g. http://127.0.0.1:8080
	Key  string // API key (bearer token); empty for a host run with --insecure-no-auth
	HTTP *http.Client
}

// New returns a client for the host at url with an API key.
func New(url, key string) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), Key: key, HTTP: &http.Client{Timeout: 10 * time.Minute}}
}

// FromEnv returns a client for $GOLEM_URL (default http://127.0.0.1:8080) with key
// $GOLEM_API_KEY.
func FromEnv() *Client {
	u := os.Getenv("GOLEM_URL")
	if u == "" {
		u = "http://127.0.0.1:8080"
	}
	return New(u, os.Getenv("GOLEM_API_KEY"))
}

// Error is a non-2xx answer from the host.
type Error struct {
	Status int
	Body   api.Error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("golem host: %d %s: %s", e.Status, http.StatusText(e.Status), e.Body.Error)
	if e.Body.Field != "" {
		s += " (field " + e.Body.Field + ")"
	}
	return s
}

// do sends a request and decodes a JSON answer into out (when non-nil).
func (c *Client) do(method, path string, body io.Reader, ctype string, hdr map[string]string, out any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, c.URL+path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, &e.Body) != nil || e.Body.Error == "" {
			e.Body.Error = strings.TrimSpace(string(data))
		}
		return resp, e
	}
	switch o := out.(type) {
	case nil:
	case *[]byte:
		*o = data
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return resp, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp, nil
}

func encode(in any) (io.Reader, error) {
	switch v := in.(type) {
	case nil:
		return nil, nil
	case []byte:
		return bytes.NewReader(v), nil
	case json.RawMessage:
		return bytes.NewReader(v), nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	return bytes.NewReader(b), nil
}

// Deploy deploys Go source as function name. A compile error comes back as an
// *Error with Status 400 and the compiler's message.
func (c *Client) Deploy(name, source string, limits api.Limits) (*api.Function, error) {
	return c.DeployRequest(name, api.DeployRequest{Source: source, Limits: limits})
}

// DeployRequest deploys with every option (entry point, strict input).
func (c *Client) DeployRequest(name string, req api.DeployRequest) (*api.Function, error) {
	body, _ := json.Marshal(req)
	var f api.Function
	if _, err := c.do(http.MethodPut, "/functions/"+url.PathEscape(name), bytes.NewReader(body), "application/json", nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// DeployFile deploys the Go source in a file.
func (c *Client) DeployFile(name, path string, limits api.Limits) (*api.Function, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read function source %s: %w", path, err)
	}
	return c.Deploy(name, string(src), limits)
}

// Function returns a function's description (with its source).
func (c *Client) Function(name string) (*api.Function, error) {
	var f api.Function
	if _, err := c.do(http.MethodGet, "/functions/"+url.PathEscape(name), nil, "", nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Functions lists the host's functions.
func (c *Client) Functions() ([]api.Function, error) {
	var l api.FunctionList
	if _, err := c.do(http.MethodGet, "/functions", nil, "", nil, &l); err != nil {
		return nil, err
	}
	return l.Functions, nil
}

// Remove deletes a deployed function.
func (c *Client) Remove(name string) error {
	_, err := c.do(http.MethodDelete, "/functions/"+url.PathEscape(name), nil, "", nil, nil)
	return err
}

// SetSecret sets a secret of a deployed function (an admin key's right). Only
// the function's own workers see it, through fn.Secret(name).
func (c *Client) SetSecret(function, name, value string) error {
	_, err := c.do(http.MethodPut, "/functions/"+url.PathEscape(function)+"/secrets/"+url.PathEscape(name), strings.NewReader(value), "application/octet-stream", nil, nil)
	return err
}

// RemoveSecret removes a secret of a function.
func (c *Client) RemoveSecret(function, name string) error {
	_, err := c.do(http.MethodDelete, "/functions/"+url.PathEscape(function)+"/secrets/"+url.PathEscape(name), nil, "", nil, nil)
	return err
}

// Secrets lists the names of a function's secrets.
func (c *Client) Secrets(function string) ([]string, error) {
	var out struct {
		Secrets []string `json:"secrets"`
	}
	_, err := c.do(http.MethodGet, "/functions/"+url.PathEscape(function)+"/secrets", nil, "", nil, &out)
	return out.Secrets, err
}

// Call calls a function synchronously. in is encoded as JSON ([]byte and
// json.RawMessage are sent as they are); the result is decoded into out, which may
// be a *[]byte for the raw JSON or nil to drop it.
func (c *Client) Call(name string, in, out any) error {
	body, err := encode(in)
	if err != nil {
		return err
	}
	_, err = c.do(http.MethodPost, "/functions/"+url.PathEscape(name), body, "application/json", nil, out)
	return err
}

// SubmitOptions are the optional parts of a job submission.
type SubmitOptions struct {
	IdempotencyKey string // the same key for the same function gives the same job
	CallbackURL    string // POSTed the finished job
}

// Submit queues a job and returns its id. opts may be nil.
func (c *Client) Submit(name string, in any, opts *SubmitOptions) (string, error) {
	s, err := c.SubmitJob(name, in, opts)
	if err != nil {
		return "", err
	}
	return s.ID, nil
}

// SubmitJob is Submit returning the whole answer (replayed or not).
func (c *Client) SubmitJob(name string, in any, opts *SubmitOptions) (*api.Submitted, error) {
	body, err := encode(in)
	if err != nil {
		return nil, err
	}
	hdr := map[string]string{}
	if opts != nil {
		hdr["Idempotency-Key"] = opts.IdempotencyKey
		hdr["X-Callback-Url"] = opts.CallbackURL
	}
	var s api.Submitted
	if _, err := c.do(http.MethodPost, "/jobs/"+url.PathEscape(name), body, "application/json", hdr, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Job returns a job's state.
func (c *Client) Job(id string) (*api.Job, error) {
	var j api.Job
	if _, err := c.do(http.MethodGet, "/jobs/"+url.PathEscape(id), nil, "", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Wait polls a job until it finishes or timeout passes (0: no limit), and returns
// its last state. A job that failed is returned without error: check Status.
func (c *Client) Wait(id string, timeout time.Duration) (*api.Job, error) {
	return c.WaitProgress(id, timeout, nil)
}

// WaitProgress is Wait calling progress with each new state (e.g. to draw a bar).
func (c *Client) WaitProgress(id string, timeout time.Duration, progress func(*api.Job)) (*api.Job, error) {
	deadline := time.Now().Add(timeout)
	delay := 20 * time.Millisecond
	for {
		j, err := c.Job(id)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(j)
		}
		if api.Terminal(j.Status) {
			return j, nil
		}
		if timeout > 0 && time.Now().After(deadline) {
			return j, fmt.Errorf("job %s still %s after %s", id, j.Status, timeout)
		}
		time.Sleep(delay)
		if delay < 500*time.Millisecond {
			delay = delay * 3 / 2
		}
	}
}

// Cancel cancels a job and returns its state.
func (c *Client) Cancel(id string) (*api.Job, error) {
	var j api.Job
	if _, err := c.do(http.MethodDelete, "/jobs/"+url.PathEscape(id), nil, "", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Logs returns what a job's function printed.
func (c *Client) Logs(id string) (string, error) {
	var b []byte
	if _, err := c.do(http.MethodGet, "/jobs/"+url.PathEscape(id)+"/logs", nil, "", nil, &b); err != nil {
		return "", err
	}
	return string(b), nil
}

// Ready reports whether the host takes more calls (false at its in-flight limit).
func (c *Client) Ready() (bool, error) {
	_, err := c.do(http.MethodGet, "/_/ready", nil, "", nil, nil)
	var e *Error
	if errors.As(err, &e) && (e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable) {
		return false, nil
	}
	return err == nil, err
}

// LimitsFromFlags is a helper for CLIs: limits from string values ("" = default).
func LimitsFromFlags(timeout time.Duration, memoryMB, concurrency, attempts string) (api.Limits, error) {
	var l api.Limits
	l.TimeoutMS = timeout.Milliseconds()
	for _, p := range []struct {
		name, v string
		dst     *int64
	}{{"memory", memoryMB, &l.MemoryMB}} {
		if p.v != "" {
			n, err := strconv.ParseInt(p.v, 10, 64)
			if err != nil {
				return l, fmt.Errorf("--%s %q: not an integer", p.name, p.v)
			}
			*p.dst = n
		}
	}
	for _, p := range []struct {
		name, v string
		dst     *int
	}{{"concurrency", concurrency, &l.Concurrency}, {"attempts", attempts, &l.MaxAttempts}} {
		if p.v != "" {
			n, err := strconv.Atoi(p.v)
			if err != nil {
				return l, fmt.Errorf("--%s %q: not an integer", p.name, p.v)
			}
			*p.dst = n
		}
	}
	return l, nil
}
