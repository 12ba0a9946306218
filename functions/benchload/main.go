// Command benchload measures the golem function host under a bounded loopback load
// and prints `bench:` lines (make bench-functions).
//
// It starts a host in-process (embedded NATS in a temporary directory; this binary
// re-executes itself as the worker), and for each case runs the same closed-loop
// load — C clients, each sending its next request when the last one answered, for a
// fixed time — against the host and against a bare net/http handler that calls the
// same code in-process, with no auth, limits, metrics or process boundary. ratio =
// host requests/s ÷ bare requests/s (above 1 the host is faster; expect below 1: it
// is the price of what the host adds).
//
// Cases: tokenize (the built-in, cl100k_base, a 2 KB paragraph of Tom Sawyer) and
// upper (the deployed user function in functions/testdata/upper.go, run by yaegi in a
// worker process, against the same Go compiled into this binary). The tokenize
// endpoint is also compared with peer_flask.py: the function process of an OpenFaaS
// python3-http function (Flask on waitress) calling tiktoken.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/builtin"
	"github.com/golem-lm/golem/functions/client"
	"github.com/golem-lm/golem/functions/sandbox"
	"github.com/golem-lm/golem/functions/worker"
	"github.com/golem-lm/golem/internal/assets"
)

const key = "bench-key-0123456789"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker.RunProcess(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	dur := flag.Duration("duration", 5*time.Second, "load time per case and side")
	conc := flag.Int("concurrency", 8, "concurrent clients")
	workers := flag.Int("workers", 2, "host worker processes")
	upperSrc := flag.String("upper", "functions/testdata/upper.go", "source of the deployed function")
	python := flag.String("python", ".venv/bin/python", "Python with tiktoken, flask and waitress for the peer (empty: skip it)")
	only := flag.String("only", "", "run only this part: sandbox (the cost of the workers' sandbox)")
	flag.Parse()
	var err error
	if *only == "sandbox" {
		err = sandboxCost(*dur, *conc, *workers, *upperSrc)
	} else {
		err = run(*dur, *conc, *workers, *upperSrc, *python)
		if err == nil {
			err = sandboxCost(*dur, *conc, *workers, *upperSrc)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

// benchHost starts an in-process host on a loopback port.
func benchHost(cfg functions.Config) (string, func(), error) {
	dir, err := os.MkdirTemp("", "golem-bench-")
	if err != nil {
		return "", nil, err
	}
	cfg.DataDir, cfg.APIKeys, cfg.MaxInflight = dir, []string{key}, 1024
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := functions.New(cfg)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln, 5*time.Second) }()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}

// sandboxCost measures what the workers' sandbox (bubblewrap, cgroups, seccomp)
// costs against unconfined workers (--sandbox none), side by side: requests/s of
// the deployed function on warm workers, and a cold start: the first call of a
// function when the host's only worker serves another one (the idle worker is
// killed, a new one started, bound, the source compiled, the call made).
func sandboxCost(dur time.Duration, conc, workers int, upperSrc string) error {
	src, err := os.ReadFile(upperSrc)
	if err != nil {
		return fmt.Errorf("read %s: %w", upperSrc, err)
	}
	text, err := paragraph()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(upperInput{Text: text})
	rps := map[string]float64{}
	cold := map[string]time.Duration{}
	// "bwrap" gets a CPU quota of every core, so that it differs from "none" only
	// by the sandbox; "bwrap-1cpu" is the default quota of one core per worker.
	for _, mode := range []string{sandbox.ModeBwrap, sandbox.ModeNone, "bwrap-1cpu"} {
		sc := sandbox.Config{Mode: mode, CPUs: float64(runtime.NumCPU())}
		if mode == "bwrap-1cpu" {
			sc = sandbox.Config{Mode: sandbox.ModeBwrap, CPUs: 1}
		}
		url, stop, err := benchHost(functions.Config{Workers: workers, Sandbox: sc})
		if err != nil {
			return err
		}
		c := client.New(url, key)
		if _, err := c.Deploy("upper", string(src), api.Limits{}); err != nil {
			stop()
			return err
		}
		if _, err := load(url+"/functions/upper", body, conc, 300*time.Millisecond); err != nil {
			stop()
			return err
		}
		r, err := load(url+"/functions/upper", body, conc, dur)
		stop()
		if err != nil {
			return err
		}
		rps[mode] = r.rps
		if mode == "bwrap-1cpu" {
			continue
		}

		url, stop, err = benchHost(functions.Config{Workers: 1, Sandbox: sc})
		if err != nil {
			return err
		}
		c = client.New(url, key)
		for _, n := range []string{"one", "two"} {
			if _, err := c.Deploy(n, string(src), api.Limits{}); err != nil {
				stop()
				return err
			}
		}
		var times []time.Duration
		for i := 0; i < 21; i++ {
			n := []string{"one", "two"}[i%2]
			start := time.Now()
			if err := c.Call(n, upperInput{Text: "cold"}, nil); err != nil {
				stop()
				return err
			}
			if i > 0 { // the first call found a prewarmed worker
				times = append(times, time.Since(start))
			}
		}
		stop()
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		cold[mode] = times[len(times)/2]
	}
	fmt.Printf("bench: sandbox_upper_rps bwrap=%.0f none=%.0f ratio=%.2f\n", rps["bwrap"], rps["none"], rps["bwrap"]/rps["none"])
	fmt.Printf("bench: sandbox_upper_rps_cpu_quota_1 bwrap_1cpu=%.0f none=%.0f ratio=%.2f\n", rps["bwrap-1cpu"], rps["none"], rps["bwrap-1cpu"]/rps["none"])
	fmt.Printf("bench: sandbox_cold_start_ms bwrap=%.1f none=%.1f ratio=%.2f\n", ms(cold["bwrap"]), ms(cold["none"]), float64(cold["none"])/float64(cold["bwrap"]))
	return nil
}

func run(dur time.Duration, conc, workers int, upperSrc, python string) error {
	text, err := paragraph()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "golem-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h, err := functions.New(functions.Config{DataDir: dir, APIKeys: []string{key}, Workers: workers, MaxInflight: 1024,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln, 5*time.Second) }()
	defer func() { cancel(); <-done }()
	hostURL := "http://" + ln.Addr().String()

	src, err := os.ReadFile(upperSrc)
	if err != nil {
		return fmt.Errorf("read %s: %w", upperSrc, err)
	}
	if _, err := client.New(hostURL, key).Deploy("upper", string(src), api.Limits{}); err != nil {
		return err
	}

	// The bare baseline: the same code behind a plain handler.
	bare := http.NewServeMux()
	bare.HandleFunc("POST /tokenize", func(w http.ResponseWriter, r *http.Request) {
		var in builtin.TokenizeInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		out, err := builtin.Tokenize(r.Context(), &in)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	bare.HandleFunc("POST /upper", func(w http.ResponseWriter, r *http.Request) {
		var in upperInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		_ = json.NewEncoder(w).Encode(upperOutput{Upper: strings.ToUpper(in.Text), Words: len(strings.Fields(in.Text))})
	})
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bsrv := &http.Server{Handler: bare}
	go bsrv.Serve(bln)
	defer bsrv.Close()
	bareURL := "http://" + bln.Addr().String()

	tokBody, _ := json.Marshal(builtin.TokenizeInput{Encoding: "cl100k_base", Text: text})
	fmt.Printf("load: %d clients, %s per side, host with %d workers, %d-byte input\n", conc, dur, workers, len(text))
	if python != "" {
		peerURL, stop, err := startPeer(python)
		if err != nil {
			return err
		}
		defer stop()
		if err := checkSame(hostURL+"/functions/tokenize", peerURL, tokBody); err != nil {
			return err
		}
		if _, err := load(hostURL+"/functions/tokenize", tokBody, conc, 300*time.Millisecond); err != nil {
			return err
		}
		if _, err := load(peerURL, tokBody, conc, 300*time.Millisecond); err != nil {
			return err
		}
		g, err := load(hostURL+"/functions/tokenize", tokBody, conc, dur)
		if err != nil {
			return err
		}
		p, err := load(peerURL, tokBody, conc, dur)
		if err != nil {
			return err
		}
		fmt.Printf("bench: tokenize_rps golem=%.0f flask_tiktoken=%.0f ratio=%.2f\n", g.rps, p.rps, g.rps/p.rps)
		fmt.Printf("bench: tokenize_p50_ms golem=%.3f flask_tiktoken=%.3f ratio=%.2f\n", ms(g.p50), ms(p.p50), float64(p.p50)/float64(g.p50))
		fmt.Printf("bench: tokenize_p99_ms golem=%.3f flask_tiktoken=%.3f ratio=%.2f\n", ms(g.p99), ms(p.p99), float64(p.p99)/float64(g.p99))
	}
	upBody, _ := json.Marshal(upperInput{Text: text})
	for _, c := range []struct {
		name, hostPath, barePath string
		body                     []byte
	}{
		{"tokenize", "/functions/tokenize", "/tokenize", tokBody},
		{"upper_deployed", "/functions/upper", "/upper", upBody},
	} {
		// Warm up both (vocabulary load, worker compile).
		if _, err := load(hostURL+c.hostPath, c.body, conc, 300*time.Millisecond); err != nil {
			return err
		}
		if _, err := load(bareURL+c.barePath, c.body, conc, 300*time.Millisecond); err != nil {
			return err
		}
		g, err := load(hostURL+c.hostPath, c.body, conc, dur)
		if err != nil {
			return err
		}
		b, err := load(bareURL+c.barePath, c.body, conc, dur)
		if err != nil {
			return err
		}
		fmt.Printf("bench: %s_rps golem=%.0f bare_go=%.0f ratio=%.2f\n", c.name, g.rps, b.rps, g.rps/b.rps)
		fmt.Printf("bench: %s_p50_ms golem=%.3f bare_go=%.3f ratio=%.2f\n", c.name, ms(g.p50), ms(b.p50), float64(b.p50)/float64(g.p50))
		fmt.Printf("bench: %s_p99_ms golem=%.3f bare_go=%.3f ratio=%.2f\n", c.name, ms(g.p99), ms(b.p99), float64(b.p99)/float64(g.p99))
	}
	return nil
}

type upperInput struct {
	Text    string `json:"text"`
	Steps   int    `json:"steps"`
	SleepMS int    `json:"sleep_ms"`
	Fail    bool   `json:"fail"`
}

type upperOutput struct {
	Upper string `json:"upper"`
	Words int    `json:"words"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// paragraph is about 2 KB of Tom Sawyer (Opticks if the module is missing).
func paragraph() (string, error) {
	path, err := assets.TomSawyer()
	if err != nil {
		if path, err = assets.Opticks(); err != nil {
			return "", err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(b)
	if len(s) > 22000 {
		s = s[20000:22000]
	}
	return strings.ToValidUTF8(s, ""), nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
}

// load runs a closed loop of conc clients for dur and measures every request.
func load(url string, body []byte, conc int, dur time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	end := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(end) {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("%s: status %d", url, resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, firstErr
	}
	if len(lat) == 0 {
		return result{}, fmt.Errorf("%s: no request finished", url)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{rps: float64(len(lat)) / elapsed.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}, nil
}

// startPeer runs peer_flask.py on a free loopback port and waits until it is ready.
func startPeer(python string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(python, "functions/benchload/peer_flask.py", fmt.Sprint(port))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start the Flask peer with %s: %w", python, err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		stop()
		return "", nil, fmt.Errorf("the Flask peer did not start (%q, %v); make peers installs it", line, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for i := 0; i < 100; i++ {
		if resp, err := http.Post(url, "application/json", strings.NewReader(`{"text":"x"}`)); err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("the Flask peer on %s does not answer", url)
}

// checkSame makes sure both sides return the same tokens before timing them.
func checkSame(a, b string, body []byte) error {
	var outs [2]struct {
		Tokens []int `json:"tokens"`
	}
	for i, url := range []string{a, b} {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		err = json.NewDecoder(resp.Body).Decode(&outs[i])
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
	}
	if len(outs[0].Tokens) == 0 || fmt.Sprint(outs[0].Tokens) != fmt.Sprint(outs[1].Tokens) {
		return fmt.Errorf("golem and the peer disagree: %d vs %d tokens", len(outs[0].Tokens), len(outs[1].Tokens))
	}
	return nil
}
