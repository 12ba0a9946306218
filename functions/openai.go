package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/models"
	"github.com/golem-lm/golem/lmlib/eval"
)

// The OpenAI completions API over the host's models (--models), the convention of
// model servers (vLLM, llama.cpp's server): what the openai client and
// lm-evaluation-harness's local-completions model speak. /v1/... takes the model
// in the body; /models/{model}/... is one model's API, with vLLM's tokenizer
// endpoints (tokenizer_info, tokenize, detokenize) beside it, which lm-eval uses
// to tokenize exactly as the model does (its "remote" tokenizer). Every route needs
// a key that may invoke the built-in generate; errors have OpenAI's shape.

// endOfText is the end-of-text token's text, as GPT-2's vocabulary spells it.
const endOfText = "<|endoftext|>"

// openAIError is the body of an error answer, as OpenAI sends it.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// openAIRoute reports whether a path belongs to the OpenAI-style API (whose errors
// take OpenAI's shape).
func openAIRoute(path string) bool {
	return strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/models/")
}

func writeOpenAIError(w http.ResponseWriter, code int, msg, param string) {
	var e openAIError
	e.Error.Message = msg
	switch code {
	case http.StatusUnauthorized:
		e.Error.Type = "authentication_error"
	case http.StatusForbidden:
		e.Error.Type = "permission_error"
	case http.StatusNotFound:
		e.Error.Type = "not_found_error"
	case http.StatusTooManyRequests:
		e.Error.Type = "rate_limit_error"
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
		e.Error.Type = "invalid_request_error"
	default:
		e.Error.Type = "server_error"
	}
	if param != "" {
		e.Error.Param = &param
	}
	writeJSON(w, code, e)
}

// openAIFail answers err in OpenAI's shape.
func openAIFail(w http.ResponseWriter, err error) {
	code, body := statusOf(err)
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeOpenAIError(w, code, body.Error, body.Field)
}

func badRequest(param, format string, args ...any) error {
	return &CallError{Kind: api.KindInput, Field: param, Msg: fmt.Sprintf(format, args...)}
}

// requireModels wraps a handler of the OpenAI API: it needs invoke rights on the
// built-in generate, which it is in another dress.
func requireModels(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := principalOf(r.Context()); !p.canInvoke("generate") {
			openAIFail(w, forbidden(p, "use the models", ScopeInvoke+":generate"))
			return
		}
		next(w, r)
	}
}

// loadModel loads the model a request names; a missing or bad name is a 404 or
// 400 on the param "model".
func (h *Host) loadModel(name string) (*models.Model, error) {
	if name == "" {
		return nil, badRequest("model", "model is required (GET /v1/models lists them)")
	}
	m, err := h.models.Load(name)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, &CallError{Kind: api.KindNotFound, Field: "model", Msg: fmt.Sprintf("the model %q does not exist (GET /v1/models lists them)", name)}
	case errors.Is(err, models.ErrBadName):
		return nil, badRequest("model", "%v", err)
	}
	return m, err
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// MaxModelLen is the model's context (vLLM's field).
	MaxModelLen int `json:"max_model_len,omitempty"`
}

func (h *Host) listModels(w http.ResponseWriter, r *http.Request) {
	names, err := h.models.List(r.Context())
	if err != nil {
		openAIFail(w, err)
		return
	}
	data := []modelObject{}
	for _, n := range names {
		data = append(data, modelObject{ID: n, Object: "model", Created: h.models.Created(n), OwnedBy: "golem"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (h *Host) getModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	m, err := h.loadModel(name)
	if err != nil {
		openAIFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, modelObject{ID: name, Object: "model", Created: h.models.Created(name), OwnedBy: "golem", MaxModelLen: m.GPT.ContextLen()})
}

// encodeWithEOT tokenizes text, reading the end-of-text token's spelling as that
// token (as vLLM's /tokenize does with special tokens).
func encodeWithEOT(tok eval.Tokenizer, text string) []int {
	var out []int
	for i, part := range strings.Split(text, endOfText) {
		if i > 0 {
			out = append(out, tok.EOT())
		}
		out = append(out, tok.EncodeOrdinary(part)...)
	}
	return out
}

func (h *Host) tokenizerInfo(w http.ResponseWriter, r *http.Request) {
	m, err := h.loadModel(r.PathValue("model"))
	if err != nil {
		openAIFail(w, err)
		return
	}
	class := "golem-chars"
	if _, ok := eval.BPEOf(m.Tok); ok {
		class = "golem-bpe"
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokenizer_class": class, "eos_token": endOfText, "bos_token": endOfText,
		"pad_token": nil, "model_max_length": m.GPT.ContextLen(), "vocab_size": m.GPT.VocabSize()})
}

// decodeStrict decodes a JSON body, naming the field at fault.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(te.Field, "%s: JSON %s does not fit %s", te.Field, te.Value, te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = strings.Trim(f, `"`)
			return badRequest(f, "%s is not a parameter of this request", f)
		}
		return badRequest("", "the body is not valid JSON: %v", err)
	}
	return nil
}

// modelRequest reads the JSON body of a request to /models/{model}/... into req
// and loads the model; false means it answered (an error).
func (h *Host) modelRequest(w http.ResponseWriter, r *http.Request, req any) (*models.Model, bool) {
	body, ok := h.readBody(w, r)
	if !ok {
		return nil, false
	}
	if err := decodeStrict(body, req); err != nil {
		openAIFail(w, err)
		return nil, false
	}
	m, err := h.loadModel(r.PathValue("model"))
	if err != nil {
		openAIFail(w, err)
		return nil, false
	}
	return m, true
}

func (h *Host) tokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model            string `json:"model"`
		Prompt           string `json:"prompt"`
		AddSpecialTokens bool   `json:"add_special_tokens"`
	}
	m, ok := h.modelRequest(w, r, &req)
	if !ok {
		return
	}
	ids := encodeWithEOT(m.Tok, req.Prompt)
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ids, "count": len(ids), "max_model_len": m.GPT.ContextLen()})
}

func (h *Host) detokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model  string `json:"model"`
		Tokens []int  `json:"tokens"`
	}
	m, ok := h.modelRequest(w, r, &req)
	if !ok {
		return
	}
	for i, t := range req.Tokens {
		if t < 0 || t >= m.GPT.VocabSize() {
			openAIFail(w, badRequest("tokens", "tokens[%d] = %d is outside the vocabulary [0,%d)", i, t, m.GPT.VocabSize()))
			return
		}
	}
	var b strings.Builder
	start := 0
	for i, t := range req.Tokens {
		if t == m.Tok.EOT() {
			b.WriteString(m.Tok.DecodeText(req.Tokens[start:i]))
			b.WriteString(endOfText)
			start = i + 1
		}
	}
	b.WriteString(m.Tok.DecodeText(req.Tokens[start:]))
	writeJSON(w, http.StatusOK, map[string]any{"prompt": b.String()})
}

// completionRequest is the body of POST /v1/completions. Pointers tell a missing
// parameter (OpenAI's default) from a zero.
type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	MaxTokens     *int            `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	N             *int            `json:"n"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Logprobs         *int               `json:"logprobs"`
	Echo             bool               `json:"echo"`
	Stop             json.RawMessage    `json:"stop"`
	Seed             *int64             `json:"seed"`
	User             string             `json:"user"`
	PresencePenalty  float64            `json:"presence_penalty"`
	FrequencyPenalty float64            `json:"frequency_penalty"`
	BestOf           *int               `json:"best_of"`
	LogitBias        map[string]float64 `json:"logit_bias"`
	Suffix           string             `json:"suffix"`
	// Beyond OpenAI, as vLLM offers them.
	TopK              int     `json:"top_k"`
	RepetitionPenalty float64 `json:"repetition_penalty"`
	// BadWords are never generated (whole words, case-insensitive; vLLM's name).
	BadWords []string `json:"bad_words"`
}

// Limits of one completion request.
const (
	maxCompletionN       = 16
	maxCompletionPrompts = 256
	maxTopLogprobs       = 20
	maxBadWords          = 10000
)

// prompts reads the prompt parameter: a string, a list of strings, a list of
// token ids, or a list of lists of token ids.
func prompts(raw json.RawMessage, tok eval.Tokenizer) ([][]int32, error) {
	if len(raw) == 0 {
		return nil, badRequest("prompt", "prompt is required")
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return [][]int32{toIDs(encodeWithEOT(tok, one))}, nil
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		out := make([][]int32, len(strs))
		for i, s := range strs {
			out[i] = toIDs(encodeWithEOT(tok, s))
		}
		return out, nil
	}
	var ids []int32
	if json.Unmarshal(raw, &ids) == nil {
		return [][]int32{ids}, nil
	}
	var lists [][]int32
	if json.Unmarshal(raw, &lists) == nil {
		return lists, nil
	}
	return nil, badRequest("prompt", "prompt must be a string, a list of strings, a list of token ids or a list of lists of token ids")
}

func toIDs(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// stops reads the stop parameter: a string or up to 4 strings (OpenAI's limit).
func stops(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("stop", "stop must be a string or a list of strings")
	}
	return list, nil
}

type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

type completionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

type completionUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *completionUsage   `json:"usage,omitempty"`
}

func logprobsOf(c *eval.Completion) *completionLogprobs {
	lp := &completionLogprobs{Tokens: []string{}, TokenLogprobs: []*float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, t := range c.Tokens {
		lp.Tokens = append(lp.Tokens, t.Text)
		lp.TokenLogprobs = append(lp.TokenLogprobs, t.Logprob)
		var top map[string]float64
		if t.Logprob != nil {
			top = map[string]float64{}
			for i := len(t.Top) - 1; i >= 0; i-- { // the most likely wins a shared spelling
				top[t.Top[i].Text] = t.Top[i].Logprob
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
		lp.TextOffset = append(lp.TextOffset, t.Offset)
	}
	return lp
}

// completionsFor serves /models/{model}/v1/completions: the body's model, if
// any, must be the path's.
func (h *Host) completionsFor(w http.ResponseWriter, r *http.Request) {
	h.serveCompletions(w, r, r.PathValue("model"))
}

func (h *Host) completions(w http.ResponseWriter, r *http.Request) { h.serveCompletions(w, r, "") }

func (h *Host) serveCompletions(w http.ResponseWriter, r *http.Request, pathModel string) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	var req completionRequest
	if err := decodeStrict(body, &req); err != nil {
		openAIFail(w, err)
		return
	}
	if pathModel != "" {
		if req.Model != "" && req.Model != pathModel {
			openAIFail(w, badRequest("model", "model %q in the body is not %q of the path", req.Model, pathModel))
			return
		}
		req.Model = pathModel
	}
	if err := h.checkCompletion(&req); err != nil {
		openAIFail(w, err)
		return
	}
	m, err := h.loadModel(req.Model)
	if err != nil {
		openAIFail(w, err)
		return
	}
	ps, err := prompts(req.Prompt, m.Tok)
	if err != nil {
		openAIFail(w, err)
		return
	}
	if len(ps) == 0 || len(ps) > maxCompletionPrompts {
		openAIFail(w, badRequest("prompt", "%d prompts; give 1 to %d", len(ps), maxCompletionPrompts))
		return
	}
	stop, err := stops(req.Stop)
	if err != nil {
		openAIFail(w, err)
		return
	}
	if n := h.inflight.Add(1); n > int64(h.cfg.MaxInflight) {
		h.inflight.Add(-1)
		openAIFail(w, &CallError{Kind: api.KindLimit, Msg: fmt.Sprintf("host is at its in-flight limit (%d calls)", h.cfg.MaxInflight)})
		return
	}
	defer h.inflight.Add(-1)
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(h.cfg.Defaults.TimeoutMS)*time.Millisecond)
	defer cancel()

	resp := completionResponse{ID: "cmpl-" + newID(), Object: "text_completion", Created: time.Now().Unix(), Model: req.Model}
	usage := completionUsage{}
	var stream *sseWriter
	if req.Stream {
		if stream = newSSE(w); stream == nil {
			openAIFail(w, errors.New("streaming is not possible on this connection"))
			return
		}
	}
	start := time.Now()
	var banned *eval.WordList
	if len(req.BadWords) > 0 {
		var err error
		if banned, err = eval.NewWordList("bad_words", req.BadWords); err != nil {
			openAIFail(w, badRequest("bad_words", "%v", err))
			return
		}
	}
	m.Mu.Lock()
	defer m.Mu.Unlock()
	n := *req.N
	for pi, p := range ps {
		for k := 0; k < n; k++ {
			index := pi*n + k
			sampler := eval.Sampler{Temperature: *req.Temperature, TopP: *req.TopP, TopK: req.TopK, RepetitionPenalty: req.RepetitionPenalty}
			if req.Seed != nil {
				sampler.Seed = uint64(*req.Seed) + uint64(index)
			} else {
				sampler.Seed = uint64(time.Now().UnixNano()) + uint64(index)
			}
			cr := eval.CompletionRequest{Prompt: p, MaxTokens: *req.MaxTokens, Stop: stop, Sampler: sampler, Echo: req.Echo, Context: ctx, BadWords: banned}
			if req.Logprobs != nil {
				cr.TopLogprobs = *req.Logprobs
			}
			if stream != nil {
				if req.Echo {
					stream.chunk(resp, completionChoice{Text: m.Tok.DecodeText(toInts(p)), Index: index})
				}
				cr.OnText = func(piece string) { stream.chunk(resp, completionChoice{Text: piece, Index: index}) }
			}
			c, err := eval.Complete(m.GPT, m.Tok, cr)
			if err != nil {
				h.metrics.observe("completions", "sync", err, time.Since(start))
				if ctx.Err() != nil {
					err = &CallError{Kind: api.KindTimeout, Msg: fmt.Sprintf("timeout: the completion ran longer than %s (golem serve --timeout)", time.Duration(h.cfg.Defaults.TimeoutMS)*time.Millisecond)}
				} else {
					err = badRequest("prompt", "prompt %d: %v", pi, err)
				}
				if stream != nil {
					stream.fail(err)
				} else {
					openAIFail(w, err)
				}
				return
			}
			usage.CompletionTokens += c.CompletionTokens
			finish := c.FinishReason
			choice := completionChoice{Text: c.Text, Index: index, FinishReason: &finish}
			if req.Logprobs != nil {
				choice.Logprobs = logprobsOf(c)
			}
			if stream != nil {
				stream.chunk(resp, completionChoice{Index: index, FinishReason: &finish, Logprobs: choice.Logprobs})
			} else {
				resp.Choices = append(resp.Choices, choice)
			}
		}
		usage.PromptTokens += len(p)
	}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	h.metrics.observe("completions", "sync", nil, time.Since(start))
	if stream != nil {
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			final := resp
			final.Choices = []completionChoice{}
			final.Usage = &usage
			stream.event(final)
		}
		stream.done()
		return
	}
	resp.Usage = &usage
	writeJSON(w, http.StatusOK, resp)
}

// checkCompletion fills OpenAI's defaults and refuses what golem does not offer.
func (h *Host) checkCompletion(req *completionRequest) error {
	def := func(p **int, v int) {
		if *p == nil {
			*p = &v
		}
	}
	deff := func(p **float64, v float64) {
		if *p == nil {
			*p = &v
		}
	}
	def(&req.MaxTokens, 16)
	def(&req.N, 1)
	deff(&req.Temperature, 1)
	deff(&req.TopP, 1)
	switch {
	case *req.MaxTokens < 0:
		return badRequest("max_tokens", "max_tokens %d must be >= 0", *req.MaxTokens)
	case *req.MaxTokens == 0 && !req.Echo:
		return badRequest("max_tokens", "max_tokens 0 generates nothing; it is allowed only with echo (to score the prompt)")
	case *req.N < 1 || *req.N > maxCompletionN:
		return badRequest("n", "n %d must be in [1, %d]", *req.N, maxCompletionN)
	case *req.Temperature < 0 || *req.Temperature > 2:
		return badRequest("temperature", "temperature %v must be in [0, 2]", *req.Temperature)
	case *req.TopP <= 0 || *req.TopP > 1:
		return badRequest("top_p", "top_p %v must be in (0, 1]", *req.TopP)
	case req.Logprobs != nil && (*req.Logprobs < 0 || *req.Logprobs > maxTopLogprobs):
		return badRequest("logprobs", "logprobs %d must be in [0, %d]", *req.Logprobs, maxTopLogprobs)
	case req.TopK < 0:
		return badRequest("top_k", "top_k %d must be >= 0", req.TopK)
	case req.PresencePenalty != 0 || req.FrequencyPenalty != 0:
		return badRequest("presence_penalty", "presence_penalty and frequency_penalty are not supported by golem serve (repetition_penalty is)")
	case req.BestOf != nil && *req.BestOf != *req.N:
		return badRequest("best_of", "best_of is not supported by golem serve")
	case len(req.LogitBias) > 0:
		return badRequest("logit_bias", "logit_bias is not supported by golem serve")
	case req.Suffix != "":
		return badRequest("suffix", "suffix (insertion) is not supported by golem serve")
	case len(req.BadWords) > maxBadWords:
		return badRequest("bad_words", "bad_words has %d entries; at most %d", len(req.BadWords), maxBadWords)
	case req.Stream && req.Echo && req.Logprobs != nil:
		return badRequest("stream", "stream with echo and logprobs is not supported: ask without stream")
	}
	if len(req.Stop) > 0 {
		s, err := stops(req.Stop)
		if err != nil {
			return err
		}
		if len(s) > 4 {
			return badRequest("stop", "at most 4 stop sequences, got %d", len(s))
		}
	}
	return nil
}

func toInts(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// sseWriter writes server-sent events (the stream of a completion).
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sseWriter {
	f, ok := w.(http.Flusher)
	if !ok {
		return nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, f: f}
}

func (s *sseWriter) event(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	s.f.Flush()
}

func (s *sseWriter) chunk(resp completionResponse, c completionChoice) {
	resp.Choices = []completionChoice{c}
	s.event(resp)
}

// fail ends a stream with an error event (the status line is already sent).
func (s *sseWriter) fail(err error) {
	code, body := statusOf(err)
	var e openAIError
	e.Error.Message, e.Error.Type = body.Error, "server_error"
	if code < 500 {
		e.Error.Type = "invalid_request_error"
	}
	s.event(e)
	s.done()
}

func (s *sseWriter) done() {
	fmt.Fprint(s.w, "data: [DONE]\n\n")
	s.f.Flush()
}
